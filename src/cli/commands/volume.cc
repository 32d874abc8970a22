// berth volume create|ls|inspect|rm|prune, as docker prints them.

#include <cstdio>

#include "cli/cli.h"
#include "cli/commands/container_util.h"
#include "cli/format/units.h"

namespace berth::cli {
namespace {

// "k=v" flags as a JSON object (a bare "k" is "k": "").
Json KeyValues(const std::vector<std::string>& kvs) {
  Json o = Json::object();
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    o[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return o;
}

Result<int> Create(Env& env) {
  static const FlagSpec spec = {"volume create [OPTIONS] [VOLUME]",
                                {},
                                {{"-d", "driver"},
                                 {"--driver", "driver"},
                                 {"--label", "label"},
                                 {"-o", "opt"},
                                 {"--opt", "opt"},
                                 {"--name", "name"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 0, 1));
  std::string name = f.Get("name");
  if (!f.args.empty()) {
    if (!name.empty() && name != f.args[0])
      return Error::Internal(
          "conflicting options: either specify --name or provide positional arg, not both");
    name = f.args[0];
  }
  Json body = {{"Name", name},
               {"Driver", f.Has("driver") ? f.Get("driver") : "local"},
               {"DriverOpts", KeyValues(f.All("opt"))},
               {"Labels", KeyValues(f.All("label"))}};
  std::string r = BERTH_TRY(Call(*env.client, "POST", "/volumes/create", body.dump(),
                                 {{"Content-Type", "application/json"}}));
  Json v = Json::parse(r, nullptr, false);
  std::printf("%s\n", Str(v, "Name").c_str());
  return 0;
}

Result<int> Ls(Env& env) {
  static const FlagSpec spec = {"volume ls [OPTIONS]",
                                {{"-q", "quiet"}, {"--quiet", "quiet"}},
                                {{"-f", "filter"}, {"--filter", "filter"}, {"--format", "format"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 0, 0));
  std::string filters = BERTH_TRY(FiltersJson(f.All("filter")));
  std::string path = "/volumes";
  if (!filters.empty()) path += "?filters=" + QueryEscape(filters);
  Json list = BERTH_TRY(GetJsonValue(*env.client, path));
  std::vector<Json> vols;
  if (list.is_object() && list.contains("Volumes") && list["Volumes"].is_array())
    for (const auto& v : list["Volumes"]) vols.push_back(v);
  // docker sorts by name
  std::sort(vols.begin(), vols.end(),
            [](const Json& a, const Json& b) { return Str(a, "Name") < Str(b, "Name"); });
  std::vector<Json> rows, hidden;
  for (const auto& v : vols) {
    std::string labels;
    Json label_map = v.contains("Labels") && v["Labels"].is_object() ? v["Labels"] : Json::object();
    for (auto it = label_map.begin(); it != label_map.end(); ++it)
      labels += (labels.empty() ? "" : ",") + it.key() + "=" +
                (it->is_string() ? it->get<std::string>() : it->dump());
    std::string size = "N/A";
    if (v.contains("UsageData") && v["UsageData"].is_object() && Int(v["UsageData"], "Size") >= 0)
      size = HumanSize(static_cast<double>(Int(v["UsageData"], "Size")));
    rows.push_back({{"Availability", "N/A"},
                    {"Driver", Str(v, "Driver")},
                    {"Group", "N/A"},
                    {"Labels", labels},
                    {"Links", "N/A"},
                    {"Mountpoint", Str(v, "Mountpoint")},
                    {"Name", Str(v, "Name")},
                    {"Scope", Str(v, "Scope")},
                    {"Size", size},
                    {"Status", "N/A"}});
    hidden.push_back({{"Label", label_map}});
  }
  std::string format = f.On("quiet") ? "{{.Name}}" : f.Get("format");
  BERTH_TRY(
      PrintRows(format, "table {{.Driver}}\t{{.Name}}", {{"Name", "VOLUME NAME"}}, rows, hidden));
  return 0;
}

Result<int> Inspect(Env& env) {
  static const FlagSpec spec = {"volume inspect [OPTIONS] VOLUME [VOLUME...]",
                                {},
                                {{"-f", "format"}, {"--format", "format"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  return InspectObjects(env, f.args, {"volume"}, f.Get("format"), false, false);
}

Result<int> Rm(Env& env) {
  static const FlagSpec spec = {
      "volume rm [OPTIONS] VOLUME [VOLUME...]", {{"-f", "force"}, {"--force", "force"}}, {}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  std::string q = f.On("force") ? "?force=1" : "";
  return ForEachName(f.args, [&](const std::string& n) -> Result<void> {
    BERTH_TRY(Call(*env.client, "DELETE", "/volumes/" + QueryEscape(n) + q));
    return {};
  });
}

}  // namespace

// POST /volumes/prune; adds the "Deleted Volumes:" section to out and returns the bytes freed.
Result<int64_t> PruneVolumes(api::Client& client, const std::string& filters_json,
                             std::string& out) {
  std::string path = "/volumes/prune";
  if (!filters_json.empty()) path += "?filters=" + QueryEscape(filters_json);
  std::string r = BERTH_TRY(Call(client, "POST", path));
  Json j = Json::parse(r, nullptr, false);
  if (j.is_object() && j.contains("VolumesDeleted") && j["VolumesDeleted"].is_array() &&
      !j["VolumesDeleted"].empty()) {
    out += "Deleted Volumes:\n";
    for (const auto& v : j["VolumesDeleted"])
      if (v.is_string()) out += v.get<std::string>() + "\n";
    out += "\n";
  }
  return Int(j, "SpaceReclaimed");
}

namespace {

Result<int> Prune(Env& env) {
  static const FlagSpec spec = {
      "volume prune [OPTIONS]",
      {{"-f", "force"}, {"--force", "force"}, {"-a", "all"}, {"--all", "all"}},
      {{"--filter", "filter"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 0, 0));
  std::vector<std::string> kvs = f.All("filter");
  if (f.On("all")) kvs.push_back("all=true");
  std::string filters = BERTH_TRY(FiltersJson(kvs));
  if (!f.On("force")) {
    std::printf(
        "WARNING! This will remove %s local volumes not used by at least one container.\n"
        "Are you sure you want to continue? [y/N] ",
        f.On("all") ? "all" : "anonymous");
    std::fflush(stdout);
    char buf[16] = {};
    if (!std::fgets(buf, sizeof buf, stdin) || (buf[0] != 'y' && buf[0] != 'Y')) return 0;
  }
  std::string out;
  int64_t reclaimed = BERTH_TRY(PruneVolumes(*env.client, filters, out));
  out += "Total reclaimed space: " + HumanSize(static_cast<double>(reclaimed)) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

Result<int> CmdVolume(Env& env) {
  if (env.args.empty() || env.args[0] == "--help" || env.args[0] == "-h") {
    std::printf(
        "\nUsage:  berth volume COMMAND\n\nManage volumes\n\nCommands:\n"
        "  create      Create a volume\n  inspect     Display detailed information on one or "
        "more volumes\n  ls          List volumes\n  prune       Remove unused local volumes\n"
        "  rm          Remove one or more volumes\n");
    return env.args.empty() ? 1 : 0;
  }
  std::string sub = env.args[0];
  Env rest{env.client, std::vector<std::string>(env.args.begin() + 1, env.args.end())};
  if (sub == "create") return UsageExit(Create(rest));
  if (sub == "ls" || sub == "list") return UsageExit(Ls(rest));
  if (sub == "inspect") return UsageExit(Inspect(rest));
  if (sub == "rm" || sub == "remove") return UsageExit(Rm(rest));
  if (sub == "prune") return UsageExit(Prune(rest));
  return Error::Internal("berth: unknown command: berth volume " + sub +
                         "\n\nRun 'berth volume --help' for more information");
}

}  // namespace berth::cli
