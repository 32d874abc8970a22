// berth update, commit, export, container prune, and the `container` group.

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "cli/cli.h"
#include "cli/commands/container_util.h"
#include "cli/format/units.h"
#include "util/fd.h"

namespace berth::cli {
namespace {

std::string Path(const std::string& name) { return "/containers/" + QueryEscape(name); }

// go-units' RAMInBytes: "20m", "1.5g", "512", "10MiB" in binary units.
Result<int64_t> RamInBytes(const std::string& flag, const std::string& s) {
  auto bad = [&] {
    return Error::InvalidArgument("invalid argument \"" + s + "\" for \"" + flag +
                                  "\" flag: invalid size: '" + s + "'");
  };
  if (s == "-1") return int64_t{-1};
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return bad();
  double n = std::strtod(s.substr(0, i).c_str(), nullptr);
  std::string unit = s.substr(i);
  if (!unit.empty() && unit[0] == ' ') unit = unit.substr(1);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() >= 2 && unit.back() == 'b') unit.pop_back();
  if (unit.size() == 2 && unit.back() == 'i') unit.pop_back();
  if (unit == "b") unit.clear();
  static const std::string kUnits = "kmgtp";
  double mult = 1;
  if (!unit.empty()) {
    auto pos = kUnits.find(unit);
    if (unit.size() != 1 || pos == std::string::npos) return bad();
    mult = std::pow(1024.0, static_cast<double>(pos + 1));
  }
  return static_cast<int64_t>(n * mult);
}

Result<Json> RestartPolicy(const std::string& s) {
  auto colon = s.find(':');
  std::string name = s.substr(0, colon);
  Json p = {{"Name", name}, {"MaximumRetryCount", 0}};
  if (colon != std::string::npos) {
    if (name != "on-failure")
      return Error::InvalidArgument(
          "invalid restart policy format: maximum retry count can only be used with 'on-failure'");
    char* end = nullptr;
    long n = std::strtol(s.c_str() + colon + 1, &end, 10);
    if (*end || colon + 1 == s.size())
      return Error::InvalidArgument(
          "invalid restart policy format: maximum retry count must be an integer");
    p["MaximumRetryCount"] = n;
  }
  if (name != "no" && name != "always" && name != "unless-stopped" && name != "on-failure" &&
      !name.empty())
    return Error::InvalidArgument("invalid restart policy format: unknown policy '" + name + "'");
  return p;
}

Result<int> Update(Env& env) {
  static const FlagSpec spec = {"update [OPTIONS] CONTAINER [CONTAINER...]",
                                {},
                                {{"-m", "memory"},
                                 {"--memory", "memory"},
                                 {"--memory-swap", "memory-swap"},
                                 {"--memory-reservation", "memory-reservation"},
                                 {"--kernel-memory", "kernel-memory"},
                                 {"--cpus", "cpus"},
                                 {"-c", "cpu-shares"},
                                 {"--cpu-shares", "cpu-shares"},
                                 {"--cpu-period", "cpu-period"},
                                 {"--cpu-quota", "cpu-quota"},
                                 {"--cpuset-cpus", "cpuset-cpus"},
                                 {"--cpuset-mems", "cpuset-mems"},
                                 {"--blkio-weight", "blkio-weight"},
                                 {"--pids-limit", "pids-limit"},
                                 {"--restart", "restart"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  if (f.values.empty())
    return Error::Internal("you must provide one or more flags when using this command");
  Json body = Json::object();
  auto integer = [&](const char* key, const char* flag, const char* field) -> Result<void> {
    if (!f.Has(key)) return {};
    std::string v = f.Get(key);
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end)
      return Error::InvalidArgument("invalid argument \"" + v + "\" for \"" + flag +
                                    "\" flag: strconv.ParseInt: parsing \"" + v +
                                    "\": invalid syntax");
    body[field] = n;
    return {};
  };
  auto bytes = [&](const char* key, const char* flag, const char* field) -> Result<void> {
    if (!f.Has(key)) return {};
    body[field] = BERTH_TRY(RamInBytes(flag, f.Get(key)));
    return {};
  };
  BERTH_TRY(bytes("memory", "-m, --memory", "Memory"));
  BERTH_TRY(bytes("memory-swap", "--memory-swap", "MemorySwap"));
  BERTH_TRY(bytes("memory-reservation", "--memory-reservation", "MemoryReservation"));
  BERTH_TRY(bytes("kernel-memory", "--kernel-memory", "KernelMemory"));
  BERTH_TRY(integer("cpu-shares", "-c, --cpu-shares", "CpuShares"));
  BERTH_TRY(integer("cpu-period", "--cpu-period", "CpuPeriod"));
  BERTH_TRY(integer("cpu-quota", "--cpu-quota", "CpuQuota"));
  BERTH_TRY(integer("blkio-weight", "--blkio-weight", "BlkioWeight"));
  BERTH_TRY(integer("pids-limit", "--pids-limit", "PidsLimit"));
  if (f.Has("cpus")) {
    std::string v = f.Get("cpus");
    char* end = nullptr;
    double cpus = std::strtod(v.c_str(), &end);
    if (v.empty() || *end)
      return Error::InvalidArgument("invalid argument \"" + v +
                                    "\" for \"--cpus\" flag: failed to parse " + v +
                                    " as a rational number");
    body["NanoCpus"] = static_cast<int64_t>(std::llround(cpus * 1e9));
  }
  if (f.Has("cpuset-cpus")) body["CpusetCpus"] = f.Get("cpuset-cpus");
  if (f.Has("cpuset-mems")) body["CpusetMems"] = f.Get("cpuset-mems");
  if (f.Has("restart")) body["RestartPolicy"] = BERTH_TRY(RestartPolicy(f.Get("restart")));
  std::string payload = body.dump();
  return ForEachName(f.args, [&](const std::string& n) -> Result<void> {
    std::string r = BERTH_TRY(Call(*env.client, "POST", Path(n) + "/update", payload,
                                   {{"Content-Type", "application/json"}}));
    Json j = Json::parse(r, nullptr, false);
    if (j.is_object() && j.contains("Warnings") && j["Warnings"].is_array())
      for (const auto& w : j["Warnings"])
        if (w.is_string()) std::fprintf(stderr, "%s\n", w.get<std::string>().c_str());
    return {};
  });
}

Result<int> Commit(Env& env) {
  static const FlagSpec spec = {"commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                                {{"-p", "pause"}, {"--pause", "pause"}},
                                {{"-a", "author"},
                                 {"--author", "author"},
                                 {"-m", "message"},
                                 {"--message", "message"},
                                 {"-c", "change"},
                                 {"--change", "change"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1, 2));
  std::string path = "/commit?container=" + QueryEscape(f.args[0]);
  if (f.args.size() == 2) {
    std::string repo = f.args[1], tag;
    auto colon = repo.rfind(':');
    if (colon != std::string::npos && repo.find('/', colon) == std::string::npos) {
      tag = repo.substr(colon + 1);
      repo = repo.substr(0, colon);
    }
    path += "&repo=" + QueryEscape(repo);
    if (!tag.empty()) path += "&tag=" + QueryEscape(tag);
  }
  if (f.Has("message")) path += "&comment=" + QueryEscape(f.Get("message"));
  if (f.Has("author")) path += "&author=" + QueryEscape(f.Get("author"));
  path += std::string("&pause=") + (f.Has("pause") && !f.On("pause") ? "0" : "1");
  for (const auto& c : f.All("change")) path += "&changes=" + QueryEscape(c);
  std::string r =
      BERTH_TRY(Call(*env.client, "POST", path, "{}", {{"Content-Type", "application/json"}}));
  Json j = Json::parse(r, nullptr, false);
  std::printf("%s\n", Str(j, "Id").c_str());
  return 0;
}

Result<int> Export(Env& env) {
  static const FlagSpec spec = {
      "export [OPTIONS] CONTAINER", {}, {{"-o", "output"}, {"--output", "output"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1, 1));
  // a missing container is the daemon's "No such container", before any file is made
  BERTH_TRY(GetJson(*env.client, Path(f.args[0]) + "/json"));
  Fd file;
  int out = STDOUT_FILENO;
  if (f.Has("output") && f.Get("output") != "-") {
    std::string tmp = f.Get("output");
    file = BERTH_TRY(Fd::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    out = file.get();
  } else if (::isatty(STDOUT_FILENO)) {
    return Error::Internal("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  Result<void> written;
  auto r = BERTH_TRY(env.client->Do("GET", ApiPrefix() + Path(f.args[0]) + "/export", {}, {},
                                    [&](std::string_view chunk) {
                                      written = WriteAll(out, chunk);
                                      return bool(written);
                                    }));
  if (r.status / 100 != 2)
    return Error::Internal("Error response from daemon: export failed with status " +
                           std::to_string(r.status));
  BERTH_TRY(written);
  return 0;
}

Result<int> ContainerPrune(Env& env) {
  static const FlagSpec spec = {"container prune [OPTIONS]",
                                {{"-f", "force"}, {"--force", "force"}},
                                {{"--filter", "filter"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 0, 0));
  std::string filters = BERTH_TRY(FiltersJson(f.All("filter")));
  if (!f.On("force")) {
    std::printf(
        "WARNING! This will remove all stopped containers.\nAre you sure you want to "
        "continue? [y/N] ");
    std::fflush(stdout);
    char buf[16] = {};
    if (!std::fgets(buf, sizeof buf, stdin) || (buf[0] != 'y' && buf[0] != 'Y')) return 0;
  }
  std::string path = "/containers/prune";
  if (!filters.empty()) path += "?filters=" + QueryEscape(filters);
  std::string r = BERTH_TRY(Call(*env.client, "POST", path));
  Json j = Json::parse(r, nullptr, false);
  std::string out;
  if (j.is_object() && j.contains("ContainersDeleted") && j["ContainersDeleted"].is_array() &&
      !j["ContainersDeleted"].empty()) {
    out += "Deleted Containers:\n";
    for (const auto& id : j["ContainersDeleted"])
      if (id.is_string()) out += id.get<std::string>() + "\n";
    out += "\n";
  }
  out +=
      "Total reclaimed space: " + HumanSize(static_cast<double>(Int(j, "SpaceReclaimed"))) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

Result<int> CmdUpdate(Env& env) { return UsageExit(Update(env)); }
Result<int> CmdCommit(Env& env) { return UsageExit(Commit(env)); }
Result<int> CmdExport(Env& env) { return UsageExit(Export(env)); }
Result<int> CmdContainerPrune(Env& env) { return UsageExit(ContainerPrune(env)); }

}  // namespace berth::cli
