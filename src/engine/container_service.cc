#include "engine/container_service.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>

#include "engine/container/spec.h"
#include "engine/logs/json_file.h"
#include "engine/monitor/protocol.h"
#include "engine/volume/volume_service.h"
#include "oci/reference.h"
#include "runtime/rootfs/rootfs.h"
#include "util/file.h"
#include "util/log.h"
#include "util/time.h"

namespace berth::engine {
namespace {

using nlohmann::json;

const auto& logger = log::Get("engine");

std::string RandomHex(size_t n) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(kHex[rng() % 16]);
  return s;
}

std::string Short(const std::string& id) { return id.substr(0, 12); }

bool IsMountPoint(const std::string& path) {
  struct stat a, b;
  if (::stat(path.c_str(), &a) < 0) return false;
  std::string parent = path + "/..";
  if (::stat(parent.c_str(), &b) < 0) return false;
  return a.st_dev != b.st_dev;
}

json MountJson(const MountPoint& m) {
  return {{"Type", m.type},      {"Name", m.name},
          {"Source", m.source},  {"Destination", m.destination},
          {"Driver", m.driver},  {"Mode", m.mode},
          {"RW", m.rw},          {"Propagation", m.propagation},
          {"CopyUp", m.copy_up}, {"Anonymous", m.anonymous}};
}

MountPoint MountFromJson(const json& j) {
  MountPoint m;
  m.type = j.value("Type", "");
  m.name = j.value("Name", "");
  m.source = j.value("Source", "");
  m.destination = j.value("Destination", "");
  m.driver = j.value("Driver", "");
  m.mode = j.value("Mode", "");
  m.rw = j.value("RW", true);
  m.propagation = j.value("Propagation", "");
  m.copy_up = j.value("CopyUp", false);
  m.anonymous = j.value("Anonymous", false);
  return m;
}

json StateToJson(const ContainerState& s) {
  return {{"Status", s.status},
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
}

ContainerState StateFromJson(const json& j) {
  ContainerState s;
  s.status = j.value("Status", "created");
  s.running = j.value("Running", false);
  s.paused = j.value("Paused", false);
  s.restarting = j.value("Restarting", false);
  s.oom_killed = j.value("OOMKilled", false);
  s.dead = j.value("Dead", false);
  s.pid = j.value("Pid", 0);
  s.exit_code = j.value("ExitCode", 0);
  s.error = j.value("Error", "");
  s.started_at = j.value("StartedAt", "0001-01-01T00:00:00Z");
  s.finished_at = j.value("FinishedAt", "0001-01-01T00:00:00Z");
  return s;
}

std::string RecordJson(const Container& c) {
  json mounts = json::array();
  for (const auto& m : c.mounts) mounts.push_back(MountJson(m));
  json j = {{"Id", c.id},
            {"Name", c.name},
            {"Created", c.created},
            {"Image", c.image_id},
            {"Config", json::parse(ConfigJson(c.request.config))},
            {"HostConfig", json::parse(HostConfigJson(c.request.host_config))},
            {"NetworkingConfig", c.request.networking_config_json},
            {"State", StateToJson(c.state)},
            {"RestartCount", c.restart_count},
            {"ManuallyStopped", c.manually_stopped},
            {"HasBeenStarted", c.has_been_started},
            {"MountPoints", mounts},
            {"LowerDirs", c.lower_dirs},
            {"Path", c.path},
            {"Args", c.args},
            {"LogPath", c.log_path},
            {"MonitorPid", c.monitor_pid}};
  return j.dump(2);
}

Result<Container> RecordFromJson(const std::string& text, const std::string& dir) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error::DataLoss("container record " + dir + " is not JSON");
  Container c;
  try {
    c.id = j.at("Id").get<std::string>();
    c.name = j.at("Name").get<std::string>();
    c.created = j.value("Created", "");
    c.image_id = j.value("Image", "");
    c.request.config = BERTH_TRY(ParseConfigJson(j.at("Config").dump()));
    c.request.host_config = BERTH_TRY(ParseHostConfig(j.at("HostConfig").dump()));
    c.request.networking_config_json = j.value("NetworkingConfig", "");
    c.request.name = c.name;
    c.state = StateFromJson(j.value("State", json::object()));
    c.restart_count = j.value("RestartCount", 0);
    c.manually_stopped = j.value("ManuallyStopped", false);
    c.has_been_started = j.value("HasBeenStarted", false);
    for (const auto& m : j.value("MountPoints", json::array()))
      c.mounts.push_back(MountFromJson(m));
    c.lower_dirs = j.value("LowerDirs", std::vector<std::string>{});
    c.path = j.value("Path", "");
    c.args = j.value("Args", std::vector<std::string>{});
    c.log_path = j.value("LogPath", "");
    c.monitor_pid = j.value("MonitorPid", 0);
  } catch (const json::exception& e) {
    return Error::DataLoss("container record " + dir + ": " + e.what());
  }
  return c;
}

// Harbour words for generated names (Docker makes adjective_surname; Berth is a harbour).
const char* const kAdjectives[] = {
    "amber",   "bold",  "brave",  "bright", "calm",   "clever", "cosy",   "crisp",  "daring",
    "eager",   "fair",  "fast",   "gentle", "glad",   "golden", "grand",  "happy",  "hardy",
    "keen",    "kind",  "lively", "lucky",  "merry",  "mighty", "modest", "nimble", "noble",
    "patient", "proud", "quick",  "quiet",  "rapid",  "serene", "sharp",  "silent", "steady",
    "stoic",   "sunny", "swift",  "tidy",   "trusty", "vivid",  "warm",   "wise",   "witty"};
const char* const kNouns[] = {
    "anchor", "beacon",  "bollard",    "breakwater", "buoy",   "capstan", "cutter",    "dinghy",
    "dock",   "ferry",   "galley",     "harbor",     "hawser", "hull",    "jetty",     "keel",
    "ketch",  "lantern", "lighthouse", "marina",     "mast",   "mooring", "pier",      "pilot",
    "quay",   "rudder",  "schooner",   "sextant",    "skiff",  "sloop",   "spinnaker", "tender",
    "tide",   "tiller",  "trawler",    "tugboat",    "wake",   "wharf",   "windlass",  "yawl"};

int SignalNumber(const std::string& name, int def) {
  if (name.empty()) return def;
  int s = runtime::ParseSignal(name);
  return s;
}

// For a spec built only to check the flags (create, update): a container:NAME mode's path is
// known only at start, when the other container's pid is.
std::map<std::string, std::string> ProbeNamespaces(const HostConfig& h) {
  std::map<std::string, std::string> paths;
  if (h.ipc_mode.starts_with("container:")) paths["ipc"] = "/proc/self/ns/ipc";
  if (h.pid_mode.starts_with("container:")) paths["pid"] = "/proc/self/ns/pid";
  if (h.network_mode.starts_with("container:")) paths["network"] = "/proc/self/ns/net";
  return paths;
}

// Docker's exit codes for a start that failed to exec the command.
int StartFailureCode(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos)
    return 127;
  if (message.find("permission denied") != std::string::npos) return 126;
  return 128;
}

}  // namespace

ContainerService::ContainerService(ContainerServiceOptions options)
    : o_(std::move(options)), rt_({.root = JoinPath(o_.exec_root, "runtime")}) {
  epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  wake_ = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  epoll_event ev{EPOLLIN, {.fd = wake_.get()}};
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
  watcher_ = std::thread([this] { WatchLoop(); });
  trash_ = std::make_unique<fs::Trash>(JoinPath(o_.root, "trash"));
  run_trash_ = std::make_unique<fs::Trash>(JoinPath(o_.exec_root, "trash"));
}

ContainerService::~ContainerService() { Shutdown(); }

void ContainerService::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (watcher_.joinable()) watcher_.join();
}

std::string ContainerService::ContainerDir(const std::string& id) const {
  return JoinPath(JoinPath(o_.root, "containers"), id);
}
std::string ContainerService::RunDir(const std::string& id) const {
  // Short: a unix socket path (monitor.sock below it) holds at most 107 bytes.
  return JoinPath(JoinPath(o_.exec_root, "containers"), id.substr(0, 24));
}

Result<void> ContainerService::Save(const Container& c) {
  return WriteFileReplace(JoinPath(ContainerDir(c.id), "container.json"), RecordJson(c), 0600);
}

void ContainerService::Emit(std::string_view action, const Container& c,
                            const std::map<std::string, std::string>& extra) {
  if (events_) events_(action, c, extra);
}

std::string ContainerService::GenerateName() {
  static thread_local std::mt19937 rng(std::random_device{}());
  for (int i = 0;; ++i) {
    std::string name = std::string(kAdjectives[rng() % std::size(kAdjectives)]) + "_" +
                       kNouns[rng() % std::size(kNouns)];
    if (i > 10) name += std::to_string(rng() % 10);
    if (!names_.count(name)) return name;
  }
}

Result<std::string> ContainerService::ResolveLocked(std::string_view name) {
  std::string n(name);
  if (!n.empty() && n[0] == '/') n.erase(0, 1);
  if (n.empty()) return Error::NotFound("No such container: " + std::string(name));
  if (containers_.count(n)) return n;
  if (auto it = names_.find(n); it != names_.end()) return it->second;
  std::string found;
  for (const auto& [id, e] : containers_) {
    if (id.compare(0, n.size(), n) == 0) {
      if (!found.empty())
        return Error::InvalidArgument("multiple IDs found with provided prefix: " + n);
      found = id;
    }
  }
  if (found.empty()) return Error::NotFound("No such container: " + std::string(name));
  return found;
}

Result<void> ContainerService::Restore() {
  std::string dir = JoinPath(o_.root, "containers");
  BERTH_TRY(MkdirAll(dir, 0710));
  BERTH_TRY(MkdirAll(JoinPath(o_.exec_root, "containers"), 0700));
  std::vector<std::string> to_restart;
  for (const auto& id : BERTH_TRY(ListDir(dir))) {
    std::string cdir = JoinPath(dir, id);
    auto text = ReadFile(JoinPath(cdir, "container.json"));
    if (!text) {
      logger.Warn({{"id", id}}, "container without a record: {}", text.error().message());
      continue;
    }
    auto c = RecordFromJson(*text, cdir);
    if (!c) {
      logger.Warn({{"id", id}}, "{}", c.error().message());
      continue;
    }
    auto e = std::make_shared<Entry>();
    e->c = std::move(*c);
    Container& ct = e->c;
    ct.rootfs = JoinPath(cdir, "merged");
    ct.upper_dir = JoinPath(cdir, "upper");
    ct.work_dir = JoinPath(cdir, "work");
    ct.hostname_path = JoinPath(cdir, "hostname");
    ct.hosts_path = JoinPath(cdir, "hosts");
    ct.resolv_conf_path = JoinPath(cdir, "resolv.conf");
    if (ct.state.running || ct.state.restarting) {
      // Is its monitor still there?
      auto conn = monitor::Connect(monitor::SocketPath(RunDir(ct.id)));
      if (conn) {
        auto reply = monitor::Call(conn->get(), {{"op", "watch"}}, {}, 5000);
        if (reply) {
          ct.state.running = true;
          ct.state.restarting = false;
          ct.state.status = ct.state.paused ? "paused" : "running";
          e->report = std::move(*conn);
          std::lock_guard lock(mu_);
          names_[ct.name] = ct.id;
          std::string cid = ct.id;
          containers_[cid] = e;
          Watch(cid, Fd());
          logger.Info({{"id", Short(cid)}}, "restored a running container");
          continue;
        }
      }
      // It exited while berthd was down: its monitor left the exit code.
      auto exit_text = ReadFile(monitor::ExitFile(RunDir(ct.id)));
      json ex = exit_text ? json::parse(*exit_text, nullptr, false) : json();
      ct.state.running = ct.state.paused = ct.state.restarting = false;
      ct.state.status = "exited";
      ct.state.pid = 0;
      if (ex.is_object()) {
        ct.state.exit_code = ex.value("exit_code", 255);
        ct.state.finished_at = ex.value("finished_at", NowRfc3339());
        ct.state.oom_killed = ex.value("oom_killed", false);
      } else {
        ct.state.exit_code = 255;
        ct.state.finished_at = NowRfc3339();
        ct.state.error = "the container's monitor is gone";
        (void)rt_.Delete(ct.id, true);
      }
      if (IsMountPoint(ct.rootfs)) ::umount2(ct.rootfs.c_str(), MNT_DETACH);
      (void)Save(ct);
      const auto& rp = ct.request.host_config.restart_policy;
      bool restart = rp.name == "always" || (rp.name == "unless-stopped" && !ct.manually_stopped) ||
                     (rp.name == "on-failure" && ct.state.exit_code != 0 &&
                      (rp.maximum_retry_count == 0 || ct.restart_count < rp.maximum_retry_count));
      if (restart) to_restart.push_back(ct.id);
    } else {
      if (IsMountPoint(ct.rootfs)) ::umount2(ct.rootfs.c_str(), MNT_DETACH);
      // Docker starts "always" containers at daemon start even when they were stopped by the
      // daemon's own shutdown; a manual stop keeps them stopped.
      const auto& rp = ct.request.host_config.restart_policy;
      if (ct.has_been_started && !ct.manually_stopped &&
          (rp.name == "always" || rp.name == "unless-stopped"))
        to_restart.push_back(ct.id);
    }
    std::lock_guard lock(mu_);
    names_[ct.name] = ct.id;
    containers_[ct.id] = e;
  }
  for (const auto& id : to_restart) {
    if (auto r = Start(id); !r)
      logger.Warn({{"id", Short(id)}}, "restart at daemon start: {}", r.error().message());
  }
  return {};
}

Result<std::string> ContainerService::Create(CreateRequest req,
                                             std::vector<std::string>* warnings) {
  (void)warnings;
  // Checked here, not at start: Docker's messages, and no container left that cannot start.
  if (const auto& sig = req.config.stop_signal; !sig.empty() && runtime::ParseSignal(sig) <= 0)
    return Error::InvalidArgument("Invalid signal: " + sig);
  BERTH_TRY(logs::ParseLogOptions(req.host_config.log_config.config));
  image::Image img = BERTH_TRY(o_.images->Get(req.config.image));
  std::unique_lock lock(mu_);
  std::string name;
  if (!req.name.empty()) {
    name = BERTH_TRY(ValidateName(req.name));
    if (auto it = names_.find(name); it != names_.end())
      return Error::Conflict("Conflict. The container name \"/" + name +
                             "\" is already in use by container \"" + it->second +
                             "\". You have to remove (or rename) that container to be able to "
                             "reuse that name.");
  } else {
    name = GenerateName();
  }
  std::string id;
  do id = RandomHex(64);
  while (containers_.count(id));
  names_[name] = id;  // reserved while the rest is made
  lock.unlock();
  auto release = [&] {
    std::lock_guard l(mu_);
    names_.erase(name);
  };

  const oci::ImageConfig& image_config = img.config.config;
  oci::ImageConfig empty_image;
  Container c;
  c.id = id;
  c.name = name;
  c.created = NowRfc3339();
  c.image_id = img.record.id.str();
  c.request = std::move(req);
  c.request.name = name;
  std::vector<std::string> args = ProcessArgs(c.request.config, image_config);
  if (args.empty()) {
    release();
    return Error::InvalidArgument("no command specified");
  }
  c.path = args[0];
  c.args.assign(args.begin() + 1, args.end());
  for (auto it = img.record.layers.rbegin(); it != img.record.layers.rend(); ++it) {
    auto fs = o_.snapshots->FsDir(it->chain_id.str());
    if (!fs) {
      release();
      return std::move(fs).error().Wrap("layer of image " + c.image_id);
    }
    c.lower_dirs.push_back(*fs);
  }
  std::string cdir = ContainerDir(id);
  c.rootfs = JoinPath(cdir, "merged");
  c.upper_dir = JoinPath(cdir, "upper");
  c.work_dir = JoinPath(cdir, "work");
  c.hostname_path = JoinPath(cdir, "hostname");
  c.hosts_path = JoinPath(cdir, "hosts");
  c.resolv_conf_path = JoinPath(cdir, "resolv.conf");
  c.log_path = JoinPath(cdir, id + "-json.log");
  auto made = [&]() -> Result<void> {
    for (const auto& d : {cdir, c.rootfs, c.upper_dir, c.work_dir}) BERTH_TRY(MkdirAll(d, 0700));
    ::chmod(cdir.c_str(), 0710);
    ::chmod(c.rootfs.c_str(), 0755);
    ::chmod(c.upper_dir.c_str(), 0755);
    // Volumes and binds, resolved now so that a bad one fails the create.
    auto& hc = c.request.host_config;
    std::vector<MountSpec> specs = hc.mounts;
    for (const auto& [path, _] : c.request.config.volumes) {
      bool covered = std::any_of(specs.begin(), specs.end(),
                                 [&](const MountSpec& m) { return m.target == path; });
      if (!covered) specs.push_back({.type = "volume", .target = path});
    }
    if (image_config.config) {
      for (const auto& path : image_config.config->volumes) {
        bool covered = std::any_of(specs.begin(), specs.end(),
                                   [&](const MountSpec& m) { return m.target == path; });
        if (!covered) specs.push_back({.type = "volume", .target = path});
      }
    }
    for (const auto& m : specs) {
      MountPoint mp;
      mp.type = m.type;
      mp.destination = m.target;
      mp.rw = !m.read_only;
      mp.mode = m.read_only ? "ro" : "";
      if (m.type == "bind") {
        // The host's / may be bound (Docker allows -v /:/host, read-write too): it is mounted
        // in the container's own mount namespace, on a destination resolved inside its rootfs.
        std::string src = m.source;
        struct stat st;
        if (::stat(src.c_str(), &st) < 0) {
          if (!m.from_bind_string)
            return Error::InvalidArgument(
                "invalid mount config for type \"bind\": bind source path does not exist: " + src);
          BERTH_TRY(MkdirAll(src, 0755));  // docker -v makes a missing host directory
        }
        char real[PATH_MAX];
        if (!::realpath(src.c_str(), real)) return Error::FromErrno(errno, "resolve " + src);
        mp.source = real;
        mp.propagation = m.propagation.empty() ? "rprivate" : m.propagation;
      } else if (m.type == "volume") {
        if (!o_.volumes) return Error::NotImplemented("volumes are not available");
        bool anonymous = m.source.empty();
        bool existed = !anonymous && static_cast<bool>(o_.volumes->Get(m.source));
        Volume v = BERTH_TRY(o_.volumes->Create(m.source, m.volume_labels, {}, anonymous));
        mp.name = v.name;
        mp.source = v.mountpoint;
        mp.driver = v.driver;
        mp.anonymous = anonymous;
        mp.copy_up = !existed && !m.no_copy;
        mp.propagation = "";
        mp.mode = m.read_only ? "ro" : "z";
      } else if (m.type == "tmpfs") {
        mp.source = "";
      } else {
        return Error::InvalidArgument("mount type unknown: " + m.type);
      }
      c.mounts.push_back(std::move(mp));
    }
    // /etc/hostname, /etc/hosts, /etc/resolv.conf.
    bool host_net = hc.network_mode == "host";
    std::string hostname =
        c.request.config.hostname.empty() ? Short(id) : c.request.config.hostname;
    if (host_net && c.request.config.hostname.empty()) {
      char buf[256] = {};
      ::gethostname(buf, sizeof buf - 1);
      hostname = buf;
    }
    BERTH_TRY(WriteFile(c.hostname_path, hostname + "\n", 0644));
    std::string hosts;
    if (host_net) {
      hosts = ReadFile("/etc/hosts").value_or("127.0.0.1\tlocalhost\n");
    } else {
      hosts =
          "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
          "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
          "ff02::2\tip6-allrouters\n";
    }
    for (const auto& h : hc.extra_hosts) {
      auto colon = h.find(':');
      if (colon == std::string::npos) continue;
      hosts += h.substr(colon + 1) + "\t" + h.substr(0, colon) + "\n";
    }
    BERTH_TRY(WriteFile(c.hosts_path, hosts, 0644));
    std::string resolv = ReadFile("/etc/resolv.conf").value_or("");
    if (!hc.dns.empty() || !hc.dns_search.empty() || !hc.dns_options.empty()) {
      resolv.clear();
      for (const auto& d : hc.dns) resolv += "nameserver " + d + "\n";
      if (!hc.dns_search.empty()) {
        resolv += "search";
        for (const auto& d : hc.dns_search) resolv += " " + d;
        resolv += "\n";
      }
      if (!hc.dns_options.empty()) {
        resolv += "options";
        for (const auto& d : hc.dns_options) resolv += " " + d;
        resolv += "\n";
      }
    }
    BERTH_TRY(WriteFile(c.resolv_conf_path, resolv, 0644));
    // The spec is built once now so that bad flags fail the create, not the start.
    oci::Spec probe =
        BERTH_TRY(BuildSpec({.id = id,
                             .config = &c.request.config,
                             .host = &c.request.host_config,
                             .image = &image_config,
                             .rootfs = c.lower_dirs.empty() ? c.rootfs : c.lower_dirs[0],
                             .init_path = o_.init_path,
                             .namespace_paths = ProbeNamespaces(c.request.host_config)}));
    (void)probe;
    BERTH_TRY(Save(c));
    return {};
  }();
  if (!made) {
    for (const auto& m : c.mounts)
      if (m.anonymous && o_.volumes) (void)o_.volumes->Remove(m.name, true);
    if (!IsMountPoint(c.rootfs)) (void)RemoveAll(cdir);
    release();
    return std::move(made).error();
  }
  auto e = std::make_shared<Entry>();
  e->c = c;
  {
    std::lock_guard l(mu_);
    containers_[id] = e;
  }
  Emit("create", c);
  return id;
}

Result<void> ContainerService::MountRootfs(const Container& c) {
  if (IsMountPoint(c.rootfs)) return {};
  std::string lowers;
  for (const auto& d : c.lower_dirs) {
    if (!lowers.empty()) lowers += ':';
    lowers += d;
  }
  std::string empty_lower;
  if (lowers.empty()) {
    empty_lower = JoinPath(ContainerDir(c.id), "empty");
    BERTH_TRY(MkdirAll(empty_lower, 0755));
    lowers = empty_lower;
  }
  std::string opts = "lowerdir=" + lowers + ",upperdir=" + c.upper_dir + ",workdir=" + c.work_dir;
  if (opts.size() >= 4000) return Error::NotImplemented("image has too many layers to mount");
  // A --rm container's writable layer is deleted when it exits, so it is mounted `volatile`
  // (as podman does for --rm): no sync of the whole upper filesystem at unmount (1-25 ms on
  // ext4 here, on the path of every `run --rm`) nor at the container's own syncfs/fsync.
  if (c.request.host_config.auto_remove) {
    if (::mount("overlay", c.rootfs.c_str(), "overlay", 0, (opts + ",volatile").c_str()) == 0)
      return {};
    // A kernel without it (before 5.10), or a volatile mount that did not end cleanly (the
    // host went down): the kernel refuses the dir it left until it is removed.
    (void)RemoveAll(JoinPath(JoinPath(c.work_dir, "work"), "incompat"));
  }
  if (::mount("overlay", c.rootfs.c_str(), "overlay", 0, opts.c_str()) < 0)
    return Error::FromErrno(errno, "mount the container's rootfs");
  return {};
}

Result<std::map<std::string, std::string>> ContainerService::JoinedNamespaces(const Container& c) {
  std::map<std::string, std::string> paths;
  const HostConfig& h = c.request.host_config;
  struct Join {
    const std::string& mode;
    const char *type, *proc, *what;
  };
  for (const Join& j :
       {Join{h.ipc_mode, "ipc", "ipc", "IPC"}, Join{h.pid_mode, "pid", "pid", "PID"},
        Join{h.network_mode, "network", "net", "network"}}) {
    if (!j.mode.starts_with("container:")) continue;
    std::lock_guard lock(mu_);
    std::string other = BERTH_TRY(ResolveLocked(j.mode.substr(10)));
    const Container& o = containers_[other]->c;
    if (other == c.id) return Error::InvalidArgument(std::string("cannot join own ") + j.what);
    if (!o.state.running || o.state.pid <= 0)
      return Error::Conflict(std::string("cannot join ") + j.what +
                             " of a non running container: " + other);
    // Docker's donor must have said so (its daemon's default IPC mode is private).
    if (j.type == std::string_view("ipc") && o.request.host_config.ipc_mode != "shareable")
      return Error::Conflict("can't join IPC of container " + other +
                             ": non-shareable IPC (hint: use IpcMode:shareable for the donor "
                             "container)");
    paths[j.type] = "/proc/" + std::to_string(o.state.pid) + "/ns/" + j.proc;
  }
  return paths;
}

Result<void> ContainerService::PrepareStart(Container& c) {
  auto namespace_paths = BERTH_TRY(JoinedNamespaces(c));
  std::string run_dir = RunDir(c.id);
  BERTH_TRY(MkdirAll(run_dir, 0700));
  ::unlink(monitor::ExitFile(run_dir).c_str());
  BERTH_TRY(MountRootfs(c));
  std::vector<std::string> mounted_volumes;
  auto unmount = [&] {
    ::umount2(c.rootfs.c_str(), MNT_DETACH);
    for (const auto& v : mounted_volumes) (void)o_.volumes->Unmount(v, c.id);
  };
  auto prepared = [&]() -> Result<void> {
    image::Image img = BERTH_TRY(o_.images->Get(c.image_id));
    // Docker makes a missing working directory (root's, 0755), inside the rootfs: symlinks
    // on the way are resolved there.
    std::string wd = c.request.config.working_dir;
    if (wd.empty() && img.config.config.config) wd = img.config.config.config->working_dir;
    if (!wd.empty() && wd != "/") {
      Fd root(::open(c.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!root) return Error::FromErrno(errno, "open " + c.rootfs);
      BERTH_TRY_CTX(runtime::rootfs::MakeMountPoint(root.get(), wd, true),
                    "create the working directory");
    }
    std::vector<ResolvedMount> mounts;
    for (auto& m : c.mounts) {
      // A volume with driver options (type=tmpfs, o=bind, ...) is mounted for its first user.
      std::string volume_dir;
      if (m.type == "volume" && o_.volumes) {
        volume_dir = BERTH_TRY(o_.volumes->Mount(m.name, c.id));
        mounted_volumes.push_back(m.name);
      }
      if (m.type == "volume" && m.copy_up && o_.volumes) {
        std::string src = JoinPath(c.rootfs, m.destination);
        struct stat st;
        if (::lstat(src.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
          BERTH_TRY_CTX(o_.volumes->CopyUp(m.name, src),
                        "copy the image's files into volume " + m.name);
        m.copy_up = false;
      }
      ResolvedMount r;
      r.destination = m.destination;
      if (m.type == "tmpfs") {
        r.type = "tmpfs";
        r.source = "tmpfs";
        r.options = {"nosuid", "nodev", "noexec"};
        for (const auto& spec : c.request.host_config.mounts) {
          if (spec.target != m.destination || spec.type != "tmpfs") continue;
          if (spec.tmpfs_size > 0) r.options.push_back("size=" + std::to_string(spec.tmpfs_size));
          char mode[16];
          std::snprintf(mode, sizeof mode, "mode=%o", spec.tmpfs_mode ? spec.tmpfs_mode : 01777);
          r.options.push_back(mode);
          if (!spec.tmpfs_options.empty())
            for (const auto& o : Split(spec.tmpfs_options, ',', true)) r.options.push_back(o);
        }
        if (!m.rw) r.options.push_back("ro");
      } else {
        r.type = "bind";
        r.source = volume_dir.empty() ? m.source : volume_dir;
        r.options = {"rbind", m.rw ? "rw" : "ro"};
        if (m.type == "bind")
          r.options.push_back(m.propagation.empty() ? "rprivate" : m.propagation);
      }
      mounts.push_back(std::move(r));
    }
    oci::Spec spec = BERTH_TRY(BuildSpec({.id = c.id,
                                          .config = &c.request.config,
                                          .host = &c.request.host_config,
                                          .image = &img.config.config,
                                          .rootfs = c.rootfs,
                                          .mounts = mounts,
                                          .init_path = o_.init_path,
                                          .hosts_path = c.hosts_path,
                                          .resolv_conf_path = c.resolv_conf_path,
                                          .hostname_path = c.hostname_path,
                                          .namespace_paths = namespace_paths}));
    BERTH_TRY(
        WriteFileReplace(JoinPath(ContainerDir(c.id), "config.json"), oci::Serialize(spec), 0600));
    return {};
  }();
  if (!prepared) unmount();
  return prepared;
}

Result<void> ContainerService::Start(std::string_view name) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  if (e->c.state.paused)
    return Error::Conflict("cannot start a paused container, try unpause instead");
  if (e->c.state.running) return Error(ErrorCode::kFailedPrecondition, "container already started");
  if (e->busy) return Error::Conflict("container " + id + " is busy (being started or removed)");
  // A client that attached first (docker run, start -a) may be quicker with its start than
  // its attach's thread with the hand-over: its output would be lost.
  cv_.wait_for(lock, std::chrono::seconds(5), [&] { return e->attaching == 0; });
  if (e->c.state.running) return Error(ErrorCode::kFailedPrecondition, "container already started");
  if (e->busy) return Error::Conflict("container " + id + " is busy (being started or removed)");
  e->busy = true;
  auto r = StartLocked(lock, e.get());
  e->busy = false;
  cv_.notify_all();
  return r;
}

Result<void> ContainerService::StartLocked(std::unique_lock<std::mutex>& lock, Entry* e) {
  Container c = e->c;
  auto attaches = std::move(e->pending_attaches);
  e->pending_attaches.clear();
  lock.unlock();
  auto started = [&]() -> Result<std::pair<Fd, int>> {
    BERTH_TRY(PrepareStart(c));
    monitor::MonitorConfig mc;
    mc.id = c.id;
    mc.bundle = ContainerDir(c.id);
    mc.runtime_root = JoinPath(o_.exec_root, "runtime");
    mc.run_dir = RunDir(c.id);
    mc.log_path = c.log_path;
    auto limits = logs::ParseLogOptions(c.request.host_config.log_config.config);
    if (limits) {
      mc.log_max_size = limits->max_size;
      mc.log_max_files = limits->max_files;
    }
    mc.tty = c.request.config.tty;
    mc.open_stdin = c.request.config.open_stdin;
    mc.stdin_once = c.request.config.stdin_once;
    const auto& cs = c.request.host_config.console_size;
    if (cs.size() == 2) {
      mc.console_height = static_cast<uint32_t>(cs[0]);
      mc.console_width = static_cast<uint32_t>(cs[1]);
    }
    mc.rootfs_mount = c.rootfs;
    std::vector<int> fds;
    for (auto& [req, fd] : attaches) {
      mc.attaches.push_back(req);
      fds.push_back(fd.get());
    }
    auto [mine, theirs] = BERTH_TRY(monitor::SocketPair());
    auto pid = o_.spawner->Spawn(mc, theirs.get(), fds);
    theirs.Reset();
    if (!pid) {
      ::umount2(c.rootfs.c_str(), MNT_DETACH);
      return std::move(pid).error();
    }
    auto first = monitor::Recv(mine.get(), 120000);
    if (!first || !*first) {
      ::umount2(c.rootfs.c_str(), MNT_DETACH);
      return first ? Error::Internal("the container's monitor exited before the start")
                   : std::move(first).error();
    }
    const json& ev = (*first)->body;
    if (ev.value("event", "") != "started") {
      return Error(static_cast<ErrorCode>(ev.value("code", static_cast<int>(ErrorCode::kInternal))),
                   ev.value("error", "start failed"));
    }
    c.state.pid = ev.value("pid", 0);
    return std::pair<Fd, int>(std::move(mine), *pid);
  }();
  lock.lock();
  if (!started) {
    std::string msg = started.error().message();
    e->c.state.error = msg;
    if (e->c.has_been_started || e->c.state.status == "exited") e->c.state.status = "exited";
    e->c.state.exit_code = StartFailureCode(msg);
    (void)Save(e->c);
    // Waiters for the next exit learn of the failure; --rm removes the container.
    e->exits++;
    cv_.notify_all();
    if (e->c.request.host_config.auto_remove) {
      std::string rid = e->c.id;
      std::thread([this, rid] {
        std::unique_lock l(mu_);
        auto it = containers_.find(rid);
        if (it == containers_.end()) return;
        auto entry = it->second;
        cv_.wait(l, [&] { return !entry->busy; });
        if (entry->removed || entry->c.state.running) return;
        entry->busy = true;
        (void)RemoveLocked(l, entry.get(), true);
      }).detach();
    }
    // Docker's wording keeps "OCI runtime create failed" so that clients can tell the exit code.
    Error err = started.error();
    if (err.code() == ErrorCode::kInternal || err.code() == ErrorCode::kInvalidArgument ||
        err.code() == ErrorCode::kNotFound || err.code() == ErrorCode::kPermissionDenied)
      return Error::InvalidArgument(
          "failed to create task for container: OCI runtime create "
          "failed: " +
          msg + ": unknown");
    return err;
  }
  Container& ct = e->c;
  ct.mounts = c.mounts;  // copy-up done
  ct.state.running = true;
  ct.state.paused = false;
  ct.state.restarting = false;
  ct.state.status = "running";
  ct.state.pid = c.state.pid;
  ct.state.exit_code = 0;
  ct.state.error.clear();
  ct.state.oom_killed = false;
  ct.state.started_at = NowRfc3339();
  ct.has_been_started = true;
  ct.manually_stopped = false;
  ct.monitor_pid = started->second;
  e->report = std::move(started->first);
  (void)Save(ct);
  Watch(ct.id, Fd());
  Emit("start", ct);
  return {};
}

void ContainerService::Watch(const std::string& id, Fd) {
  // REQUIRES: mu_ held; the entry's report fd is set.
  auto& e = containers_[id];
  epoll_event ev{EPOLLIN, {.fd = e->report.get()}};
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, e->report.get(), &ev);
  watched_[e->report.get()] = id;
}

void ContainerService::WatchLoop() {
  for (;;) {
    epoll_event evs[16];
    int n = ::epoll_wait(epoll_.get(), evs, 16, -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == wake_.get()) return;
      std::string id;
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        auto it = watched_.find(fd);
        if (it == watched_.end()) {
          ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
          continue;
        }
        id = it->second;
      }
      auto msg = monitor::Recv(fd, 0);
      if (!msg || !*msg) {
        // The monitor went away. If it left no exit record it died with the container.
        {
          std::lock_guard lock(mu_);
          ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
          watched_.erase(fd);
        }
        auto text = ReadFile(monitor::ExitFile(RunDir(id)));
        json ex = text ? json::parse(*text, nullptr, false) : json();
        bool running = false;
        {
          std::lock_guard lock(mu_);
          auto it = containers_.find(id);
          running = it != containers_.end() && it->second->c.state.running &&
                    it->second->report.get() == fd;
          if (it != containers_.end() && it->second->report.get() == fd) it->second->report.Reset();
        }
        if (running) {
          if (ex.is_object())
            OnExit(id, ex.value("exit_code", 255), ex.value("finished_at", NowRfc3339()),
                   ex.value("oom_killed", false));
          else
            OnExit(id, 255, NowRfc3339(), false);
        }
        continue;
      }
      OnEvent(id, (*msg)->body);
    }
  }
}

void ContainerService::OnEvent(const std::string& id, const json& ev) {
  std::string kind = ev.value("event", "");
  if (kind == "exit") {
    OnExit(id, ev.value("exit_code", 255), ev.value("finished_at", NowRfc3339()),
           ev.value("oom_killed", false));
  } else if (kind == "exec_exit") {
    std::lock_guard lock(mu_);
    auto it = execs_.find(ev.value("exec_id", ""));
    if (it != execs_.end()) {
      it->second.running = false;
      it->second.exit_code = ev.value("exit_code", 255);
      auto c = containers_.find(it->second.container_id);
      if (c != containers_.end())
        Emit("exec_die", c->second->c,
             {{"execID", it->first}, {"exitCode", std::to_string(*it->second.exit_code)}});
    }
    cv_.notify_all();
  }
}

void ContainerService::OnExit(const std::string& id, int code, const std::string& finished_at,
                              bool oom) {
  std::unique_lock lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  auto e = it->second;
  Container& c = e->c;
  if (!c.state.running) return;
  if (e->report) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, e->report.get(), nullptr);
    watched_.erase(e->report.get());
    e->report.Reset();
  }
  c.state.running = false;
  c.state.paused = false;
  c.state.pid = 0;
  c.state.exit_code = code;
  c.state.finished_at = finished_at;
  c.state.oom_killed = oom;
  c.state.status = "exited";
  c.monitor_pid = 0;
  if (o_.volumes)
    for (const auto& m : c.mounts)
      if (m.type == "volume") (void)o_.volumes->Unmount(m.name, id);
  for (auto& [eid, x] : execs_)
    if (x.container_id == id && x.running) {
      x.running = false;
      if (!x.exit_code) x.exit_code = 137;
    }
  if (oom) Emit("oom", c);
  Emit("die", c, {{"exitCode", std::to_string(code)}});
  const auto& rp = c.request.host_config.restart_policy;
  bool restart = !c.manually_stopped && !c.request.host_config.auto_remove &&
                 (rp.name == "always" || rp.name == "unless-stopped" ||
                  (rp.name == "on-failure" && code != 0 &&
                   (rp.maximum_retry_count == 0 || c.restart_count < rp.maximum_retry_count)));
  if (restart) {
    c.state.restarting = true;
    c.state.status = "restarting";
  }
  (void)Save(c);
  e->exits++;
  cv_.notify_all();
  if (c.request.host_config.auto_remove) {
    std::thread([this, id] {
      std::unique_lock l(mu_);
      auto it = containers_.find(id);
      if (it == containers_.end()) return;
      auto entry = it->second;
      if (entry->busy || entry->c.state.running) return;
      entry->busy = true;
      (void)RemoveLocked(l, entry.get(), true);
    }).detach();
  } else if (restart) {
    int n = c.restart_count;
    auto delay = std::chrono::milliseconds(100 << std::min(n, 9));
    std::thread([this, id, delay] {
      std::this_thread::sleep_for(delay);
      MaybeRestart(id);
    }).detach();
  }
}

void ContainerService::MaybeRestart(const std::string& id) {
  std::unique_lock lock(mu_);
  if (stopping_) return;
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  auto e = it->second;
  if (!e->c.state.restarting || e->c.manually_stopped || e->busy) return;
  e->busy = true;
  e->c.restart_count++;
  auto r = StartLocked(lock, e.get());
  e->busy = false;
  if (!r) {
    e->c.state.restarting = false;
    e->c.state.status = "exited";
    (void)Save(e->c);
    logger.Warn({{"id", Short(id)}}, "restart failed: {}", r.error().message());
  } else {
    Emit("restart", e->c);
  }
  cv_.notify_all();
}

Result<bool> ContainerService::Stop(std::string_view name, std::optional<int> timeout,
                                    std::string signal) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  Container& c = e->c;
  if (c.state.restarting) {
    c.manually_stopped = true;
    c.state.restarting = false;
    c.state.status = "exited";
    (void)Save(c);
    cv_.notify_all();
    return true;
  }
  if (!c.state.running) return false;
  c.manually_stopped = true;
  (void)Save(c);
  int sig = SignalNumber(signal.empty() ? c.request.config.stop_signal : signal, SIGTERM);
  if (sig <= 0) return Error::InvalidArgument("Invalid signal: " + signal);
  int secs = timeout.value_or(c.request.config.stop_timeout.value_or(10));
  uint64_t exits = e->exits;
  if (c.state.paused) (void)rt_.Resume(id);
  if (secs != 0) (void)rt_.Kill(id, sig, false);
  auto exited = [&] { return e->exits != exits || !e->c.state.running; };
  if (secs < 0)
    cv_.wait(lock, exited);
  else if (!cv_.wait_for(lock, std::chrono::seconds(secs), exited)) {
    (void)rt_.Kill(id, SIGKILL, true);
    if (!cv_.wait_for(lock, std::chrono::seconds(30), exited))
      return Error::Unavailable("container " + id + " did not exit after SIGKILL");
  }
  Emit("stop", e->c);
  return true;
}

Result<void> ContainerService::Kill(std::string_view name, std::string signal) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  int sig = SignalNumber(signal, SIGKILL);
  if (sig <= 0) return Error::InvalidArgument("Invalid signal: " + signal);
  if (!e->c.state.running)
    return Error::Conflict("Cannot kill container: " + std::string(name) + ": Container " + id +
                           " is not running");
  if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
    e->c.manually_stopped = true;
    (void)Save(e->c);
  }
  if (e->c.state.paused && sig == SIGKILL) (void)rt_.Resume(id);
  BERTH_TRY(rt_.Kill(id, sig, false));
  Emit("kill", e->c, {{"signal", std::to_string(sig)}});
  return {};
}

Result<void> ContainerService::Restart(std::string_view name, std::optional<int> timeout,
                                       std::string signal) {
  BERTH_TRY(Stop(name, timeout, signal));
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  // The monitor's exit record may still be on its way.
  cv_.wait_for(lock, std::chrono::seconds(10), [&] { return !e->busy && !e->c.state.running; });
  if (e->c.state.running) return {};
  e->busy = true;
  auto r = StartLocked(lock, e.get());
  e->busy = false;
  cv_.notify_all();
  if (r) Emit("restart", e->c);
  return r;
}

Result<void> ContainerService::Pause(std::string_view name) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  if (!e->c.state.running) return Error::Conflict("Container " + id + " is not running");
  if (e->c.state.paused) return Error::Conflict("Container " + id + " is already paused");
  BERTH_TRY(rt_.Pause(id));
  e->c.state.paused = true;
  e->c.state.status = "paused";
  (void)Save(e->c);
  Emit("pause", e->c);
  return {};
}

Result<void> ContainerService::Unpause(std::string_view name) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  if (!e->c.state.paused) return Error::Conflict("Container " + id + " is not paused");
  BERTH_TRY(rt_.Resume(id));
  e->c.state.paused = false;
  e->c.state.status = "running";
  (void)Save(e->c);
  Emit("unpause", e->c);
  return {};
}

Result<void> ContainerService::Remove(std::string_view name, bool force, bool remove_volumes) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  if (e->busy && !force)
    return Error::Conflict("removal of container " + std::string(name) + " is already in progress");
  if (e->c.state.running || e->c.state.restarting) {
    if (!force)
      return Error::Conflict("You cannot remove a running container " + id +
                             ". Stop the container before attempting removal or force remove");
    e->c.manually_stopped = true;
    e->c.state.restarting = false;
    if (e->c.state.running) {
      uint64_t exits = e->exits;
      if (e->c.state.paused) (void)rt_.Resume(id);
      (void)rt_.Kill(id, SIGKILL, true);
      if (!cv_.wait_for(lock, std::chrono::seconds(30),
                        [&] { return e->exits != exits || !e->c.state.running; }))
        return Error::Unavailable("container " + id + " did not exit after SIGKILL");
    }
  }
  cv_.wait(lock, [&] { return !e->busy; });
  if (e->removed) return {};
  e->busy = true;
  return RemoveLocked(lock, e.get(), remove_volumes);
}

Result<void> ContainerService::RemoveLocked(std::unique_lock<std::mutex>& lock, Entry* e,
                                            bool remove_volumes) {
  Container c = e->c;
  e->c.state.status = "removing";
  lock.unlock();
  auto removed = [&]() -> Result<void> {
    if (IsMountPoint(c.rootfs) && ::umount2(c.rootfs.c_str(), MNT_DETACH) < 0)
      return Error::FromErrno(errno, "unmount " + c.rootfs);
    if (IsMountPoint(c.rootfs))
      return Error::Unavailable("the rootfs of " + c.id + " is still mounted");
    (void)rt_.Delete(c.id, true);
    // Gone from containers/ at once (a restart of berthd does not see it again); its files
    // are freed in the background, off the path of `docker run --rm`.
    BERTH_TRY(trash_->Discard(ContainerDir(c.id)));
    (void)run_trash_->Discard(RunDir(c.id));
    return {};
  }();
  lock.lock();
  e->busy = false;
  if (!removed) {
    e->c.state.status = c.state.status;
    e->c.state.dead = true;
    cv_.notify_all();
    return removed;
  }
  names_.erase(c.name);
  containers_.erase(c.id);
  for (auto it = execs_.begin(); it != execs_.end();)
    it = it->second.container_id == c.id ? execs_.erase(it) : std::next(it);
  e->removed = true;
  cv_.notify_all();
  lock.unlock();
  if (remove_volumes && o_.volumes) {
    for (const auto& m : c.mounts)
      if (m.type == "volume" && m.anonymous) (void)o_.volumes->Remove(m.name, true);
  }
  Emit("destroy", c);
  lock.lock();
  return {};
}

Result<int> ContainerService::Wait(std::string_view name, std::string_view condition,
                                   const std::function<void()>& on_ready) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  std::string cond(condition.empty() ? "not-running" : condition);
  if (cond != "not-running" && cond != "next-exit" && cond != "removed")
    return Error::InvalidArgument("invalid condition: \"" + cond + "\"");
  uint64_t exits = e->exits;
  lock.unlock();
  if (on_ready) on_ready();
  lock.lock();
  if (cond == "not-running") {
    cv_.wait(lock, [&] { return stopping_ || (!e->c.state.running && !e->c.state.restarting); });
  } else if (cond == "next-exit") {
    cv_.wait(lock, [&] { return stopping_ || e->exits != exits; });
  } else {
    cv_.wait(lock, [&] { return stopping_ || e->removed; });
  }
  if (stopping_) return Error::Unavailable("the daemon is shutting down");
  return e->c.state.exit_code;
}

Result<void> ContainerService::Rename(std::string_view name, std::string_view new_name) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  std::string n = BERTH_TRY(ValidateName(new_name));
  auto e = containers_[id];
  if (n == e->c.name)
    return Error::InvalidArgument("Renaming a container with the same name as its current name");
  if (auto it = names_.find(n); it != names_.end())
    return Error::Conflict("Conflict. The container name \"/" + n +
                           "\" is already in use by container \"" + it->second +
                           "\". You have to remove (or rename) that container to be able to "
                           "reuse that name.");
  std::string old = e->c.name;
  names_.erase(old);
  names_[n] = id;
  e->c.name = n;
  e->c.request.name = n;
  BERTH_TRY(Save(e->c));
  Emit("rename", e->c, {{"oldName", "/" + old}});
  return {};
}

Result<void> ContainerService::Update(std::string_view name, const HostConfig& u,
                                      bool restart_policy_set, std::vector<std::string>* warnings) {
  (void)warnings;
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  HostConfig& hc = e->c.request.host_config;
  if (restart_policy_set) {
    if (hc.auto_remove && !u.restart_policy.name.empty() && u.restart_policy.name != "no")
      return Error::InvalidArgument(
          "Restart policy cannot be updated because AutoRemove is enabled for the container");
    hc.restart_policy = u.restart_policy;
  }
  if (u.memory) hc.memory = u.memory;
  if (u.memory_swap) hc.memory_swap = u.memory_swap;
  if (u.memory_reservation) hc.memory_reservation = u.memory_reservation;
  if (u.nano_cpus) hc.nano_cpus = u.nano_cpus;
  if (u.cpu_shares) hc.cpu_shares = u.cpu_shares;
  if (u.cpu_period) hc.cpu_period = u.cpu_period;
  if (u.cpu_quota) hc.cpu_quota = u.cpu_quota;
  if (!u.cpuset_cpus.empty()) hc.cpuset_cpus = u.cpuset_cpus;
  if (!u.cpuset_mems.empty()) hc.cpuset_mems = u.cpuset_mems;
  if (u.pids_limit) hc.pids_limit = u.pids_limit;
  if (u.blkio_weight) hc.blkio_weight = u.blkio_weight;
  if (e->c.state.running) {
    image::Image img = BERTH_TRY(o_.images->Get(e->c.image_id));
    oci::Spec spec = BERTH_TRY(BuildSpec({.id = id,
                                          .config = &e->c.request.config,
                                          .host = &hc,
                                          .image = &img.config.config,
                                          .rootfs = e->c.rootfs,
                                          .init_path = o_.init_path,
                                          .namespace_paths = ProbeNamespaces(hc)}));
    if (spec.linux && spec.linux->resources) BERTH_TRY(rt_.Update(id, *spec.linux->resources));
  }
  BERTH_TRY(Save(e->c));
  Emit("update", e->c);
  return {};
}

Result<PruneResult> ContainerService::Prune(
    const std::map<std::string, std::vector<std::string>>& filters) {
  std::vector<std::string> candidates;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : containers_) {
      if (e->c.state.running || e->c.state.restarting || e->busy) continue;
      bool ok = true;
      if (auto f = filters.find("label"); f != filters.end()) {
        for (const auto& l : f->second) {
          auto eq = l.find('=');
          const auto& labels = e->c.request.config.labels;
          auto it = labels.find(l.substr(0, eq));
          if (it == labels.end() || (eq != std::string::npos && it->second != l.substr(eq + 1)))
            ok = false;
        }
      }
      if (auto f = filters.find("until"); f != filters.end() && !f->second.empty()) {
        int64_t until = image::UnixSeconds(f->second[0]);
        if (until == 0) until = std::strtoll(f->second[0].c_str(), nullptr, 10);
        if (image::UnixSeconds(e->c.created) >= until) ok = false;
      }
      if (ok) candidates.push_back(id);
    }
  }
  PruneResult out;
  for (const auto& id : candidates) {
    int64_t size = 0;
    (void)size;
    if (Remove(id, false, false)) out.deleted.push_back(id);
  }
  return out;
}

Result<Container> ContainerService::Get(std::string_view name) {
  std::lock_guard lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  return containers_[id]->c;
}

std::vector<Container> ContainerService::List() {
  std::lock_guard lock(mu_);
  std::vector<Container> out;
  for (const auto& [id, e] : containers_) out.push_back(e->c);
  std::sort(out.begin(), out.end(),
            [](const Container& a, const Container& b) { return a.created > b.created; });
  return out;
}

std::vector<std::string> ContainerService::UsersOfImage(const std::string& image_id) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, e] : containers_)
    if (e->c.image_id == image_id) out.push_back(id);
  return out;
}

std::vector<std::string> ContainerService::UsersOfVolume(const std::string& volume) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, e] : containers_)
    for (const auto& m : e->c.mounts)
      if (m.type == "volume" && m.name == volume) {
        out.push_back(id);
        break;
      }
  return out;
}

Result<Fd> ContainerService::ConnectMonitor(const std::string& id) {
  return monitor::Connect(monitor::SocketPath(RunDir(id)));
}

Result<std::shared_ptr<void>> ContainerService::BeginAttach(std::string_view name) {
  std::lock_guard lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  std::shared_ptr<Entry> e = containers_[id];
  ++e->attaching;
  return std::shared_ptr<void>(nullptr, [this, e](void*) {
    std::lock_guard l(mu_);
    --e->attaching;
    cv_.notify_all();
  });
}

Result<void> ContainerService::Attach(std::string_view name, const monitor::AttachRequest& req,
                                      Fd client) {
  std::unique_lock lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  if (!e->c.state.running || e->busy) {
    e->pending_attaches.emplace_back(req, std::move(client));
    return {};
  }
  lock.unlock();
  Fd conn = BERTH_TRY(ConnectMonitor(id));
  json body = {{"op", "attach"},
               {"stdin", req.stdin},
               {"stdout", req.stdout},
               {"stderr", req.stderr},
               {"detach_keys", req.detach_keys},
               {"initial", monitor::ToHex(req.initial)}};
  BERTH_TRY(monitor::Call(conn.get(), body, {client.get()}));
  lock.lock();
  Emit("attach", e->c);
  return {};
}

Result<void> ContainerService::Resize(std::string_view name, uint32_t height, uint32_t width) {
  std::string id;
  {
    std::lock_guard lock(mu_);
    id = BERTH_TRY(ResolveLocked(name));
    auto e = containers_[id];
    if (!e->c.state.running) {
      e->c.request.host_config.console_size = {static_cast<int>(height), static_cast<int>(width)};
      return Error::Conflict("Container " + id + " is not running");
    }
  }
  Fd conn = BERTH_TRY(ConnectMonitor(id));
  BERTH_TRY(monitor::Call(conn.get(), {{"op", "resize"}, {"height", height}, {"width", width}}));
  return {};
}

Result<std::string> ContainerService::ExecCreate(std::string_view name, ExecConfig config) {
  std::lock_guard lock(mu_);
  std::string id = BERTH_TRY(ResolveLocked(name));
  auto e = containers_[id];
  if (!e->c.state.running) return Error::Conflict("Container " + id + " is not running");
  if (e->c.state.paused)
    return Error::Conflict("Container " + id + " is paused, unpause the container before exec");
  if (e->c.state.restarting)
    return Error::Conflict("Container " + id +
                           " is restarting, wait until the container is running");
  if (config.cmd.empty()) return Error::InvalidArgument("No exec command specified");
  ExecInfo info;
  info.id = RandomHex(64);
  info.container_id = id;
  info.config = std::move(config);
  std::string eid = info.id;
  execs_[eid] = std::move(info);
  Emit("exec_create", e->c, {{"execID", eid}});
  return eid;
}

std::vector<std::string> ContainerService::ExecIds(const std::string& container_id) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, x] : execs_)
    if (x.container_id == container_id && (x.running || !x.started)) out.push_back(id);
  return out;
}

Result<ExecInfo> ContainerService::ExecInspect(const std::string& exec_id) {
  std::lock_guard lock(mu_);
  auto it = execs_.find(exec_id);
  if (it == execs_.end()) return Error::NotFound("No such exec instance: " + exec_id);
  ExecInfo& x = it->second;
  if (x.running && !x.exit_code) {
    // The monitor writes the exit file before it closes the client's stream.
    auto text = ReadFile(monitor::ExecExitFile(RunDir(x.container_id), exec_id));
    if (text) {
      json j = json::parse(*text, nullptr, false);
      if (j.is_object()) {
        x.running = false;
        x.exit_code = j.value("exit_code", 255);
      }
    }
  }
  return x;
}

Result<void> ContainerService::ExecStart(const std::string& exec_id, bool detach,
                                         std::optional<bool> tty, Fd client, std::string initial) {
  ExecInfo x;
  Container c;
  {
    std::lock_guard lock(mu_);
    auto it = execs_.find(exec_id);
    if (it == execs_.end()) return Error::NotFound("No such exec instance: " + exec_id);
    if (it->second.started)
      return Error::Conflict("Error: Exec command " + exec_id + " has already run");
    auto ce = containers_.find(it->second.container_id);
    if (ce == containers_.end() || !ce->second->c.state.running)
      return Error::Conflict("Container " + it->second.container_id + " is not running");
    if (ce->second->c.state.paused)
      return Error::Conflict("Container " + it->second.container_id +
                             " is paused, unpause the container before exec");
    it->second.started = true;
    it->second.running = true;
    if (tty) it->second.config.tty = *tty;
    x = it->second;
    c = ce->second->c;
  }
  auto fail = [&](const Error& err) -> Result<void> {
    std::lock_guard lock(mu_);
    auto it = execs_.find(exec_id);
    if (it != execs_.end()) {
      it->second.running = false;
      it->second.exit_code = StartFailureCode(err.message()) == 127 ? 127 : 126;
    }
    return err;
  };
  auto spec = rt_.SavedSpec(c.id);
  if (!spec) return fail(spec.error());
  auto process = BuildExecProcess({.container = &*spec,
                                   .cmd = x.config.cmd,
                                   .env = x.config.env,
                                   .user = x.config.user,
                                   .working_dir = x.config.working_dir,
                                   .tty = x.config.tty,
                                   .privileged = x.config.privileged,
                                   .rootfs = c.rootfs});
  if (!process) return fail(process.error());
  json body = {{"op", "exec"},
               {"exec_id", exec_id},
               {"process", json::parse(oci::SerializeProcess(*process))},
               {"tty", x.config.tty},
               {"stdin", x.config.attach_stdin && !detach},
               {"stdout", x.config.attach_stdout},
               {"stderr", x.config.attach_stderr},
               {"detach_keys", x.config.detach_keys},
               {"initial", monitor::ToHex(initial)}};
  if (x.config.console_size.size() == 2) {
    body["height"] = x.config.console_size[0];
    body["width"] = x.config.console_size[1];
  }
  auto conn = ConnectMonitor(c.id);
  if (!conn) return fail(conn.error());
  std::vector<int> fds;
  if (!detach && client) fds.push_back(client.get());
  auto reply = monitor::Call(conn->get(), body, fds);
  if (!reply) return fail(reply.error());
  {
    std::lock_guard lock(mu_);
    auto it = execs_.find(exec_id);
    if (it != execs_.end()) it->second.pid = reply->body.value("pid", 0);
  }
  Emit("exec_start", c, {{"execID", exec_id}});
  return {};
}

Result<void> ContainerService::ExecResize(const std::string& exec_id, uint32_t height,
                                          uint32_t width) {
  std::string cid;
  {
    std::lock_guard lock(mu_);
    auto it = execs_.find(exec_id);
    if (it == execs_.end()) return Error::NotFound("No such exec instance: " + exec_id);
    cid = it->second.container_id;
  }
  Fd conn = BERTH_TRY(ConnectMonitor(cid));
  BERTH_TRY(monitor::Call(
      conn.get(),
      {{"op", "exec_resize"}, {"exec_id", exec_id}, {"height", height}, {"width", width}}));
  return {};
}

Result<std::vector<pid_t>> ContainerService::Pids(std::string_view name) {
  std::string id;
  {
    std::lock_guard lock(mu_);
    id = BERTH_TRY(ResolveLocked(name));
    if (!containers_[id]->c.state.running)
      return Error::Conflict("Container " + id + " is not running");
  }
  return rt_.Pids(id);
}

Result<runtime::cgroups::Stats> ContainerService::Stats(std::string_view name) {
  std::string id;
  {
    std::lock_guard lock(mu_);
    id = BERTH_TRY(ResolveLocked(name));
    if (!containers_[id]->c.state.running) return runtime::cgroups::Stats{};
  }
  return rt_.Stats(id);
}

Result<void> ContainerService::WithRootfs(std::string_view name,
                                          const std::function<Result<void>(const Container&)>& fn) {
  Container c = BERTH_TRY(Get(name));
  if (IsMountPoint(c.rootfs)) return fn(c);
  // Stopped: a private mount of the overlay, apart from the one a start would make.
  std::string tmp = JoinPath(ContainerDir(c.id), "mnt-" + RandomHex(8));
  BERTH_TRY(MkdirAll(tmp, 0755));
  Container view = c;
  view.rootfs = tmp;
  std::string work = JoinPath(ContainerDir(c.id), "work-" + RandomHex(8));
  BERTH_TRY(MkdirAll(work, 0700));
  view.work_dir = work;
  auto mounted = MountRootfs(view);
  if (!mounted) {
    ::rmdir(tmp.c_str());
    (void)RemoveAll(work);
    return mounted;
  }
  auto r = fn(view);
  ::umount2(tmp.c_str(), MNT_DETACH);
  ::rmdir(tmp.c_str());
  (void)RemoveAll(work);
  return r;
}

}  // namespace berth::engine
