// berth stop, kill, restart, pause, unpause, rm, rename, port, top, diff: one request per name,
// docker's output and errors.

#include <algorithm>
#include <cstdio>

#include "cli/cli.h"
#include "cli/commands/container_util.h"
#include "util/file.h"

namespace berth::cli {
namespace {

std::string Path(const std::string& name) { return "/containers/" + QueryEscape(name); }

Result<int> StopOrRestart(Env& env, const char* verb, const FlagSpec& spec) {
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  std::string query;
  auto add = [&](const std::string& kv) { query += (query.empty() ? "?" : "&") + kv; };
  if (f.Has("time")) {
    char* end = nullptr;
    std::strtol(f.Get("time").c_str(), &end, 10);
    if (f.Get("time").empty() || *end)
      return Error::InvalidArgument("invalid argument \"" + f.Get("time") +
                                    "\" for \"-t, --time\" flag: strconv.ParseInt: parsing \"" +
                                    f.Get("time") + "\": invalid syntax");
    add("t=" + f.Get("time"));
  }
  if (f.Has("signal")) add("signal=" + QueryEscape(f.Get("signal")));
  return ForEachName(f.args, [&](const std::string& n) -> Result<void> {
    BERTH_TRY(Call(*env.client, "POST", Path(n) + "/" + verb + query));
    return {};
  });
}

const FlagSpec kStopFlags = {
    "stop [OPTIONS] CONTAINER [CONTAINER...]",
    {},
    {{"-t", "time"}, {"--time", "time"}, {"-s", "signal"}, {"--signal", "signal"}}};
const FlagSpec kRestartFlags = {
    "restart [OPTIONS] CONTAINER [CONTAINER...]",
    {},
    {{"-t", "time"}, {"--time", "time"}, {"-s", "signal"}, {"--signal", "signal"}}};

Result<int> Kill(Env& env) {
  static const FlagSpec spec = {
      "kill [OPTIONS] CONTAINER [CONTAINER...]", {}, {{"-s", "signal"}, {"--signal", "signal"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  std::string query = f.Has("signal") ? "?signal=" + QueryEscape(f.Get("signal")) : "";
  return ForEachName(f.args, [&](const std::string& n) -> Result<void> {
    BERTH_TRY(Call(*env.client, "POST", Path(n) + "/kill" + query));
    return {};
  });
}

Result<int> PauseOrUnpause(Env& env, const char* verb) {
  FlagSpec spec = {verb, {}, {}};
  std::string usage = std::string(verb) + " CONTAINER [CONTAINER...]";
  spec.usage = usage.c_str();
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  return ForEachName(f.args, [&](const std::string& n) -> Result<void> {
    BERTH_TRY(Call(*env.client, "POST", Path(n) + "/" + verb));
    return {};
  });
}

Result<int> Rm(Env& env) {
  static const FlagSpec spec = {"rm [OPTIONS] CONTAINER [CONTAINER...]",
                                {{"-f", "force"},
                                 {"--force", "force"},
                                 {"-v", "volumes"},
                                 {"--volumes", "volumes"},
                                 {"-l", "link"},
                                 {"--link", "link"}},
                                {}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  std::string query;
  auto add = [&](const std::string& kv) { query += (query.empty() ? "?" : "&") + kv; };
  if (f.On("volumes")) add("v=1");
  if (f.On("link")) add("link=1");
  if (f.On("force")) add("force=1");
  bool force = f.On("force");
  std::vector<std::string> errors;
  for (const auto& n : f.args) {
    std::string name = n;
    while (!name.empty() && name[0] == '/') name = name.substr(1);
    if (name.empty()) {
      errors.push_back("Error: container name cannot be empty");
      continue;
    }
    auto r = Call(*env.client, "DELETE", Path(name) + query);
    if (r) {
      std::printf("%s\n", n.c_str());
      std::fflush(stdout);
    } else if (force && r.error().IsNotFound()) {
      // docker rm -f: a container that is not there is reported, not a failure
      std::fprintf(stderr, "%s\n", r.error().message().c_str());
    } else {
      errors.push_back(r.error().message());
    }
  }
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  return errors.empty() ? 0 : 1;
}

Result<int> Rename(Env& env) {
  static const FlagSpec spec = {"rename CONTAINER NEW_NAME", {}, {}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 2, 2));
  std::string old_name(Trim(f.args[0])), new_name(Trim(f.args[1]));
  if (!new_name.empty() && new_name[0] == '/') new_name = new_name.substr(1);
  if (old_name.empty() || new_name.empty())
    return Error::Internal("Error: neither old nor new names may be empty");
  auto r = Call(*env.client, "POST", Path(old_name) + "/rename?name=" + QueryEscape(new_name));
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message().c_str());
    return Error::Internal("Error: failed to rename container named " + old_name);
  }
  return 0;
}

// "80/tcp" or "80": the port and protocol docker port looks for.
std::pair<std::string, std::string> PortProto(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return {s, "tcp"};
  return {s.substr(0, slash), s.substr(slash + 1)};
}

Result<int> Port(Env& env) {
  static const FlagSpec spec = {"port CONTAINER [PRIVATE_PORT[/PROTO]]", {}, {}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1, 2));
  Json c = BERTH_TRY(GetJsonValue(*env.client, Path(f.args[0]) + "/json"));
  Json ports = c.contains("NetworkSettings") && c["NetworkSettings"].is_object() &&
                       c["NetworkSettings"].contains("Ports")
                   ? c["NetworkSettings"]["Ports"]
                   : Json::object();
  if (!ports.is_object()) ports = Json::object();
  auto host_port = [](const Json& b) {
    std::string ip = Str(b, "HostIp"), port = Str(b, "HostPort");
    return ip.find(':') != std::string::npos ? "[" + ip + "]:" + port : ip + ":" + port;
  };
  std::vector<std::string> lines;
  if (f.args.size() == 2) {
    auto [port, proto] = PortProto(f.args[1]);
    std::string key = port + "/" + proto;
    if (ports.contains(key) && ports[key].is_array() && !ports[key].empty()) {
      for (const auto& b : ports[key]) lines.push_back(host_port(b));
    } else {
      return Error::Internal("Error: No public port '" + f.args[1] + "' published for " +
                             f.args[0]);
    }
  } else {
    // sorted by port number, then protocol, as docker lists them
    std::vector<std::pair<std::pair<long, std::string>, std::string>> keyed;
    for (auto it = ports.begin(); it != ports.end(); ++it) {
      if (!it->is_array()) continue;
      auto [port, proto] = PortProto(it.key());
      for (const auto& b : *it)
        keyed.push_back(
            {{std::strtol(port.c_str(), nullptr, 10), proto}, it.key() + " -> " + host_port(b)});
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& k : keyed) lines.push_back(k.second);
  }
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  return 0;
}

Result<int> Top(Env& env) {
  static const FlagSpec spec = {"top CONTAINER [ps OPTIONS]", {}, {}, true};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  std::string path = Path(f.args[0]) + "/top";
  if (f.args.size() > 1) {
    std::string ps_args;
    for (size_t i = 1; i < f.args.size(); ++i) ps_args += (i > 1 ? " " : "") + f.args[i];
    path += "?ps_args=" + QueryEscape(ps_args);
  }
  Json top = BERTH_TRY(GetJsonValue(*env.client, path));
  std::vector<std::string> lines;
  std::string header;
  if (top.contains("Titles") && top["Titles"].is_array())
    for (const auto& t : top["Titles"])
      header += (header.empty() ? "" : "\t") + t.get<std::string>();
  lines.push_back(header);
  if (top.contains("Processes") && top["Processes"].is_array()) {
    for (const auto& p : top["Processes"]) {
      std::string line;
      for (size_t i = 0; i < p.size(); ++i)
        line += (i ? "\t" : "") + (p[i].is_string() ? p[i].get<std::string>() : p[i].dump());
      lines.push_back(line);
    }
  }
  std::string out = Tabulate(lines, 20);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

Result<int> Diff(Env& env) {
  static const FlagSpec spec = {"diff CONTAINER", {}, {}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1, 1));
  Json changes = BERTH_TRY(GetJsonValue(*env.client, Path(f.args[0]) + "/changes"));
  if (!changes.is_array()) return 0;
  for (const auto& c : changes) {
    int64_t kind = Int(c, "Kind");
    const char* k = kind == 0 ? "C" : kind == 1 ? "A" : kind == 2 ? "D" : "?";
    std::printf("%s %s\n", k, Str(c, "Path").c_str());
  }
  return 0;
}

}  // namespace

Result<int> CmdStop(Env& env) { return UsageExit(StopOrRestart(env, "stop", kStopFlags)); }
Result<int> CmdRestart(Env& env) { return UsageExit(StopOrRestart(env, "restart", kRestartFlags)); }
Result<int> CmdKill(Env& env) { return UsageExit(Kill(env)); }
Result<int> CmdPause(Env& env) { return UsageExit(PauseOrUnpause(env, "pause")); }
Result<int> CmdUnpause(Env& env) { return UsageExit(PauseOrUnpause(env, "unpause")); }
Result<int> CmdRm(Env& env) { return UsageExit(Rm(env)); }
Result<int> CmdRename(Env& env) { return UsageExit(Rename(env)); }
Result<int> CmdPort(Env& env) { return UsageExit(Port(env)); }
Result<int> CmdTop(Env& env) { return UsageExit(Top(env)); }
Result<int> CmdDiff(Env& env) { return UsageExit(Diff(env)); }

}  // namespace berth::cli
