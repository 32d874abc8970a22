// Docker's create body → ContainerConfig and HostConfig, with the daemon's checks and messages
// (moby daemon/create.go, daemon_unix.go verifyPlatformContainerResources, runconfig).

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "engine/container/config.h"
#include "engine/container/config_internal.h"
#include "engine/container/spec_internal.h"
#include "util/file.h"

namespace berth::engine {
namespace internal {
namespace {

std::string_view KindOf(const Json& v) {
  if (v.is_string()) return "string";
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

}  // namespace

Result<Fields> Fields::Of(const Json& value, std::string_view go_struct) {
  Fields f;
  f.struct_ = go_struct;
  if (value.is_null()) return f;
  if (!value.is_object())
    return Error::InvalidArgument("json: cannot unmarshal " + std::string(KindOf(value)) +
                                  " into Go value of type " + std::string(go_struct));
  f.obj_ = &value;
  return f;
}

const Json* Fields::Get(std::string_view key) const {
  if (!obj_) return nullptr;
  auto it = obj_->find(key);
  if (it == obj_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool Fields::Has(std::string_view key) const { return Get(key) != nullptr; }

Error Fields::TypeError(std::string_view key, const Json& got, std::string_view go_type) const {
  return Error::InvalidArgument("json: cannot unmarshal " + std::string(KindOf(got)) +
                                " into Go struct field " + struct_ + "." + std::string(key) +
                                " of type " + std::string(go_type));
}

Result<std::string> Fields::String(std::string_view key) const {
  const Json* v = Get(key);
  if (!v) return std::string();
  if (!v->is_string()) return TypeError(key, *v, "string");
  return v->get<std::string>();
}

Result<bool> Fields::Bool(std::string_view key) const {
  const Json* v = Get(key);
  if (!v) return false;
  if (!v->is_boolean()) return TypeError(key, *v, "bool");
  return v->get<bool>();
}

Result<std::optional<bool>> Fields::OptBool(std::string_view key) const {
  if (!Get(key)) return std::optional<bool>();
  return std::optional<bool>(BERTH_TRY(Bool(key)));
}

Result<int64_t> Fields::Int(std::string_view key, std::string_view go_type) const {
  const Json* v = Get(key);
  if (!v) return int64_t{0};
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
      return TypeError(key, *v, go_type);
    return v->get<int64_t>();
  }
  // Go accepts 1e3 for an integer field only if it is integral; so do we.
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::trunc(d) == d && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
  }
  return TypeError(key, *v, go_type);
}

Result<std::optional<int64_t>> Fields::OptInt(std::string_view key) const {
  if (!Get(key)) return std::optional<int64_t>();
  return std::optional<int64_t>(BERTH_TRY(Int(key)));
}

Result<std::vector<std::string>> Fields::Strings(std::string_view key) const {
  std::vector<std::string> out;
  const Json* v = Get(key);
  if (!v) return out;
  if (!v->is_array()) return TypeError(key, *v, "[]string");
  for (const auto& e : *v) {
    if (!e.is_string()) return TypeError(key, e, "string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::optional<std::vector<std::string>>> Fields::StrSlice(std::string_view key) const {
  const Json* v = Get(key);
  if (!v) return std::optional<std::vector<std::string>>();
  if (v->is_string()) return std::optional(std::vector<std::string>{v->get<std::string>()});
  if (!v->is_array()) return TypeError(key, *v, "strslice.StrSlice");
  return std::optional(BERTH_TRY(Strings(key)));
}

Result<std::map<std::string, std::string>> Fields::StringMap(std::string_view key) const {
  std::map<std::string, std::string> out;
  const Json* v = Get(key);
  if (!v) return out;
  if (!v->is_object()) return TypeError(key, *v, "map[string]string");
  for (const auto& [k, e] : v->items()) {
    if (e.is_null()) {
      out[k];
      continue;
    }
    if (!e.is_string()) return TypeError(key, e, "string");
    out[k] = e.get<std::string>();
  }
  return out;
}

Result<std::vector<std::string>> Fields::Keys(std::string_view key) const {
  std::vector<std::string> out;
  const Json* v = Get(key);
  if (!v) return out;
  if (!v->is_object()) return TypeError(key, *v, "map[string]struct {}");
  for (const auto& [k, e] : v->items()) out.push_back(k);
  return out;
}

Result<const Json*> Fields::Object(std::string_view key) const {
  const Json* v = Get(key);
  if (v && !v->is_object()) return TypeError(key, *v, "object");
  return v;
}

Result<const Json*> Fields::Array(std::string_view key) const {
  const Json* v = Get(key);
  if (v && !v->is_array()) return TypeError(key, *v, "array");
  return v;
}

Result<Json> ParseJson(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    try {
      Json again = Json::parse(text);  // throws the parse error's description
      (void)again;
    } catch (const std::exception& e) {
      return Error::InvalidArgument("invalid JSON in " + std::string(what) + ": " + e.what());
    }
    return Error::InvalidArgument("invalid JSON in " + std::string(what));
  }
  return j;
}

}  // namespace internal

namespace {

using internal::Fields;
using internal::Json;

Result<ContainerConfig> ParseConfigFields(const Fields& f) {
  ContainerConfig c;
  c.hostname = BERTH_TRY(f.String("Hostname"));
  c.domainname = BERTH_TRY(f.String("Domainname"));
  c.user = BERTH_TRY(f.String("User"));
  c.attach_stdin = BERTH_TRY(f.Bool("AttachStdin"));
  c.attach_stdout = BERTH_TRY(f.Bool("AttachStdout"));
  c.attach_stderr = BERTH_TRY(f.Bool("AttachStderr"));
  c.tty = BERTH_TRY(f.Bool("Tty"));
  c.open_stdin = BERTH_TRY(f.Bool("OpenStdin"));
  c.stdin_once = BERTH_TRY(f.Bool("StdinOnce"));
  c.env = BERTH_TRY(f.Strings("Env"));
  if (auto cmd = BERTH_TRY(f.StrSlice("Cmd"))) {
    c.cmd = std::move(*cmd);
    c.cmd_set = true;
  }
  if (auto ep = BERTH_TRY(f.StrSlice("Entrypoint"))) {
    c.entrypoint = std::move(*ep);
    c.entrypoint_set = true;
  }
  c.image = BERTH_TRY(f.String("Image"));
  for (auto& v : BERTH_TRY(f.Keys("Volumes"))) c.volumes[v];
  c.working_dir = BERTH_TRY(f.String("WorkingDir"));
  c.labels = BERTH_TRY(f.StringMap("Labels"));
  c.stop_signal = BERTH_TRY(f.String("StopSignal"));
  if (auto t = BERTH_TRY(f.OptInt("StopTimeout"))) c.stop_timeout = static_cast<int>(*t);
  c.exposed_ports = BERTH_TRY(f.Keys("ExposedPorts"));
  c.network_disabled = BERTH_TRY(f.Bool("NetworkDisabled"));
  c.shell = BERTH_TRY(f.StrSlice("Shell")).value_or(std::vector<std::string>{});
  if (const Json* h = BERTH_TRY(f.Object("Healthcheck"))) c.healthcheck_json = h->dump();
  return c;
}

Result<HostConfig> ParseHostFields(const Json& value) {
  Fields f = BERTH_TRY(Fields::Of(value, "HostConfig"));
  HostConfig h;
  h.binds = BERTH_TRY(f.Strings("Binds"));
  h.tmpfs = BERTH_TRY(f.StringMap("Tmpfs"));
  h.read_only_rootfs = BERTH_TRY(f.Bool("ReadonlyRootfs"));
  h.network_mode = BERTH_TRY(f.String("NetworkMode"));
  if (const Json* pb = BERTH_TRY(f.Object("PortBindings"))) {
    for (const auto& [port, list] : pb->items()) {
      auto& out = h.port_bindings[port];
      if (list.is_null()) continue;
      if (!list.is_array()) return f.TypeError("PortBindings", list, "[]nat.PortBinding");
      for (const auto& b : list) {
        Fields bf = BERTH_TRY(Fields::Of(b, "PortBinding"));
        out.push_back({BERTH_TRY(bf.String("HostIp")), BERTH_TRY(bf.String("HostPort"))});
      }
    }
  }
  h.publish_all_ports = BERTH_TRY(f.Bool("PublishAllPorts"));
  if (const Json* rp = BERTH_TRY(f.Object("RestartPolicy"))) {
    Fields rf = BERTH_TRY(Fields::Of(*rp, "RestartPolicy"));
    h.restart_policy.name = BERTH_TRY(rf.String("Name"));
    h.restart_policy.maximum_retry_count =
        static_cast<int>(BERTH_TRY(rf.Int("MaximumRetryCount", "int")));
  }
  h.auto_remove = BERTH_TRY(f.Bool("AutoRemove"));
  if (const Json* lc = BERTH_TRY(f.Object("LogConfig"))) {
    Fields lf = BERTH_TRY(Fields::Of(*lc, "LogConfig"));
    std::string type = BERTH_TRY(lf.String("Type"));
    if (!type.empty()) h.log_config.type = type;
    h.log_config.config = BERTH_TRY(lf.StringMap("Config"));
  }
  h.cap_add = BERTH_TRY(f.StrSlice("CapAdd")).value_or(std::vector<std::string>{});
  h.cap_drop = BERTH_TRY(f.StrSlice("CapDrop")).value_or(std::vector<std::string>{});
  h.privileged = BERTH_TRY(f.Bool("Privileged"));
  if (const Json* devs = BERTH_TRY(f.Array("Devices"))) {
    for (const auto& d : *devs) {
      Fields df = BERTH_TRY(Fields::Of(d, "DeviceMapping"));
      DeviceMapping m;
      m.path_on_host = BERTH_TRY(df.String("PathOnHost"));
      m.path_in_container = BERTH_TRY(df.String("PathInContainer"));
      std::string perms = BERTH_TRY(df.String("CgroupPermissions"));
      if (!perms.empty()) m.cgroup_permissions = perms;
      h.devices.push_back(std::move(m));
    }
  }
  h.device_cgroup_rules = BERTH_TRY(f.Strings("DeviceCgroupRules"));
  h.security_opt = BERTH_TRY(f.Strings("SecurityOpt"));
  h.init = BERTH_TRY(f.OptBool("Init"));
  h.shm_size = BERTH_TRY(f.Int("ShmSize"));
  h.dns = BERTH_TRY(f.Strings("Dns"));
  h.dns_search = BERTH_TRY(f.Strings("DnsSearch"));
  h.dns_options = BERTH_TRY(f.Strings("DnsOptions"));
  h.extra_hosts = BERTH_TRY(f.Strings("ExtraHosts"));
  h.group_add = BERTH_TRY(f.Strings("GroupAdd"));
  h.sysctls = BERTH_TRY(f.StringMap("Sysctls"));
  h.ipc_mode = BERTH_TRY(f.String("IpcMode"));
  h.pid_mode = BERTH_TRY(f.String("PidMode"));
  h.uts_mode = BERTH_TRY(f.String("UTSMode"));
  h.userns_mode = BERTH_TRY(f.String("UsernsMode"));
  h.cgroupns_mode = BERTH_TRY(f.String("CgroupnsMode"));
  h.volumes_from = BERTH_TRY(f.Strings("VolumesFrom"));
  h.links = BERTH_TRY(f.Strings("Links"));
  h.volume_driver = BERTH_TRY(f.String("VolumeDriver"));
  h.oom_score_adj = static_cast<int>(BERTH_TRY(f.Int("OomScoreAdj", "int")));
  if (const Json* uls = BERTH_TRY(f.Array("Ulimits"))) {
    for (const auto& u : *uls) {
      Fields uf = BERTH_TRY(Fields::Of(u, "Ulimit"));
      h.ulimits.push_back(
          {BERTH_TRY(uf.String("Name")), BERTH_TRY(uf.Int("Soft")), BERTH_TRY(uf.Int("Hard"))});
    }
  }
  h.memory = BERTH_TRY(f.Int("Memory"));
  h.memory_swap = BERTH_TRY(f.Int("MemorySwap"));
  h.memory_reservation = BERTH_TRY(f.Int("MemoryReservation"));
  h.memory_swappiness = BERTH_TRY(f.OptInt("MemorySwappiness"));
  h.nano_cpus = BERTH_TRY(f.Int("NanoCpus"));
  h.cpu_shares = BERTH_TRY(f.Int("CpuShares"));
  h.cpu_period = BERTH_TRY(f.Int("CpuPeriod"));
  h.cpu_quota = BERTH_TRY(f.Int("CpuQuota"));
  h.cpuset_cpus = BERTH_TRY(f.String("CpusetCpus"));
  h.cpuset_mems = BERTH_TRY(f.String("CpusetMems"));
  h.pids_limit = BERTH_TRY(f.OptInt("PidsLimit"));
  h.oom_kill_disable = BERTH_TRY(f.OptBool("OomKillDisable")).value_or(false);
  h.blkio_weight = BERTH_TRY(f.Int("BlkioWeight", "uint16"));
  h.cgroup_parent = BERTH_TRY(f.String("CgroupParent"));
  if (const Json* cs = BERTH_TRY(f.Array("ConsoleSize"))) {
    for (const auto& n : *cs) {
      if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > 65535)
        return f.TypeError("ConsoleSize", n, "uint");
      h.console_size.push_back(n.get<int>());
    }
    if (h.console_size.size() != 2 && !h.console_size.empty())
      return Error::InvalidArgument("json: ConsoleSize must have 2 elements: [height, width]");
  }
  if (f.Has("MaskedPaths")) h.masked_paths = BERTH_TRY(f.Strings("MaskedPaths"));
  if (f.Has("ReadonlyPaths")) h.readonly_paths = BERTH_TRY(f.Strings("ReadonlyPaths"));

  // Binds, then Mounts, then Tmpfs: one list the engine mounts from.
  for (const auto& b : h.binds) {
    MountSpec m = BERTH_TRY(ParseBind(b));
    h.mounts.push_back(std::move(m));
  }
  if (const Json* mounts = BERTH_TRY(f.Array("Mounts"))) {
    for (const auto& mj : *mounts) h.mounts.push_back(BERTH_TRY(internal::ParseMountJson(mj)));
  }
  for (const auto& [target, opts] : h.tmpfs)
    h.mounts.push_back(BERTH_TRY(internal::TmpfsMount(target, opts)));
  return h;
}

// --security-opt, as moby's parseSecurityOpt (label and apparmor are accepted and ignored).
Result<void> ApplySecurityOpts(HostConfig* h) {
  h->no_new_privileges = false;
  h->seccomp_unconfined = false;
  h->seccomp_profile_json.clear();
  for (const auto& opt : h->security_opt) {
    if (opt == "no-new-privileges") {
      h->no_new_privileges = true;
      continue;
    }
    if (opt == "disable") continue;
    size_t eq = opt.find('=');
    if (eq == std::string::npos) eq = opt.find(':');  // the deprecated "key:value" form
    if (eq == std::string::npos)
      return Error::InvalidArgument("invalid --security-opt 1: \"" + opt + "\"");
    std::string key = opt.substr(0, eq), value = opt.substr(eq + 1);
    if (key == "label" || key == "apparmor") continue;
    if (key == "seccomp") {
      h->seccomp_unconfined = value == "unconfined";
      if (value == "unconfined" || value == "builtin" || value.empty())
        h->seccomp_profile_json.clear();
      else
        h->seccomp_profile_json = value;
      continue;
    }
    if (key == "no-new-privileges") {
      if (value == "true" || value == "1" || value == "t" || value == "TRUE" || value == "True")
        h->no_new_privileges = true;
      else if (value == "false" || value == "0" || value == "f" || value == "FALSE" ||
               value == "False")
        h->no_new_privileges = false;
      else
        return Error::InvalidArgument("invalid --security-opt 2: \"" + opt + "\"");
      continue;
    }
    if (key == "systempaths" && value == "unconfined") {
      h->masked_paths.emplace();
      h->readonly_paths.emplace();
      continue;
    }
    return Error::InvalidArgument("invalid --security-opt 2: \"" + opt + "\"");
  }
  return {};
}

bool ValidCpuset(std::string_view s) {
  if (s.empty()) return true;
  for (const auto& part : Split(s, ',')) {
    auto dash = part.find('-');
    auto num = [](std::string_view n) {
      return !n.empty() && n.size() < 6 &&
             std::all_of(n.begin(), n.end(), [](char c) { return std::isdigit(uint8_t(c)); });
    };
    if (dash == std::string::npos) {
      if (!num(part)) return false;
    } else {
      std::string_view a(part.data(), dash), b(part.data() + dash + 1, part.size() - dash - 1);
      if (!num(a) || !num(b) || std::stoi(std::string(a)) > std::stoi(std::string(b))) return false;
    }
  }
  return true;
}

bool ValidPort(std::string_view p, bool allow_empty) {
  if (p.empty()) return allow_empty;
  auto dash = p.find('-');
  auto one = [](std::string_view n) {
    if (n.empty() || n.size() > 5) return false;
    for (char c : n)
      if (!std::isdigit(uint8_t(c))) return false;
    return std::stoi(std::string(n)) <= 65535;
  };
  if (dash == std::string_view::npos) return one(p);
  return one(p.substr(0, dash)) && one(p.substr(dash + 1));
}

bool ValidNsMode(std::string_view mode, std::initializer_list<std::string_view> plain,
                 bool container) {
  for (auto m : plain)
    if (mode == m) return true;
  return container && mode.starts_with("container:") && mode.size() > 10;
}

constexpr int64_t kMinMemory = 6 << 20;

Result<void> ValidateHost(HostConfig* h) {
  const auto& rp = h->restart_policy;
  if (rp.name == "always" || rp.name == "unless-stopped" || rp.name == "no") {
    if (rp.maximum_retry_count != 0) {
      std::string msg =
          "invalid restart policy: maximum retry count can only be used with 'on-failure'";
      if (rp.maximum_retry_count < 0) msg += " and cannot be negative";
      return Error::InvalidArgument(msg);
    }
  } else if (rp.name == "on-failure") {
    if (rp.maximum_retry_count < 0)
      return Error::InvalidArgument(
          "invalid restart policy: maximum retry count cannot be negative");
  } else if (!rp.name.empty()) {
    return Error::InvalidArgument("invalid restart policy: unknown policy '" + rp.name +
                                  "'; use one of 'no', 'always', 'on-failure', or "
                                  "'unless-stopped'");
  }
  if (h->auto_remove && !rp.name.empty() && rp.name != "no")
    return Error::InvalidArgument("can't create 'AutoRemove' container with restart policy");

  if (h->memory != 0 && h->memory < kMinMemory)
    return Error::InvalidArgument("Minimum memory limit allowed is 6MB");
  if (h->memory > 0 && h->memory_swap > 0 && h->memory_swap < h->memory)
    return Error::InvalidArgument(
        "Minimum memoryswap limit should be larger than memory limit, see usage");
  if (h->memory == 0 && h->memory_swap > 0)
    return Error::InvalidArgument(
        "You should always set the Memory limit when using Memoryswap limit, see usage");
  if (h->memory_swap < -1)
    return Error::InvalidArgument("invalid memory swap " + std::to_string(h->memory_swap) +
                                  ": must be -1 (unlimited) or a size");
  if (h->memory > 0 && h->memory_reservation > 0 && h->memory < h->memory_reservation)
    return Error::InvalidArgument(
        "Minimum memory limit can not be less than memory reservation limit, see usage");
  if (h->memory_reservation != 0 && h->memory_reservation < kMinMemory)
    return Error::InvalidArgument("Minimum memory reservation allowed is 6MB");
  if (h->memory_swappiness && *h->memory_swappiness != -1 &&
      (*h->memory_swappiness < 0 || *h->memory_swappiness > 100))
    return Error::InvalidArgument("Invalid value: " + std::to_string(*h->memory_swappiness) +
                                  ", valid memory swappiness range is 0-100");
  if (h->nano_cpus != 0 && h->cpu_period != 0)
    return Error::InvalidArgument(
        "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (h->nano_cpus != 0 && h->cpu_quota != 0)
    return Error::InvalidArgument(
        "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  long ncpu = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  if (h->nano_cpus < 0 || h->nano_cpus > ncpu * 1000000000LL)
    return Error::InvalidArgument("Range of CPUs is from 0.01 to " + std::to_string(ncpu) +
                                  ".00, as there are only " + std::to_string(ncpu) +
                                  " CPUs available");
  if (h->cpu_shares < 0)
    return Error::InvalidArgument("invalid CPU shares (" + std::to_string(h->cpu_shares) +
                                  "): value must be a positive integer");
  if (h->cpu_period != 0 && (h->cpu_period < 1000 || h->cpu_period > 1000000))
    return Error::InvalidArgument(
        "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (h->cpu_quota > 0 && h->cpu_quota < 1000)
    return Error::InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (!ValidCpuset(h->cpuset_cpus))
    return Error::InvalidArgument("Invalid value " + h->cpuset_cpus + " for cpuset cpus");
  if (!ValidCpuset(h->cpuset_mems))
    return Error::InvalidArgument("Invalid value " + h->cpuset_mems + " for cpuset mems");
  if (h->blkio_weight != 0 && (h->blkio_weight < 10 || h->blkio_weight > 1000))
    return Error::InvalidArgument("Range of blkio weight is from 10 to 1000");
  if (h->oom_score_adj < -1000 || h->oom_score_adj > 1000)
    return Error::InvalidArgument("Invalid value " + std::to_string(h->oom_score_adj) +
                                  ", range for oom score adj is [-1000, 1000]");
  if (h->shm_size < 0) return Error::InvalidArgument("SHM size can not be less than 0");

  for (const auto& u : h->ulimits) BERTH_TRY(internal::CheckUlimit(u));
  BERTH_TRY(internal::NormalizeCaps(h->cap_add));
  BERTH_TRY(internal::NormalizeCaps(h->cap_drop));
  BERTH_TRY(ApplySecurityOpts(h));

  for (const auto& [port, bindings] : h->port_bindings) {
    std::string_view p = port;
    if (auto slash = p.find('/'); slash != std::string_view::npos) p = p.substr(0, slash);
    if (!ValidPort(p, false))
      return Error::InvalidArgument("invalid port specification: \"" + std::string(p) + "\"");
    for (const auto& b : bindings)
      if (!ValidPort(b.host_port, true))
        return Error::InvalidArgument("invalid port specification: \"" + b.host_port + "\"");
  }
  for (const auto& d : h->devices) {
    if (d.path_on_host.empty()) return Error::InvalidArgument("invalid device: empty PathOnHost");
    if (!d.path_in_container.empty() && d.path_in_container[0] != '/')
      return Error::InvalidArgument(d.path_in_container + " is not an absolute path");
    if (d.cgroup_permissions.empty() ||
        d.cgroup_permissions.find_first_not_of("rwm") != std::string::npos)
      return Error::InvalidArgument("bad mode specified: " + d.cgroup_permissions);
  }
  for (const auto& r : h->device_cgroup_rules) BERTH_TRY(internal::ParseDeviceRule(r));

  if (!ValidNsMode(h->ipc_mode, {"", "none", "private", "shareable", "host"}, true))
    return Error::InvalidArgument("invalid IPC mode: " + h->ipc_mode);
  if (!ValidNsMode(h->pid_mode, {"", "host"}, true))
    return Error::InvalidArgument("invalid PID mode: " + h->pid_mode);
  if (!ValidNsMode(h->uts_mode, {"", "host"}, false))
    return Error::InvalidArgument("invalid UTS mode: " + h->uts_mode);
  if (!ValidNsMode(h->cgroupns_mode, {"", "host", "private"}, false))
    return Error::InvalidArgument("invalid cgroup namespace mode: " + h->cgroupns_mode);
  if (!ValidNsMode(h->userns_mode, {"", "host"}, false))
    return Error::InvalidArgument("invalid USER mode: " + h->userns_mode);
  if (h->network_mode == "container:")
    return Error::InvalidArgument("invalid network mode: container:");

  std::set<std::string> targets;
  for (const auto& m : h->mounts)
    if (!targets.insert(internal::CleanPath(m.target)).second)
      return Error::InvalidArgument("Duplicate mount point: " + internal::CleanPath(m.target));
  return {};
}

Result<void> ValidateConfig(const ContainerConfig& c) {
  if (!c.working_dir.empty() && c.working_dir[0] != '/')
    return Error::InvalidArgument("the working directory '" + c.working_dir +
                                  "' is invalid, it needs to be an absolute path");
  for (const auto& e : c.env)
    if (e.empty() || e[0] == '=' || e.find('\0') != std::string::npos)
      return Error::InvalidArgument("invalid environment variable: " + e);
  if (c.stop_timeout && *c.stop_timeout < -1)
    return Error::InvalidArgument("invalid stop timeout: " + std::to_string(*c.stop_timeout));
  return {};
}

}  // namespace

Result<HostConfig> ParseHostConfig(std::string_view json) {
  Json j = BERTH_TRY(internal::ParseJson(json, "host config"));
  HostConfig h = BERTH_TRY(ParseHostFields(j));
  BERTH_TRY(ValidateHost(&h));
  return h;
}

Result<ContainerConfig> ParseConfigJson(std::string_view json) {
  Json j = BERTH_TRY(internal::ParseJson(json, "config"));
  return ParseConfigFields(BERTH_TRY(Fields::Of(j, "Config")));
}

Result<CreateRequest> ParseCreateRequest(std::string_view body, std::string name) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return Error::InvalidArgument("config cannot be empty in order to create a container");
  Json j = BERTH_TRY(internal::ParseJson(body, "request body"));
  Fields f = BERTH_TRY(Fields::Of(j, "container.Config"));
  CreateRequest req;
  if (!name.empty()) req.name = BERTH_TRY(ValidateName(name));
  req.config = BERTH_TRY(ParseConfigFields(f));
  BERTH_TRY(ValidateConfig(req.config));
  const Json* hc = BERTH_TRY(f.Object("HostConfig"));
  req.host_config = BERTH_TRY(ParseHostFields(hc ? *hc : Json()));
  HostConfig& h = req.host_config;
  BERTH_TRY(ValidateHost(&h));
  // --mount type=bind needs an existing source (unless CreateMountpoint); -v creates it.
  for (const auto& m : h.mounts) {
    struct stat st;
    if (m.type == "bind" && !m.from_bind_string && !m.create_mountpoint &&
        ::stat(m.source.c_str(), &st) != 0)
      return Error::InvalidArgument(
          "invalid mount config for type \"bind\": bind source path "
          "does not exist: " +
          m.source);
  }
  // The daemon's defaults, as inspect shows them (moby adaptContainerSettings).
  if (h.shm_size == 0) h.shm_size = internal::kDefaultShmSize;
  if (h.memory > 0 && h.memory_swap == 0) h.memory_swap = h.memory * 2;
  if (const Json* nc = BERTH_TRY(f.Object("NetworkingConfig")))
    req.networking_config_json = nc->dump();
  return req;
}

Result<std::string> ValidateName(std::string_view name) {
  std::string_view n = name;
  if (n.starts_with('/')) n.remove_prefix(1);
  auto ok = [](char c, bool first) {
    return std::isalnum(uint8_t(c)) || (!first && (c == '_' || c == '.' || c == '-'));
  };
  bool valid = n.size() >= 2 && ok(n[0], true);
  for (size_t i = 1; valid && i < n.size(); ++i) valid = ok(n[i], false);
  if (!valid)
    return Error::InvalidArgument("Invalid container name (" + std::string(n) +
                                  "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  return std::string(n);
}

Result<int64_t> ParseBytes(std::string_view s) {
  // go-units RAMInBytes: ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$, binary multiples.
  auto bad = [&] { return Error::InvalidArgument("invalid size: '" + std::string(s) + "'"); };
  size_t i = 0;
  while (i < s.size() && std::isdigit(uint8_t(s[i]))) ++i;
  if (i == 0) return bad();
  if (i < s.size() && s[i] == '.') {
    size_t j = ++i;
    while (i < s.size() && std::isdigit(uint8_t(s[i]))) ++i;
    if (i == j) return bad();
  }
  std::string number(s.substr(0, i));
  if (i < s.size() && s[i] == ' ') ++i;
  double mult = 1;
  if (i < s.size()) {
    switch (std::tolower(uint8_t(s[i]))) {
      case 'k':
        mult = 1024.0;
        break;
      case 'm':
        mult = 1024.0 * 1024;
        break;
      case 'g':
        mult = 1024.0 * 1024 * 1024;
        break;
      case 't':
        mult = 1024.0 * 1024 * 1024 * 1024;
        break;
      case 'p':
        mult = 1024.0 * 1024 * 1024 * 1024 * 1024;
        break;
      default:
        mult = 0;
    }
    if (mult != 0)
      ++i;
    else
      mult = 1;
  }
  if (i < s.size() && (s[i] == 'i' || s[i] == 'I')) ++i;
  if (i < s.size() && (s[i] == 'b' || s[i] == 'B')) ++i;
  if (i != s.size()) return bad();
  double v = std::stod(number) * mult;
  if (!(v < 9.2e18)) return bad();
  return static_cast<int64_t>(v);
}

}  // namespace berth::engine
