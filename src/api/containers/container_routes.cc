#include "api/containers/container_routes.h"

#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "api/routes/images.h"
#include "engine/fs/disk_usage.h"
#include "engine/logs/json_file.h"
#include "image/image_service.h"
#include "util/fd.h"
#include "util/file.h"

extern char** environ;

namespace berth::api::containers {
namespace {

using engine::Container;
using nlohmann::json;
using nlohmann::ordered_json;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ordered_json Parse(const std::string& text) {
  auto j = ordered_json::parse(text, nullptr, false);
  return j.is_discarded() ? ordered_json() : j;
}

std::string CommandLine(const Container& c) {
  std::string s = c.path;
  for (const auto& a : c.args) s += " " + a;
  return s;
}

ordered_json MountsJson(const Container& c) {
  ordered_json a = ordered_json::array();
  for (const auto& m : c.mounts) {
    ordered_json j = {{"Type", m.type}};
    if (!m.name.empty()) j["Name"] = m.name;
    j["Source"] = m.source;
    j["Destination"] = m.destination;
    if (!m.driver.empty()) j["Driver"] = m.driver;
    j["Mode"] = m.mode;
    j["RW"] = m.rw;
    j["Propagation"] = m.propagation;
    a.push_back(std::move(j));
  }
  return a;
}

ordered_json PortsMap(const Container& c) {
  ordered_json ports = ordered_json::object();
  for (const auto& p : c.request.config.exposed_ports) ports[p] = nullptr;
  return ports;
}

std::string NetworkName(const Container& c) {
  const std::string& m = c.request.host_config.network_mode;
  if (m == "host" || m == "none") return m;
  return "none";  // bridge networks come with the networks issue: an own netns with lo
}

ordered_json NetworkSettings(const Container& c) {
  ordered_json endpoint = {
      {"IPAMConfig", nullptr}, {"Links", nullptr},        {"Aliases", nullptr},
      {"MacAddress", ""},      {"NetworkID", ""},         {"EndpointID", ""},
      {"Gateway", ""},         {"IPAddress", ""},         {"IPPrefixLen", 0},
      {"IPv6Gateway", ""},     {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0},
      {"DriverOpts", nullptr}, {"DNSNames", nullptr}};
  ordered_json networks = ordered_json::object();
  networks[NetworkName(c)] = endpoint;
  return {{"Bridge", ""},
          {"SandboxID", ""},
          {"SandboxKey", ""},
          {"Ports", PortsMap(c)},
          {"HairpinMode", false},
          {"LinkLocalIPv6Address", ""},
          {"LinkLocalIPv6PrefixLen", 0},
          {"SecondaryIPAddresses", nullptr},
          {"SecondaryIPv6Addresses", nullptr},
          {"EndpointID", ""},
          {"Gateway", ""},
          {"GlobalIPv6Address", ""},
          {"GlobalIPv6PrefixLen", 0},
          {"IPAddress", ""},
          {"IPPrefixLen", 0},
          {"IPv6Gateway", ""},
          {"MacAddress", ""},
          {"Networks", networks}};
}

Response Empty(int status) {
  Response r;
  r.status = status;
  return r;
}

std::optional<int> QueryInt(const Request& req, std::string_view key) {
  std::string v = req.Query(key);
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (*end) return std::nullopt;
  return static_cast<int>(n);
}

// A hijack response: 101 with Upgrade when asked, else 200 with the stream type.
Response Hijacked(const Request& req, bool tty, std::function<void(int, std::string_view)> fn) {
  Response r;
  bool upgrade = !req.Header("Upgrade").empty();
  r.status = upgrade ? 101 : 200;
  r.Header("Content-Type",
           tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
  if (upgrade) {
    r.Header("Connection", "Upgrade");
    r.Header("Upgrade", "tcp");
  }
  r.hijack = std::move(fn);
  return r;
}

Result<Fd> DupSocket(int fd) {
  int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) return Error::FromErrno(errno, "dup the client socket");
  return Fd(d);
}

// Docker's --since/--until values as the API gets them: unix seconds with optional
// fraction ("1700000000.123456789"), or RFC 3339.
int64_t TimeArgNs(const std::string& v) {
  if (v.empty()) return 0;
  if (v.find('-') != std::string::npos && v.find('T') != std::string::npos) {
    auto ns = engine::logs::ParseRfc3339(v);
    return ns ? *ns : 0;
  }
  auto dot = v.find('.');
  int64_t secs = std::strtoll(v.substr(0, dot).c_str(), nullptr, 10);
  int64_t frac = 0;
  if (dot != std::string::npos) {
    std::string f = v.substr(dot + 1, 9);
    while (f.size() < 9) f.push_back('0');
    frac = std::strtoll(f.c_str(), nullptr, 10);
  }
  return secs * 1000000000 + frac;
}

uint64_t SystemCpuNs() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  uint64_t total = 0, v;
  for (int i = 0; i < 8 && (in >> v); ++i) total += v;
  long hz = ::sysconf(_SC_CLK_TCK);
  return total * (1000000000ull / static_cast<uint64_t>(hz > 0 ? hz : 100));
}

ordered_json CpuJson(const runtime::cgroups::Stats& s, uint64_t system) {
  ordered_json percpu = ordered_json::array();
  for (auto v : s.cpu.percpu) percpu.push_back(v);
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return {{"cpu_usage",
           {{"total_usage", s.cpu.total},
            {"percpu_usage", percpu},
            {"usage_in_kernelmode", s.cpu.kernel},
            {"usage_in_usermode", s.cpu.user}}},
          {"system_cpu_usage", system},
          {"online_cpus", online},
          {"throttling_data",
           {{"periods", s.cpu.periods},
            {"throttled_periods", s.cpu.throttled_periods},
            {"throttled_time", s.cpu.throttled_time}}}};
}

std::string Rfc3339NowNano() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  ::gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(ns % 1000000000));
  return buf;
}

ordered_json StatsJson(const Container& c, const runtime::cgroups::Stats& s, uint64_t system,
                       const runtime::cgroups::Stats* pre, uint64_t pre_system,
                       const std::string& preread) {
  ordered_json blk_bytes = ordered_json::array(), blk_ios = ordered_json::array();
  for (const auto& e : s.blkio.io_service_bytes_recursive)
    blk_bytes.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  for (const auto& e : s.blkio.io_serviced_recursive)
    blk_ios.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  ordered_json mem_stats = ordered_json::object();
  for (const auto& [k, v] : s.memory.raw) mem_stats[k] = v;
  uint64_t limit = s.memory.usage.limit;
  if (limit == 0 || limit > (1ull << 62)) {
    long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    limit = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
  }
  ordered_json pre_cpu =
      pre ? CpuJson(*pre, pre_system)
          : ordered_json{
                {"cpu_usage",
                 {{"total_usage", 0}, {"usage_in_kernelmode", 0}, {"usage_in_usermode", 0}}},
                {"throttling_data",
                 {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}};
  ordered_json pids = {{"current", s.pids.current}};
  if (s.pids.limit) pids["limit"] = s.pids.limit;
  return {{"name", "/" + c.name},
          {"id", c.id},
          {"read", c.state.running ? Rfc3339NowNano() : "0001-01-01T00:00:00Z"},
          {"preread", preread},
          {"pids_stats", c.state.running ? pids : ordered_json::object()},
          {"blkio_stats",
           {{"io_service_bytes_recursive", blk_bytes},
            {"io_serviced_recursive", blk_ios},
            {"io_queue_recursive", nullptr},
            {"io_service_time_recursive", nullptr},
            {"io_wait_time_recursive", nullptr},
            {"io_merged_recursive", nullptr},
            {"io_time_recursive", nullptr},
            {"sectors_recursive", nullptr}}},
          {"num_procs", 0},
          {"storage_stats", ordered_json::object()},
          {"cpu_stats", CpuJson(s, system)},
          {"precpu_stats", pre_cpu},
          {"memory_stats", c.state.running ? ordered_json{{"usage", s.memory.usage.usage},
                                                          {"max_usage", s.memory.usage.max},
                                                          {"stats", mem_stats},
                                                          {"failcnt", s.memory.usage.failcnt},
                                                          {"limit", limit}}
                                           : ordered_json::object()},
          {"networks", ordered_json::object()}};
}

// Runs ps with args on the host and keeps the lines of the container's processes.
Result<std::string> TopJson(const std::vector<pid_t>& pids, const std::string& ps_args) {
  std::vector<std::string> args = {"ps"};
  for (auto& a : Split(ps_args.empty() ? "-ef" : ps_args, ' ', true)) args.push_back(a);
  Pipe out = BERTH_TRY(Pipe::Make());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out.write.get(), 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, "ps", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Error::FromErrno(rc, "run ps");
  out.write.Reset();
  auto text = ReadAll(out.read.get(), 16 << 20);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!text) return std::move(text).error();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error::Internal("ps " + ps_args + " failed");
  auto lines = Split(*text, '\n', true);
  if (lines.empty()) return Error::Internal("ps printed nothing");
  auto fields = [](const std::string& line) {
    std::vector<std::string> f;
    std::istringstream in(line);
    std::string w;
    while (in >> w) f.push_back(w);
    return f;
  };
  std::vector<std::string> titles = fields(lines[0]);
  int pid_col = -1;
  for (size_t i = 0; i < titles.size(); ++i)
    if (titles[i] == "PID") pid_col = static_cast<int>(i);
  if (pid_col < 0) return Error::InvalidArgument("Couldn't find PID field in ps output");
  std::set<pid_t> want(pids.begin(), pids.end());
  ordered_json procs = ordered_json::array();
  for (size_t l = 1; l < lines.size(); ++l) {
    auto f = fields(lines[l]);
    if (f.size() <= static_cast<size_t>(pid_col)) continue;
    pid_t p = static_cast<pid_t>(std::strtol(f[pid_col].c_str(), nullptr, 10));
    if (!want.count(p)) continue;
    // The last column takes the rest of the line (the command with its spaces).
    ordered_json row = ordered_json::array();
    for (size_t i = 0; i + 1 < titles.size() && i < f.size(); ++i) row.push_back(f[i]);
    std::string rest;
    for (size_t i = titles.size() - 1; i < f.size(); ++i) rest += (rest.empty() ? "" : " ") + f[i];
    row.push_back(rest);
    procs.push_back(row);
  }
  return ordered_json{{"Processes", procs}, {"Titles", titles}}.dump();
}

bool MatchesFilters(const Container& c, const std::map<std::string, std::vector<std::string>>& f,
                    engine::ContainerService* svc) {
  (void)svc;
  for (const auto& [key, values] : f) {
    if (values.empty()) continue;
    bool any = false;
    for (const auto& v : values) {
      if (key == "status") {
        any |= c.state.status == v;
      } else if (key == "name") {
        try {
          any |= std::regex_search("/" + c.name, std::regex(v));
        } catch (const std::regex_error&) {
          any |= c.name.find(v) != std::string::npos;
        }
      } else if (key == "id") {
        any |= c.id.compare(0, v.size(), v) == 0;
      } else if (key == "label") {
        auto eq = v.find('=');
        auto it = c.request.config.labels.find(v.substr(0, eq));
        any |= it != c.request.config.labels.end() &&
               (eq == std::string::npos || it->second == v.substr(eq + 1));
      } else if (key == "exited") {
        any |= !c.state.running && c.has_been_started && std::to_string(c.state.exit_code) == v;
      } else if (key == "ancestor") {
        any |= c.request.config.image == v || c.image_id == v ||
               c.image_id.compare(7, v.size(), v) == 0 || c.request.config.image == v + ":latest";
      } else if (key == "volume") {
        for (const auto& m : c.mounts) any |= m.name == v || m.destination == v;
      } else if (key == "network") {
        any |= NetworkName(c) == v;
      } else if (key == "is-task") {
        any |= v == "false";
      } else {
        any = true;  // before/since are applied by the caller
      }
    }
    if (!any) return false;
  }
  return true;
}

Result<engine::ExecConfig> ParseExecConfig(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error::InvalidArgument("invalid JSON body");
  engine::ExecConfig c;
  auto strings = [&](const char* key) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (it->is_string()) return std::vector<std::string>{it->get<std::string>()};
    if (!it->is_array()) return Error::InvalidArgument(std::string(key) + " must be an array");
    for (const auto& s : *it) {
      if (!s.is_string()) return Error::InvalidArgument(std::string(key) + " must hold strings");
      out.push_back(s.get<std::string>());
    }
    return out;
  };
  auto boolean = [&](const char* key, bool def) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
  };
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  c.cmd = BERTH_TRY(strings("Cmd"));
  c.env = BERTH_TRY(strings("Env"));
  c.user = str("User");
  c.working_dir = str("WorkingDir");
  c.tty = boolean("Tty", false);
  c.privileged = boolean("Privileged", false);
  c.attach_stdin = boolean("AttachStdin", false);
  c.attach_stdout = boolean("AttachStdout", false);
  c.attach_stderr = boolean("AttachStderr", false);
  c.detach_keys = str("DetachKeys");
  if (auto it = j.find("ConsoleSize"); it != j.end() && it->is_array() && it->size() == 2)
    c.console_size = {(*it)[0].get<int>(), (*it)[1].get<int>()};
  return c;
}

}  // namespace

std::string HumanDuration(int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  int64_t hours = (seconds + 1800) / 3600;
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(hours / 24 / 365) + " years";
}

std::string StatusText(const Container& c, int64_t now) {
  const auto& s = c.state;
  if (s.status == "removing") return "Removal In Progress";
  if (s.dead) return "Dead";
  if (s.restarting)
    return "Restarting (" + std::to_string(s.exit_code) + ") " +
           HumanDuration(now - image::UnixSeconds(s.finished_at)) + " ago";
  if (s.running) {
    std::string t = "Up " + HumanDuration(now - image::UnixSeconds(s.started_at));
    if (s.paused) t += " (Paused)";
    return t;
  }
  if (!c.has_been_started && image::UnixSeconds(s.finished_at) <= 0) return "Created";
  return "Exited (" + std::to_string(s.exit_code) + ") " +
         HumanDuration(now - image::UnixSeconds(s.finished_at)) + " ago";
}

std::string InspectJson(const Container& c, const std::vector<std::string>& exec_ids) {
  ordered_json exec = exec_ids.empty() ? ordered_json(nullptr) : ordered_json(exec_ids);
  const auto& s = c.state;
  ordered_json state = {{"Status", s.status},
                        {"Running", s.running},
                        {"Paused", s.paused},
                        {"Restarting", s.restarting},
                        {"OOMKilled", s.oom_killed},
                        {"Dead", s.dead},
                        {"Pid", s.pid},
                        {"ExitCode", s.exit_code},
                        {"Error", s.error},
                        {"StartedAt", s.started_at},
                        {"FinishedAt", s.finished_at}};
  std::string lowers;
  for (const auto& d : c.lower_dirs) lowers += (lowers.empty() ? "" : ":") + d;
  ordered_json config = Parse(engine::ConfigJson(c.request.config));
  ordered_json host = Parse(engine::HostConfigJson(c.request.host_config));
  ordered_json j = {{"Id", c.id},
                    {"Created", c.created},
                    {"Path", c.path},
                    {"Args", c.args},
                    {"State", state},
                    {"Image", c.image_id},
                    {"ResolvConfPath", c.resolv_conf_path},
                    {"HostnamePath", c.hostname_path},
                    {"HostsPath", c.hosts_path},
                    {"LogPath", c.log_path},
                    {"Name", "/" + c.name},
                    {"RestartCount", c.restart_count},
                    {"Driver", "overlay2"},
                    {"Platform", "linux"},
                    {"MountLabel", ""},
                    {"ProcessLabel", ""},
                    {"AppArmorProfile", ""},
                    {"ExecIDs", exec},
                    {"HostConfig", host},
                    {"GraphDriver",
                     {{"Data",
                       {{"LowerDir", lowers},
                        {"MergedDir", c.rootfs},
                        {"UpperDir", c.upper_dir},
                        {"WorkDir", c.work_dir}}},
                      {"Name", "overlay2"}}},
                    {"Mounts", MountsJson(c)},
                    {"Config", config},
                    {"NetworkSettings", NetworkSettings(c)}};
  return j.dump();
}

std::string SummaryJson(const Container& c) {
  ordered_json networks = ordered_json::object();
  networks[NetworkName(c)] = {{"NetworkID", ""}, {"EndpointID", ""}, {"Gateway", ""},
                              {"IPAddress", ""}, {"IPPrefixLen", 0}, {"MacAddress", ""}};
  ordered_json labels = ordered_json::object();
  for (const auto& [k, v] : c.request.config.labels) labels[k] = v;
  ordered_json ports = ordered_json::array();
  for (const auto& p : c.request.config.exposed_ports) {
    auto slash = p.find('/');
    ports.push_back({{"PrivatePort", std::atoi(p.substr(0, slash).c_str())},
                     {"Type", slash == std::string::npos ? "tcp" : p.substr(slash + 1)}});
  }
  ordered_json j = {{"Id", c.id},
                    {"Names", {"/" + c.name}},
                    {"Image", c.request.config.image},
                    {"ImageID", c.image_id},
                    {"Command", CommandLine(c)},
                    {"Created", image::UnixSeconds(c.created)},
                    {"Ports", ports},
                    {"Labels", labels},
                    {"State", c.state.status},
                    {"Status", StatusText(c, Now())},
                    {"HostConfig",
                     {{"NetworkMode", c.request.host_config.network_mode.empty()
                                          ? "default"
                                          : c.request.host_config.network_mode}}},
                    {"NetworkSettings", {{"Networks", networks}}},
                    {"Mounts", MountsJson(c)}};
  return j.dump();
}

void AddContainerRoutes(Router* router, engine::ContainerService* svc) {
  router->Add("POST", "/containers/create", [svc](Request& req) {
    auto parsed = engine::ParseCreateRequest(req.body, req.Query("name"));
    if (!parsed) return ErrorResponse(parsed.error());
    std::vector<std::string> warnings;
    auto id = svc->Create(std::move(*parsed), &warnings);
    if (!id) return ErrorResponse(id.error());
    ordered_json j = {{"Id", *id}, {"Warnings", warnings}};
    return JsonResponse(201, j.dump());
  });

  router->Add("POST", "/containers/{name}/start", [svc](Request& req) {
    auto r = svc->Start(req.params["name"]);
    if (!r && r.error().code() == ErrorCode::kFailedPrecondition) return Empty(304);
    if (!r) return ErrorResponse(r.error());
    return Empty(204);
  });

  router->Add("POST", "/containers/{name}/stop", [svc](Request& req) {
    auto r = svc->Stop(req.params["name"], QueryInt(req, "t"), req.Query("signal"));
    if (!r) return ErrorResponse(r.error());
    return Empty(*r ? 204 : 304);
  });

  router->Add("POST", "/containers/{name}/restart", [svc](Request& req) {
    auto r = svc->Restart(req.params["name"], QueryInt(req, "t"), req.Query("signal"));
    if (!r) return ErrorResponse(r.error());
    return Empty(204);
  });

  router->Add("POST", "/containers/{name}/kill", [svc](Request& req) {
    auto r = svc->Kill(req.params["name"], req.Query("signal"));
    if (!r) return ErrorResponse(r.error());
    return Empty(204);
  });

  router->Add("POST", "/containers/{name}/pause", [svc](Request& req) {
    auto r = svc->Pause(req.params["name"]);
    if (!r) return ErrorResponse(r.error());
    return Empty(204);
  });

  router->Add("POST", "/containers/{name}/unpause", [svc](Request& req) {
    auto r = svc->Unpause(req.params["name"]);
    if (!r) return ErrorResponse(r.error());
    return Empty(204);
  });

  router->Add("DELETE", "/containers/{name}", [svc](Request& req) {
    auto r = svc->Remove(req.params["name"], req.QueryBool("force"), req.QueryBool("v"));
    if (!r) return ErrorResponse(r.error());
    return Empty(204);
  });

  router->Add("POST", "/containers/{name}/wait", [svc](Request& req) {
    std::string name = req.params["name"];
    std::string cond = req.Query("condition");
    // Errors that can be known before waiting get a status of their own.
    if (auto c = svc->Get(name); !c) return ErrorResponse(c.error());
    Response r;
    r.Header("Content-Type", "application/json");
    r.stream = [svc, name, cond](BodyWriter& w) -> Result<void> {
      auto code = svc->Wait(name, cond);
      ordered_json j;
      if (!code)
        j = {{"Error", {{"Message", code.error().message()}}}, {"StatusCode", 255}};
      else
        j = {{"Error", nullptr}, {"StatusCode", *code}};
      return w.Write(j.dump() + "\n");
    };
    return r;
  });

  router->Add("POST", "/containers/{name}/attach", [svc](Request& req) {
    auto c = svc->Get(req.params["name"]);
    if (!c) return ErrorResponse(c.error());
    engine::monitor::AttachRequest a;
    a.stdin = req.QueryBool("stdin");
    a.stdout = req.QueryBool("stdout");
    a.stderr = req.QueryBool("stderr");
    a.detach_keys = req.Query("detachKeys");
    if (auto keys = engine::monitor::ParseDetachKeys(a.detach_keys); !keys)
      return ErrorResponse(keys.error());
    std::string id = c->id;
    // Before the response: a start that comes once the client has read it waits for this
    // attach (the guard goes when the hijack callback, holding it, is destroyed).
    auto guard = svc->BeginAttach(id);
    if (!guard) return ErrorResponse(guard.error());
    return Hijacked(req, c->request.config.tty,
                    [svc, id, a, g = std::move(*guard)](int fd, std::string_view rest) {
                      auto dup = DupSocket(fd);
                      if (!dup) return;
                      engine::monitor::AttachRequest req2 = a;
                      req2.initial = std::string(rest);
                      if (auto r = svc->Attach(id, req2, std::move(*dup)); !r) {
                        std::string msg = r.error().message() + "\n";
                        (void)!::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
                      }
                    });
  });

  router->Add("POST", "/containers/{name}/resize", [svc](Request& req) {
    auto h = QueryInt(req, "h"), w = QueryInt(req, "w");
    if (!h || !w || *h < 0 || *w < 0)
      return ErrorResponse(Error::InvalidArgument("invalid resize dimensions"));
    auto r = svc->Resize(req.params["name"], static_cast<uint32_t>(*h), static_cast<uint32_t>(*w));
    if (!r && r.error().code() != ErrorCode::kConflict) return ErrorResponse(r.error());
    return Empty(200);
  });

  router->Add("POST", "/containers/{name}/rename", [svc](Request& req) {
    auto r = svc->Rename(req.params["name"], req.Query("name"));
    if (!r) return ErrorResponse(r.error());
    return Empty(204);
  });

  router->Add("POST", "/containers/{name}/update", [svc](Request& req) {
    auto hc = engine::ParseHostConfig(req.body.empty() ? "{}" : req.body);
    if (!hc) return ErrorResponse(hc.error());
    json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    bool rp = body.is_object() && body.contains("RestartPolicy");
    std::vector<std::string> warnings;
    auto r = svc->Update(req.params["name"], *hc, rp, &warnings);
    if (!r) return ErrorResponse(r.error());
    return JsonResponse(200, ordered_json{{"Warnings", warnings}}.dump());
  });

  router->Add("GET", "/containers/json", [svc](Request& req) {
    auto filters = routes::ParseFilters(req.Query("filters"));
    if (!filters) return ErrorResponse(filters.error());
    bool all = req.QueryBool("all");
    int limit = QueryInt(req, "limit").value_or(-1);
    if (req.QueryBool("latest")) limit = 1;
    if (limit > 0) all = true;
    auto list = svc->List();
    // before/since: containers created before or after the named one.
    std::string before_created, since_created;
    for (const char* key : {"before", "since"}) {
      auto it = filters->find(key);
      if (it == filters->end() || it->second.empty()) continue;
      auto c = svc->Get(it->second[0]);
      if (!c) return ErrorResponse(c.error());
      (std::string(key) == "before" ? before_created : since_created) = c->created;
      all = true;
    }
    if (filters->count("status") || filters->count("exited")) all = true;
    std::string out = "[";
    int n = 0;
    for (const auto& c : list) {
      if (!all && !c.state.running && !c.state.restarting) continue;
      if (!before_created.empty() && c.created >= before_created) continue;
      if (!since_created.empty() && c.created <= since_created) continue;
      if (!MatchesFilters(c, *filters, svc)) continue;
      if (limit > 0 && n >= limit) break;
      if (n++) out += ",";
      std::string s = SummaryJson(c);
      if (req.QueryBool("size")) {
        auto j = ordered_json::parse(s);
        auto sizes = engine::fs::SizesOf(c.upper_dir, c.lower_dirs);
        j["SizeRw"] = sizes ? sizes->rw : 0;
        j["SizeRootFs"] = sizes ? sizes->rootfs : 0;
        s = j.dump();
      }
      out += s;
    }
    out += "]";
    return JsonResponse(200, out);
  });

  router->Add("GET", "/containers/{name}/json", [svc](Request& req) {
    auto c = svc->Get(req.params["name"]);
    if (!c) return ErrorResponse(c.error());
    std::string body = InspectJson(*c, svc->ExecIds(c->id));
    if (req.QueryBool("size")) {  // docker inspect -s
      auto j = ordered_json::parse(body);
      auto sizes = engine::fs::SizesOf(c->upper_dir, c->lower_dirs);
      j["SizeRw"] = sizes ? sizes->rw : 0;
      j["SizeRootFs"] = sizes ? sizes->rootfs : 0;
      body = j.dump();
    }
    return JsonResponse(200, body);
  });

  router->Add("GET", "/containers/{name}/logs", [svc](Request& req) {
    auto c = svc->Get(req.params["name"]);
    if (!c) return ErrorResponse(c.error());
    bool out = req.QueryBool("stdout"), err = req.QueryBool("stderr");
    if (!out && !err)
      return ErrorResponse(
          Error::InvalidArgument("Bad parameters: you must choose at least one stream"));
    engine::logs::ReadOptions o;
    o.stdout = out;
    o.stderr = err;
    o.follow = req.QueryBool("follow");
    std::string tail = req.Query("tail", "all");
    o.tail = tail == "all" || tail.empty() ? -1 : std::strtoll(tail.c_str(), nullptr, 10);
    o.since_ns = TimeArgNs(req.Query("since"));
    o.until_ns = TimeArgNs(req.Query("until"));
    bool timestamps = req.QueryBool("timestamps");
    bool tty = c->request.config.tty;
    std::string id = c->id, path = c->log_path;
    o.running = [svc, id] {
      auto c = svc->Get(id);
      return c && (c->state.running || c->state.restarting);
    };
    Response r;
    r.Header("Content-Type", tty ? "application/vnd.docker.raw-stream"
                                 : "application/vnd.docker.multiplexed-stream");
    r.stream = [o, path, timestamps, tty](BodyWriter& w) -> Result<void> {
      if (!PathExists(path)) return {};
      // A follower whose client hung up stops at the next check, not at the next line (a
      // quiet container would hold its thread and files for as long as it runs).
      engine::logs::ReadOptions opts = o;
      if (opts.follow)
        opts.running = [&w, running = o.running] { return !w.ClientGone() && running(); };
      return engine::logs::ReadLogs(
          path, opts, [&](const engine::logs::LogEntry& e) -> Result<void> {
            std::string line =
                timestamps ? engine::logs::FormatTimestamp(e.time_ns) + " " + e.line : e.line;
            if (tty) return w.Write(line);
            return w.Write(engine::logs::Frame(e.stream == "stderr" ? 2 : 1, line));
          });
    };
    return r;
  });

  router->Add("GET", "/containers/{name}/top", [svc](Request& req) {
    auto pids = svc->Pids(req.params["name"]);
    if (!pids) return ErrorResponse(pids.error());
    auto j = TopJson(*pids, req.Query("ps_args"));
    if (!j) return ErrorResponse(j.error());
    return JsonResponse(200, *j);
  });

  router->Add("GET", "/containers/{name}/stats", [svc](Request& req) {
    auto c = svc->Get(req.params["name"]);
    if (!c) return ErrorResponse(c.error());
    bool stream = req.QueryBool("stream", true);
    bool one_shot = req.QueryBool("one-shot");
    std::string id = c->id;
    Response r;
    r.Header("Content-Type", "application/json");
    r.stream = [svc, id, stream, one_shot](BodyWriter& w) -> Result<void> {
      std::optional<runtime::cgroups::Stats> pre;
      uint64_t pre_system = 0;
      std::string preread = "0001-01-01T00:00:00Z";
      if (!stream && !one_shot) {
        pre = svc->Stats(id).value_or(runtime::cgroups::Stats{});
        pre_system = SystemCpuNs();
        preread = Rfc3339NowNano();
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      for (;;) {
        auto c = svc->Get(id);
        if (!c) return {};
        auto s = svc->Stats(id).value_or(runtime::cgroups::Stats{});
        uint64_t system = SystemCpuNs();
        std::string read = Rfc3339NowNano();
        BERTH_TRY(w.Write(
            StatsJson(*c, s, system, pre ? &*pre : nullptr, pre_system, preread).dump() + "\n"));
        if (!stream) return {};
        pre = s;
        pre_system = system;
        preread = read;
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    };
    return r;
  });

  router->Add("POST", "/containers/prune", [svc](Request& req) {
    auto filters = routes::ParseFilters(req.Query("filters"));
    if (!filters) return ErrorResponse(filters.error());
    auto r = svc->Prune(*filters);
    if (!r) return ErrorResponse(r.error());
    ordered_json j = {{"ContainersDeleted",
                       r->deleted.empty() ? ordered_json(nullptr) : ordered_json(r->deleted)},
                      {"SpaceReclaimed", r->space_reclaimed}};
    return JsonResponse(200, j.dump());
  });

  router->Add("POST", "/containers/{name}/exec", [svc](Request& req) {
    auto config = ParseExecConfig(req.body);
    if (!config) return ErrorResponse(config.error());
    auto id = svc->ExecCreate(req.params["name"], std::move(*config));
    if (!id) return ErrorResponse(id.error());
    return JsonResponse(201, ordered_json{{"Id", *id}}.dump());
  });

  router->Add("POST", "/exec/{id}/start", [svc](Request& req) {
    json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return ErrorResponse(Error::InvalidArgument("invalid JSON body"));
    bool detach = body.value("Detach", false);
    std::optional<bool> tty;
    if (body.contains("Tty") && body["Tty"].is_boolean()) tty = body["Tty"].get<bool>();
    std::string id = req.params["id"];
    auto info = svc->ExecInspect(id);
    if (!info) return ErrorResponse(info.error());
    if (info->started)
      return ErrorResponse(Error::Conflict("Error: Exec command " + id + " has already run"));
    if (detach) {
      auto r = svc->ExecStart(id, true, tty, Fd(), "");
      if (!r) return ErrorResponse(r.error());
      return JsonResponse(200, "");
    }
    bool raw = tty.value_or(info->config.tty);
    return Hijacked(req, raw, [svc, id, tty, raw](int fd, std::string_view rest) {
      auto dup = DupSocket(fd);
      if (!dup) return;
      if (auto r = svc->ExecStart(id, false, tty, std::move(*dup), std::string(rest)); !r) {
        std::string msg = "OCI runtime exec failed: " + r.error().message() + ": unknown\r\n";
        std::string framed = raw ? msg : engine::logs::Frame(1, msg);
        (void)!::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
    });
  });

  router->Add("POST", "/exec/{id}/resize", [svc](Request& req) {
    auto h = QueryInt(req, "h"), w = QueryInt(req, "w");
    if (!h || !w || *h < 0 || *w < 0)
      return ErrorResponse(Error::InvalidArgument("invalid resize dimensions"));
    auto r =
        svc->ExecResize(req.params["id"], static_cast<uint32_t>(*h), static_cast<uint32_t>(*w));
    if (!r && r.error().code() == ErrorCode::kNotFound) return ErrorResponse(r.error());
    return Empty(200);
  });

  router->Add("GET", "/exec/{id}/json", [svc](Request& req) {
    auto x = svc->ExecInspect(req.params["id"]);
    if (!x) return ErrorResponse(x.error());
    const auto& cfg = x->config;
    std::vector<std::string> arguments(cfg.cmd.begin() + (cfg.cmd.empty() ? 0 : 1), cfg.cmd.end());
    ordered_json j = {
        {"CanRemove", false},
        {"ContainerID", x->container_id},
        {"DetachKeys", cfg.detach_keys},
        {"ExitCode", x->exit_code ? ordered_json(*x->exit_code) : ordered_json(nullptr)},
        {"ID", x->id},
        {"OpenStderr", cfg.attach_stderr},
        {"OpenStdin", cfg.attach_stdin},
        {"OpenStdout", cfg.attach_stdout},
        {"ProcessConfig",
         {{"arguments", arguments},
          {"entrypoint", cfg.cmd.empty() ? "" : cfg.cmd[0]},
          {"privileged", cfg.privileged},
          {"tty", cfg.tty},
          {"user", cfg.user}}},
        {"Running", x->running},
        {"Pid", x->pid}};
    return JsonResponse(200, j.dump());
  });
}

}  // namespace berth::api::containers
