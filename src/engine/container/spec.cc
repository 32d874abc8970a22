// Docker's container model → an OCI runtime spec, with Docker's defaults (moby
// daemon/oci_linux.go, oci/defaults.go): what `docker run`'s flags mean to the runtime.

#include "engine/container/spec.h"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/container/config_internal.h"
#include "engine/container/spec_internal.h"
#include "util/file.h"

namespace berth::engine {
namespace {

using internal::CleanPath;

constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* kInitPath = "/sbin/docker-init";

std::string EnvKey(std::string_view e) { return std::string(e.substr(0, e.find('='))); }

// Docker's ReplaceOrAppendEnvValues: an override replaces the entry of its key or is appended;
// "KEY" without "=" removes KEY.
std::vector<std::string> ReplaceOrAppendEnv(std::vector<std::string> env,
                                            const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    std::string key = EnvKey(o);
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& e) { return EnvKey(e) == key; });
    if (o.find('=') == std::string::npos) {
      if (it != env.end()) env.erase(it);
    } else if (it != env.end()) {
      *it = o;
    } else {
      env.push_back(o);
    }
  }
  return env;
}

bool HasEnv(const std::vector<std::string>& env, std::string_view key) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return EnvKey(e) == key; });
}

// moby merge(): the container's env, then the image's entries whose keys it does not set.
std::vector<std::string> MergeEnv(const std::vector<std::string>& image,
                                  const std::vector<std::string>& user) {
  std::vector<std::string> out = user;
  for (const auto& e : image)
    if (!HasEnv(user, EnvKey(e))) out.push_back(e);
  return out;
}

const oci::ContainerConfig& ImageDefaults(const oci::ImageConfig* image) {
  static const oci::ContainerConfig kNone;
  return image && image->config ? *image->config : kNone;
}

oci::Mount MakeMount(std::string dest, std::string type, std::string source,
                     std::vector<std::string> options) {
  oci::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

size_t Depth(const std::string& path) {
  return std::count(path.begin(), path.end(), '/') - (path == "/" ? 1 : 0);
}

std::string HostHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// cgroup v1 without swap accounting has no memory.memsw files: a swap limit would fail the
// start, so it is dropped as Docker drops it (with a warning there).
bool SwapLimitSupported() {
  if (PathExists("/sys/fs/cgroup/cgroup.controllers")) return true;
  return PathExists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
}

Result<void> CheckSysctls(const HostConfig& h, bool host_net) {
  static const std::vector<std::string> kIpc = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [key, value] : h.sysctls) {
    bool ipc =
        std::find(kIpc.begin(), kIpc.end(), key) != kIpc.end() || key.starts_with("fs.mqueue.");
    bool uts = key == "kernel.domainname" || key == "kernel.hostname";
    if (ipc && h.ipc_mode != "host") continue;
    if (uts && h.uts_mode != "host") continue;
    if (key.starts_with("net.")) {
      if (host_net)
        return Error::InvalidArgument("sysctl \"" + key +
                                      "\" not allowed in host network namespace");
      continue;
    }
    return Error::InvalidArgument("sysctl \"" + key + "\" is not in a separate kernel namespace");
  }
  return {};
}

Result<void> AddNamespaces(const SpecInput& in, oci::Linux* lx) {
  const HostConfig& h = *in.host;
  auto add = [&](std::string type, std::string_view mode) -> Result<void> {
    oci::Namespace ns;
    ns.type = type;
    if (auto it = in.namespace_paths.find(type); it != in.namespace_paths.end()) {
      ns.path = it->second;
    } else if (mode.starts_with("container:")) {
      return Error::InvalidArgument(std::string(mode) + ": the " + type +
                                    " namespace of that container is not known");
    }
    lx->namespaces.push_back(std::move(ns));
    return {};
  };
  BERTH_TRY(add("mount", ""));
  if (h.network_mode != "host") BERTH_TRY(add("network", h.network_mode));
  if (h.uts_mode != "host") BERTH_TRY(add("uts", ""));
  if (h.pid_mode != "host") BERTH_TRY(add("pid", h.pid_mode));
  if (h.ipc_mode != "host") BERTH_TRY(add("ipc", h.ipc_mode));
  if (h.cgroupns_mode != "host") BERTH_TRY(add("cgroup", ""));
  return {};
}

oci::Resources BuildResources(const HostConfig& h, oci::Resources r) {
  oci::Memory mem;
  bool any_mem = false;
  auto set = [&](std::optional<int64_t>& field, int64_t v) {
    field = v;
    any_mem = true;
  };
  if (h.memory > 0) set(mem.limit, h.memory);
  if (h.memory_reservation > 0) set(mem.reservation, h.memory_reservation);
  if (h.memory_swap != 0 && h.memory > 0 && SwapLimitSupported()) set(mem.swap, h.memory_swap);
  if (h.memory_swappiness && *h.memory_swappiness >= 0) {
    mem.swappiness = static_cast<uint64_t>(*h.memory_swappiness);
    any_mem = true;
  }
  if (h.oom_kill_disable) {
    mem.disable_oom_killer = true;
    any_mem = true;
  }
  if (any_mem) r.memory = mem;

  oci::Cpu cpu;
  bool any_cpu = false;
  if (h.cpu_shares > 0) cpu.shares = static_cast<uint64_t>(h.cpu_shares), any_cpu = true;
  if (h.nano_cpus > 0) {
    constexpr uint64_t kPeriod = 100000;  // 100 ms, in µs
    cpu.period = kPeriod;
    cpu.quota = h.nano_cpus * static_cast<int64_t>(kPeriod) / 1000000000;
    any_cpu = true;
  }
  if (h.cpu_period > 0) cpu.period = static_cast<uint64_t>(h.cpu_period), any_cpu = true;
  if (h.cpu_quota != 0) cpu.quota = h.cpu_quota, any_cpu = true;
  if (!h.cpuset_cpus.empty()) cpu.cpus = h.cpuset_cpus, any_cpu = true;
  if (!h.cpuset_mems.empty()) cpu.mems = h.cpuset_mems, any_cpu = true;
  if (any_cpu) r.cpu = cpu;

  if (h.pids_limit && *h.pids_limit > 0) r.pids = oci::Pids{*h.pids_limit};
  if (h.blkio_weight > 0) {
    oci::BlockIo io;
    io.weight = static_cast<uint16_t>(h.blkio_weight);
    r.block_io = io;
  }
  return r;
}

std::vector<oci::Mount> BuildMounts(const SpecInput& in) {
  const HostConfig& h = *in.host;
  int64_t shm = h.shm_size > 0 ? h.shm_size : internal::kDefaultShmSize;
  bool rw_sys = h.privileged && !h.read_only_rootfs;
  std::vector<oci::Mount> defaults = {
      MakeMount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      MakeMount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      MakeMount("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      MakeMount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", rw_sys ? "rw" : "ro"}),
      MakeMount("/sys/fs/cgroup", "cgroup", "cgroup",
                {"nosuid", "noexec", "nodev", "relatime", rw_sys ? "rw" : "ro"}),
      MakeMount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
  };
  if (h.ipc_mode == "host")
    defaults.push_back(MakeMount("/dev/shm", "bind", "/dev/shm", {"rbind", "rprivate", "rw"}));
  else if (h.ipc_mode != "none")
    defaults.push_back(
        MakeMount("/dev/shm", "tmpfs", "shm",
                  {"nosuid", "noexec", "nodev", "mode=1777", "size=" + std::to_string(shm)}));

  // Mounts the container asked for (and the host files), deepest last so parents come first.
  std::vector<oci::Mount> user;
  for (const auto& m : in.mounts)
    user.push_back(MakeMount(CleanPath(m.destination), m.type, m.source, m.options));
  std::vector<std::string> rw = {"rbind", "rprivate", h.read_only_rootfs ? "ro" : "rw"};
  auto host_file = [&](const std::string& src, const char* dest) {
    bool taken = std::any_of(user.begin(), user.end(),
                             [&](const oci::Mount& m) { return m.destination == dest; });
    if (!src.empty() && !taken) user.push_back(MakeMount(dest, "bind", src, rw));
  };
  host_file(in.hostname_path, "/etc/hostname");
  host_file(in.hosts_path, "/etc/hosts");
  host_file(in.resolv_conf_path, "/etc/resolv.conf");
  if (h.init.value_or(false) && !in.init_path.empty())
    user.push_back(MakeMount(kInitPath, "bind", in.init_path, {"bind", "ro"}));
  std::stable_sort(user.begin(), user.end(), [](const oci::Mount& a, const oci::Mount& b) {
    return Depth(a.destination) < Depth(b.destination);
  });

  bool user_dev = std::any_of(user.begin(), user.end(),
                              [](const oci::Mount& m) { return m.destination == "/dev"; });
  std::vector<oci::Mount> out;
  for (auto& d : defaults) {
    bool covered = std::any_of(user.begin(), user.end(),
                               [&](const oci::Mount& m) { return m.destination == d.destination; });
    if (covered || (user_dev && d.destination.starts_with("/dev/"))) continue;
    out.push_back(std::move(d));
  }
  for (auto& m : user) out.push_back(std::move(m));
  return out;
}

// A mount with (r)shared propagation needs a shared rootfs, (r)slave at least a slave one.
std::string RootfsPropagation(const std::vector<oci::Mount>& mounts) {
  std::string out;
  for (const auto& m : mounts)
    for (const auto& o : m.options) {
      if (o == "shared" || o == "rshared") return "shared";
      if (o == "slave" || o == "rslave") out = "rslave";
    }
  return out;
}

oci::Capabilities CapSet(const std::vector<std::string>& caps) {
  oci::Capabilities c;
  c.bounding = c.effective = c.permitted = caps;
  return c;
}

}  // namespace

std::vector<std::string> ProcessArgs(const ContainerConfig& config, const oci::ImageConfig& image) {
  const oci::ContainerConfig& img = ImageDefaults(&image);
  std::vector<std::string> ep, cmd;
  if (!config.entrypoint.empty()) {
    ep = config.entrypoint;
    cmd = config.cmd;
  } else {
    cmd = !config.cmd.empty() ? config.cmd : img.cmd.value_or(std::vector<std::string>{});
    if (!config.entrypoint_set) ep = img.entrypoint.value_or(std::vector<std::string>{});
  }
  if (ep.size() == 1 && ep[0].empty()) ep.clear();  // --entrypoint "" clears
  ep.insert(ep.end(), cmd.begin(), cmd.end());
  return ep;
}

ContainerConfig MergeImageConfig(ContainerConfig c, const oci::ImageConfig& image) {
  const oci::ContainerConfig& img = ImageDefaults(&image);
  if (c.user.empty()) c.user = img.user;
  for (const auto& p : img.exposed_ports)
    if (std::find(c.exposed_ports.begin(), c.exposed_ports.end(), p) == c.exposed_ports.end())
      c.exposed_ports.push_back(p);
  c.env = MergeEnv(img.env, c.env);
  for (const auto& [k, v] : img.labels) c.labels.emplace(k, v);
  if (c.entrypoint.empty()) {
    if (c.cmd.empty() && img.cmd) {
      c.cmd = *img.cmd;
      c.cmd_set = true;
    }
    if (!c.entrypoint_set && img.entrypoint) {
      c.entrypoint = *img.entrypoint;
      c.entrypoint_set = true;
    }
  }
  if (img.healthcheck) {
    nlohmann::json user = c.healthcheck_json.empty()
                              ? nlohmann::json::object()
                              : nlohmann::json::parse(c.healthcheck_json, nullptr, false);
    if (user.is_object()) {
      const auto& hc = *img.healthcheck;
      auto fill = [&](const char* key, const nlohmann::json& v) {
        auto it = user.find(key);
        bool zero = it == user.end() || it->is_null() || (it->is_number() && *it == 0) ||
                    (it->is_array() && it->empty());
        if (zero) user[key] = v;
      };
      fill("Test", hc.test);
      fill("Interval", hc.interval);
      fill("Timeout", hc.timeout);
      fill("StartPeriod", hc.start_period);
      fill("StartInterval", hc.start_interval);
      fill("Retries", hc.retries);
      c.healthcheck_json = user.dump();
    }
  }
  if (c.working_dir.empty()) c.working_dir = img.working_dir;
  for (const auto& v : img.volumes) c.volumes.emplace(v, "");
  if (c.stop_signal.empty()) c.stop_signal = img.stop_signal;
  return c;
}

ResolvedMount ResolveMount(const MountSpec& m, const std::string& host_source) {
  ResolvedMount r;
  r.destination = CleanPath(m.target);
  if (m.type == "tmpfs") {
    r.type = "tmpfs";
    r.source = "tmpfs";
    std::vector<std::string> opts = {"noexec", "nosuid", "nodev", "rprivate"};
    if (m.read_only) opts.push_back("ro");
    if (m.tmpfs_size > 0) opts.push_back("size=" + std::to_string(m.tmpfs_size));
    if (m.tmpfs_mode != 0) {
      char mode[24];
      std::snprintf(mode, sizeof mode, "mode=%o", m.tmpfs_mode);
      opts.push_back(mode);
    }
    for (auto& o : Split(m.tmpfs_options, ',', /*skip_empty=*/true)) opts.push_back(std::move(o));
    // A later option wins over an earlier one of the same kind (exec over noexec, size=).
    auto kind = [](const std::string& o) -> std::string {
      if (auto eq = o.find('='); eq != std::string::npos) return o.substr(0, eq);
      if (o == "ro" || o == "rw") return "rw";
      for (std::string p : {"exec", "suid", "dev", "atime", "diratime"})
        if (o == p || o == "no" + p) return p;
      return o;
    };
    std::vector<std::string> merged;
    for (auto it = opts.rbegin(); it != opts.rend(); ++it)
      if (std::none_of(merged.begin(), merged.end(),
                       [&](const std::string& x) { return kind(x) == kind(*it); }))
        merged.insert(merged.begin(), *it);
    r.options = std::move(merged);
    return r;
  }
  r.type = "bind";
  r.source = host_source.empty() ? m.source : host_source;
  r.options = {m.non_recursive ? "bind" : "rbind", m.read_only ? "ro" : "rw",
               m.propagation.empty() ? "rprivate" : m.propagation};
  return r;
}

Result<oci::Spec> BuildSpec(const SpecInput& in) {
  if (!in.config || !in.host) return Error::InvalidArgument("build spec: no config");
  const ContainerConfig& c = *in.config;
  const HostConfig& h = *in.host;
  static const oci::ImageConfig kNoImage;
  const oci::ImageConfig& image = in.image ? *in.image : kNoImage;
  const oci::ContainerConfig& img = ImageDefaults(&image);

  oci::Spec spec;
  spec.oci_version = std::string(oci::kOciVersion);
  std::vector<std::string> caps = BERTH_TRY(internal::ContainerCaps(h));

  oci::Process p;
  p.args = ProcessArgs(c, image);
  if (p.args.empty()) return Error::InvalidArgument("no command specified");
  if (h.init.value_or(false)) {
    if (in.init_path.empty())
      return Error::FailedPrecondition("--init: no init binary (berth-init) configured");
    p.args.insert(p.args.begin(), {kInitPath, "--"});
  }
  p.terminal = c.tty;
  if (h.console_size.size() == 2 && h.console_size[0] > 0 && h.console_size[1] > 0)
    p.console_size = oci::ConsoleSize{static_cast<uint32_t>(h.console_size[0]),
                                      static_cast<uint32_t>(h.console_size[1])};

  bool host_net = h.network_mode == "host";
  if (h.uts_mode != "host") {
    spec.hostname = !c.hostname.empty() ? c.hostname
                    : host_net          ? HostHostname()
                                        : in.id.substr(0, 12);
    spec.domainname = c.domainname;
  }
  std::vector<std::string> base = {
      kDefaultPath, "HOSTNAME=" + (spec.hostname.empty() ? HostHostname() : spec.hostname)};
  if (c.tty) base.push_back("TERM=xterm");
  p.env = ReplaceOrAppendEnv(std::move(base), MergeEnv(img.env, c.env));

  internal::ExecUser user =
      BERTH_TRY(internal::ResolveUser(in.rootfs, !c.user.empty() ? c.user : img.user, h.group_add));
  p.user.uid = user.uid;
  p.user.gid = user.gid;
  p.user.additional_gids = user.additional_gids;
  if (!HasEnv(p.env, "HOME")) p.env.push_back("HOME=" + user.home);

  std::string cwd = !c.working_dir.empty() ? c.working_dir : img.working_dir;
  p.cwd = cwd.empty() ? "/" : CleanPath(cwd);
  p.capabilities = CapSet(caps);
  for (const auto& u : h.ulimits) p.rlimits.push_back(BERTH_TRY(internal::ToRlimit(u)));
  p.no_new_privileges = h.no_new_privileges;
  p.oom_score_adj = h.oom_score_adj;
  spec.process = std::move(p);

  spec.root = oci::Root{in.rootfs, h.read_only_rootfs};
  spec.mounts = BuildMounts(in);

  oci::Linux lx;
  BERTH_TRY(AddNamespaces(in, &lx));
  BERTH_TRY(internal::AddDevices(h, in.host_dev, &lx));
  lx.resources = BuildResources(h, std::move(*lx.resources));
  std::string parent = !h.cgroup_parent.empty() ? h.cgroup_parent : in.cgroup_parent;
  lx.cgroups_path = CleanPath(parent + "/" + in.id);
  BERTH_TRY(CheckSysctls(h, host_net));
  lx.sysctl = h.sysctls;
  if (!h.privileged) {
    lx.masked_paths = h.masked_paths.value_or(internal::DefaultMaskedPaths());
    lx.readonly_paths = h.readonly_paths.value_or(internal::DefaultReadonlyPaths());
    if (!h.seccomp_unconfined) {
      if (!h.seccomp_profile_json.empty())
        lx.seccomp = BERTH_TRY(internal::ParseDockerSeccomp(h.seccomp_profile_json, caps));
      else
        lx.seccomp = internal::DefaultSeccomp(caps);
    }
  }
  lx.rootfs_propagation = RootfsPropagation(spec.mounts);
  spec.linux = std::move(lx);
  return spec;
}

Result<oci::Process> BuildExecProcess(const ExecInput& in) {
  if (!in.container || !in.container->process)
    return Error::FailedPrecondition("exec: the container has no process");
  if (in.cmd.empty()) return Error::InvalidArgument("No exec command specified");
  oci::Process p = *in.container->process;
  p.args = in.cmd;
  p.terminal = in.tty;
  p.console_size.reset();
  p.env = ReplaceOrAppendEnv(p.env, in.env);
  if (in.tty && !HasEnv(p.env, "TERM")) p.env.push_back("TERM=xterm");
  if (!in.user.empty()) {
    internal::ExecUser user = BERTH_TRY(internal::ResolveUser(in.rootfs, in.user, {}));
    p.user.uid = user.uid;
    p.user.gid = user.gid;
    p.user.additional_gids = user.additional_gids;
    if (!HasEnv(in.env, "HOME")) p.env = ReplaceOrAppendEnv(p.env, {"HOME=" + user.home});
  }
  if (!in.working_dir.empty()) {
    if (in.working_dir[0] != '/')
      return Error::InvalidArgument("the working directory '" + in.working_dir +
                                    "' is invalid, it needs to be an absolute path");
    p.cwd = CleanPath(in.working_dir);
  }
  if (in.privileged) p.capabilities = CapSet(internal::AllCaps());
  return p;
}

}  // namespace berth::engine
