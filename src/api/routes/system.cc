#include "api/routes/system.h"

#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "util/file.h"

namespace berth::api::routes {
namespace {

using nlohmann::ordered_json;

struct Host {
  std::string kernel, arch, hostname, os;
  int64_t ncpu = 0, mem_total = 0;
};

Host ReadHost() {
  Host h;
  struct utsname u;
  if (::uname(&u) == 0) {
    h.kernel = u.release;
    h.hostname = u.nodename;
    std::string m = u.machine;
    h.arch = m == "x86_64" ? "amd64" : m == "aarch64" ? "arm64" : m;
  }
  h.ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  struct sysinfo si;
  if (::sysinfo(&si) == 0) h.mem_total = static_cast<int64_t>(si.totalram) * si.mem_unit;
  h.os = "Linux";
  if (auto text = ReadFile("/etc/os-release", 1 << 16); text) {
    for (const auto& line : Split(*text, '\n', true)) {
      if (line.rfind("PRETTY_NAME=", 0) == 0) {
        std::string v = line.substr(12);
        if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
        h.os = v;
      }
    }
  }
  return h;
}

const Host& GetHost() {
  static const Host host = ReadHost();
  return host;
}

Response Ping(Request& req) {
  Response r;
  r.body = "OK";
  r.Header("Content-Type", "text/plain; charset=utf-8");
  r.Header("Cache-Control", "no-cache, no-store, must-revalidate");
  r.Header("Pragma", "no-cache");
  r.Header("Builder-Version", "1");
  r.Header("Swarm", "inactive");
  return r;
}

Response Version(Request&) {
  const Host& h = GetHost();
  ordered_json details = {{"ApiVersion", kApiVersion},
                          {"Arch", h.arch},
                          {"BuildTime", ""},
                          {"Experimental", "false"},
                          {"GitCommit", ""},
                          {"GoVersion", ""},
                          {"KernelVersion", h.kernel},
                          {"MinAPIVersion", kMinApiVersion},
                          {"Os", "linux"}};
  ordered_json j = {
      {"Platform", {{"Name", "Berth Engine"}}},
      {"Components", {{{"Name", "Engine"}, {"Version", kEngineVersion}, {"Details", details}}}},
      {"Version", kEngineVersion},
      {"ApiVersion", kApiVersion},
      {"MinAPIVersion", kMinApiVersion},
      {"GitCommit", ""},
      {"GoVersion", ""},
      {"Os", "linux"},
      {"Arch", h.arch},
      {"KernelVersion", h.kernel},
      {"BuildTime", ""}};
  return JsonResponse(200, j.dump());
}

Response Info(SystemBackend* b) {
  const Host& h = GetHost();
  SystemBackend::Counts c = b->GetCounts();
  std::string cgroup_version = PathExists("/sys/fs/cgroup/cgroup.controllers") ? "2" : "1";
  ordered_json j = {
      {"ID", b->DaemonId()},
      {"Containers", c.containers},
      {"ContainersRunning", c.running},
      {"ContainersPaused", c.paused},
      {"ContainersStopped", c.stopped},
      {"Images", c.images},
      {"Driver", "overlayfs"},
      {"DriverStatus", ordered_json::array()},
      {"Plugins",
       {{"Volume", {"local"}},
        {"Network", {"bridge", "host", "none"}},
        {"Authorization", nullptr},
        {"Log", {"json-file"}}}},
      {"MemoryLimit", true},
      {"SwapLimit", PathExists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")},
      {"CpuCfsPeriod", true},
      {"CpuCfsQuota", true},
      {"CPUShares", true},
      {"CPUSet", true},
      {"PidsLimit", true},
      {"IPv4Forwarding", Trim(ReadFile("/proc/sys/net/ipv4/ip_forward", 16).value_or("0")) == "1"},
      {"Debug", false},
      {"NFd", 0},
      {"OomKillDisable", true},
      {"NGoroutines", 0},
      {"LoggingDriver", "json-file"},
      {"CgroupDriver", "cgroupfs"},
      {"CgroupVersion", cgroup_version},
      {"KernelVersion", h.kernel},
      {"OperatingSystem", h.os},
      {"OSVersion", ""},
      {"OSType", "linux"},
      {"Architecture", h.arch == "amd64" ? "x86_64" : h.arch},
      {"IndexServerAddress", "https://index.docker.io/v1/"},
      {"RegistryConfig",
       {{"InsecureRegistryCIDRs", {"127.0.0.0/8"}}, {"IndexConfigs", ordered_json::object()}}},
      {"NCPU", h.ncpu},
      {"MemTotal", h.mem_total},
      {"DockerRootDir", b->RootDir()},
      {"Name", h.hostname},
      {"Labels", ordered_json::array()},
      {"ExperimentalBuild", false},
      {"ServerVersion", kEngineVersion},
      {"Runtimes", {{"berth", {{"path", "berth-runtime"}}}}},
      {"DefaultRuntime", "berth"},
      {"Swarm", {{"LocalNodeState", "inactive"}, {"ControlAvailable", false}}},
      {"LiveRestoreEnabled", true},
      {"Isolation", ""},
      {"InitBinary", ""},
      {"SecurityOptions", {"name=seccomp,profile=builtin"}},
      {"Warnings", ordered_json::array()}};
  return JsonResponse(200, j.dump());
}

}  // namespace

std::vector<std::pair<std::string, std::string>> CommonHeaders() {
  return {{"Api-Version", kApiVersion},
          {"Docker-Experimental", "false"},
          {"Ostype", "linux"},
          {"Server", std::string("Berth/") + kEngineVersion + " (linux)"}};
}

void AddSystemRoutes(Router* router, SystemBackend* backend) {
  router->Add("GET", "/_ping", Ping);
  router->Add("GET", "/version", Version);
  router->Add("GET", "/info", [backend](Request&) { return Info(backend); });
}

}  // namespace berth::api::routes
