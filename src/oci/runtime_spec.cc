#include "oci/runtime_spec.h"

#include <algorithm>
#include <limits>
#include "oci/json_reader_internal.h"

namespace berth::oci {
namespace {

using internal::json;

using internal::Reader;

Result<std::vector<IdMapping>> ReadMappings(const Reader& r, std::string_view key) {
  std::vector<IdMapping> out;
  BERTH_TRY(r.Array(key, [&](const Reader& m) -> Result<void> {
    IdMapping map;
    BERTH_TRY(m.Int("containerID", &map.container_id));
    BERTH_TRY(m.Int("hostID", &map.host_id));
    BERTH_TRY(m.Int("size", &map.size));
    out.push_back(map);
    return {};
  }));
  return out;
}

Result<Process> ReadProcess(const Reader& r) {
  Process p;
  BERTH_TRY(r.Bool("terminal", &p.terminal));
  BERTH_TRY(r.Object("consoleSize", [&](const Reader& c) -> Result<void> {
    ConsoleSize s;
    BERTH_TRY(c.Int("height", &s.height));
    BERTH_TRY(c.Int("width", &s.width));
    p.console_size = s;
    return {};
  }));
  BERTH_TRY(r.Object("user", [&](const Reader& u) -> Result<void> {
    BERTH_TRY(u.Int("uid", &p.user.uid));
    BERTH_TRY(u.Int("gid", &p.user.gid));
    BERTH_TRY(u.OptInt("umask", &p.user.umask));
    BERTH_TRY(u.String("username", &p.user.username));
    if (const json* g = u.Find("additionalGids")) {
      if (!g->is_array()) return u.TypeError("additionalGids", "array of integers");
      for (const auto& e : *g) {
        uint32_t gid;
        std::string path =
            u.Child("additionalGids") + "[" + std::to_string(p.user.additional_gids.size()) + "]";
        BERTH_TRY(Reader::IntValue(e, path, &gid));
        p.user.additional_gids.push_back(gid);
      }
    }
    return {};
  }));
  BERTH_TRY(r.Strings("args", &p.args));
  BERTH_TRY(r.String("commandLine", &p.command_line));
  BERTH_TRY(r.Strings("env", &p.env));
  BERTH_TRY(r.String("cwd", &p.cwd));
  BERTH_TRY(r.Object("capabilities", [&](const Reader& c) -> Result<void> {
    Capabilities caps;
    BERTH_TRY(c.Strings("bounding", &caps.bounding));
    BERTH_TRY(c.Strings("effective", &caps.effective));
    BERTH_TRY(c.Strings("inheritable", &caps.inheritable));
    BERTH_TRY(c.Strings("permitted", &caps.permitted));
    BERTH_TRY(c.Strings("ambient", &caps.ambient));
    p.capabilities = std::move(caps);
    return {};
  }));
  BERTH_TRY(r.Array("rlimits", [&](const Reader& l) -> Result<void> {
    Rlimit rl;
    BERTH_TRY(l.String("type", &rl.type));
    BERTH_TRY(l.Int("hard", &rl.hard));
    BERTH_TRY(l.Int("soft", &rl.soft));
    if (rl.type.empty()) return Error::InvalidArgument(l.Child("type") + ": must be set");
    p.rlimits.push_back(rl);
    return {};
  }));
  BERTH_TRY(r.Bool("noNewPrivileges", &p.no_new_privileges));
  BERTH_TRY(r.String("apparmorProfile", &p.apparmor_profile));
  BERTH_TRY(r.OptInt("oomScoreAdj", &p.oom_score_adj));
  BERTH_TRY(r.String("selinuxLabel", &p.selinux_label));
  BERTH_TRY(r.Object("ioPriority", [&](const Reader& io) -> Result<void> {
    IoPriority prio;
    BERTH_TRY(io.String("class", &prio.klass));
    BERTH_TRY(io.Int("priority", &prio.priority));
    p.io_priority = prio;
    return {};
  }));
  BERTH_TRY(r.Object("scheduler", [&](const Reader& s) -> Result<void> {
    Scheduler sched;
    BERTH_TRY(s.String("policy", &sched.policy));
    BERTH_TRY(s.Int("nice", &sched.nice));
    BERTH_TRY(s.Int("priority", &sched.priority));
    BERTH_TRY(s.Strings("flags", &sched.flags));
    BERTH_TRY(s.Int("runtime", &sched.runtime));
    BERTH_TRY(s.Int("deadline", &sched.deadline));
    BERTH_TRY(s.Int("period", &sched.period));
    p.scheduler = std::move(sched);
    return {};
  }));
  return p;
}

Result<Hooks> ReadHooks(const Reader& r) {
  Hooks hooks;
  auto read_list = [&](std::string_view key, std::vector<Hook>* out) -> Result<void> {
    return r.Array(key, [&](const Reader& h) -> Result<void> {
      Hook hook;
      BERTH_TRY(h.String("path", &hook.path));
      if (hook.path.empty()) return Error::InvalidArgument(h.Child("path") + ": must be set");
      BERTH_TRY(h.Strings("args", &hook.args));
      BERTH_TRY(h.Strings("env", &hook.env));
      BERTH_TRY(h.OptInt("timeout", &hook.timeout));
      if (hook.timeout && *hook.timeout <= 0)
        return Error::InvalidArgument(h.Child("timeout") + ": must be positive");
      out->push_back(std::move(hook));
      return {};
    });
  };
  BERTH_TRY(read_list("prestart", &hooks.prestart));
  BERTH_TRY(read_list("createRuntime", &hooks.create_runtime));
  BERTH_TRY(read_list("createContainer", &hooks.create_container));
  BERTH_TRY(read_list("startContainer", &hooks.start_container));
  BERTH_TRY(read_list("poststart", &hooks.poststart));
  BERTH_TRY(read_list("poststop", &hooks.poststop));
  return hooks;
}

Result<void> ReadThrottle(const Reader& r, std::string_view key, std::vector<ThrottleDevice>* out) {
  return r.Array(key, [&](const Reader& t) -> Result<void> {
    ThrottleDevice d;
    BERTH_TRY(t.Int("major", &d.major));
    BERTH_TRY(t.Int("minor", &d.minor));
    BERTH_TRY(t.Int("rate", &d.rate));
    out->push_back(d);
    return {};
  });
}

Result<Resources> ReadResources(const Reader& r) {
  Resources res;
  BERTH_TRY(r.Array("devices", [&](const Reader& d) -> Result<void> {
    DeviceRule rule;
    BERTH_TRY(d.Bool("allow", &rule.allow));
    BERTH_TRY(d.String("type", &rule.type));
    BERTH_TRY(d.OptInt("major", &rule.major));
    BERTH_TRY(d.OptInt("minor", &rule.minor));
    BERTH_TRY(d.String("access", &rule.access));
    if (!rule.type.empty() && rule.type != "a" && rule.type != "c" && rule.type != "b")
      return Error::InvalidArgument(d.Child("type") + ": must be a, b or c");
    for (char c : rule.access)
      if (c != 'r' && c != 'w' && c != 'm')
        return Error::InvalidArgument(d.Child("access") + ": must be made of r, w and m");
    res.devices.push_back(rule);
    return {};
  }));
  BERTH_TRY(r.Object("memory", [&](const Reader& m) -> Result<void> {
    Memory mem;
    BERTH_TRY(m.OptInt("limit", &mem.limit));
    BERTH_TRY(m.OptInt("reservation", &mem.reservation));
    BERTH_TRY(m.OptInt("swap", &mem.swap));
    BERTH_TRY(m.OptInt("kernel", &mem.kernel));
    BERTH_TRY(m.OptInt("kernelTCP", &mem.kernel_tcp));
    BERTH_TRY(m.OptInt("swappiness", &mem.swappiness));
    BERTH_TRY(m.OptBool("disableOOMKiller", &mem.disable_oom_killer));
    BERTH_TRY(m.OptBool("useHierarchy", &mem.use_hierarchy));
    BERTH_TRY(m.OptBool("checkBeforeUpdate", &mem.check_before_update));
    res.memory = mem;
    return {};
  }));
  BERTH_TRY(r.Object("cpu", [&](const Reader& c) -> Result<void> {
    Cpu cpu;
    BERTH_TRY(c.OptInt("shares", &cpu.shares));
    BERTH_TRY(c.OptInt("quota", &cpu.quota));
    BERTH_TRY(c.OptInt("burst", &cpu.burst));
    BERTH_TRY(c.OptInt("period", &cpu.period));
    BERTH_TRY(c.OptInt("realtimeRuntime", &cpu.realtime_runtime));
    BERTH_TRY(c.OptInt("realtimePeriod", &cpu.realtime_period));
    BERTH_TRY(c.String("cpus", &cpu.cpus));
    BERTH_TRY(c.String("mems", &cpu.mems));
    BERTH_TRY(c.OptInt("idle", &cpu.idle));
    res.cpu = cpu;
    return {};
  }));
  BERTH_TRY(r.Object("pids", [&](const Reader& p) -> Result<void> {
    Pids pids;
    BERTH_TRY(p.Int("limit", &pids.limit));
    res.pids = pids;
    return {};
  }));
  BERTH_TRY(r.Object("blockIO", [&](const Reader& b) -> Result<void> {
    BlockIo io;
    BERTH_TRY(b.OptInt("weight", &io.weight));
    BERTH_TRY(b.OptInt("leafWeight", &io.leaf_weight));
    BERTH_TRY(b.Array("weightDevice", [&](const Reader& w) -> Result<void> {
      WeightDevice d;
      BERTH_TRY(w.Int("major", &d.major));
      BERTH_TRY(w.Int("minor", &d.minor));
      BERTH_TRY(w.OptInt("weight", &d.weight));
      BERTH_TRY(w.OptInt("leafWeight", &d.leaf_weight));
      io.weight_device.push_back(d);
      return {};
    }));
    BERTH_TRY(ReadThrottle(b, "throttleReadBpsDevice", &io.throttle_read_bps_device));
    BERTH_TRY(ReadThrottle(b, "throttleWriteBpsDevice", &io.throttle_write_bps_device));
    BERTH_TRY(ReadThrottle(b, "throttleReadIOPSDevice", &io.throttle_read_iops_device));
    BERTH_TRY(ReadThrottle(b, "throttleWriteIOPSDevice", &io.throttle_write_iops_device));
    res.block_io = std::move(io);
    return {};
  }));
  BERTH_TRY(r.Array("hugepageLimits", [&](const Reader& h) -> Result<void> {
    HugepageLimit l;
    BERTH_TRY(h.String("pageSize", &l.page_size));
    BERTH_TRY(h.Int("limit", &l.limit));
    res.hugepage_limits.push_back(l);
    return {};
  }));
  BERTH_TRY(r.Object("network", [&](const Reader& n) -> Result<void> {
    Network net;
    BERTH_TRY(n.OptInt("classID", &net.class_id));
    BERTH_TRY(n.Array("priorities", [&](const Reader& p) -> Result<void> {
      NetPriority prio;
      BERTH_TRY(p.String("name", &prio.name));
      BERTH_TRY(p.Int("priority", &prio.priority));
      net.priorities.push_back(prio);
      return {};
    }));
    res.network = std::move(net);
    return {};
  }));
  BERTH_TRY(r.StringMap("unified", &res.unified));
  return res;
}

Result<Seccomp> ReadSeccomp(const Reader& r) {
  Seccomp s;
  BERTH_TRY(r.String("defaultAction", &s.default_action));
  BERTH_TRY(r.OptInt("defaultErrnoRet", &s.default_errno_ret));
  BERTH_TRY(r.Strings("architectures", &s.architectures));
  BERTH_TRY(r.Strings("flags", &s.flags));
  BERTH_TRY(r.String("listenerPath", &s.listener_path));
  BERTH_TRY(r.String("listenerMetadata", &s.listener_metadata));
  BERTH_TRY(r.Array("syscalls", [&](const Reader& c) -> Result<void> {
    SeccompSyscall sc;
    BERTH_TRY(c.Strings("names", &sc.names));
    BERTH_TRY(c.String("action", &sc.action));
    BERTH_TRY(c.OptInt("errnoRet", &sc.errno_ret));
    BERTH_TRY(c.Array("args", [&](const Reader& a) -> Result<void> {
      SeccompArg arg;
      BERTH_TRY(a.Int("index", &arg.index));
      BERTH_TRY(a.Int("value", &arg.value));
      BERTH_TRY(a.Int("valueTwo", &arg.value_two));
      BERTH_TRY(a.String("op", &arg.op));
      sc.args.push_back(arg);
      return {};
    }));
    if (sc.action.empty()) return Error::InvalidArgument(c.Child("action") + ": must be set");
    s.syscalls.push_back(std::move(sc));
    return {};
  }));
  if (s.default_action.empty())
    return Error::InvalidArgument(r.Child("defaultAction") + ": must be set");
  return s;
}

Result<Linux> ReadLinux(const Reader& r) {
  Linux l;
  BERTH_TRY(r.Array("namespaces", [&](const Reader& n) -> Result<void> {
    Namespace ns;
    BERTH_TRY(n.String("type", &ns.type));
    BERTH_TRY(n.String("path", &ns.path));
    static const char* kTypes[] = {"pid", "network", "mount",  "ipc",
                                   "uts", "user",    "cgroup", "time"};
    bool known = false;
    for (const char* t : kTypes) known |= ns.type == t;
    if (!known)
      return Error::InvalidArgument(n.Child("type") + ": unknown namespace type \"" + ns.type +
                                    "\"");
    for (const auto& other : l.namespaces)
      if (other.type == ns.type)
        return Error::InvalidArgument(n.path() + ": duplicate namespace \"" + ns.type + "\"");
    l.namespaces.push_back(std::move(ns));
    return {};
  }));
  l.uid_mappings = BERTH_TRY(ReadMappings(r, "uidMappings"));
  l.gid_mappings = BERTH_TRY(ReadMappings(r, "gidMappings"));
  BERTH_TRY(r.Object("timeOffsets", [&](const Reader& t) -> Result<void> {
    for (const char* clock : {"monotonic", "boottime"}) {
      BERTH_TRY(t.Object(clock, [&](const Reader& o) -> Result<void> {
        TimeOffset off;
        BERTH_TRY(o.Int("secs", &off.secs));
        BERTH_TRY(o.Int("nanosecs", &off.nanosecs));
        l.time_offsets[clock] = off;
        return {};
      }));
    }
    return {};
  }));
  BERTH_TRY(r.Array("devices", [&](const Reader& d) -> Result<void> {
    Device dev;
    BERTH_TRY(d.String("type", &dev.type));
    BERTH_TRY(d.String("path", &dev.path));
    BERTH_TRY(d.Int("major", &dev.major));
    BERTH_TRY(d.Int("minor", &dev.minor));
    BERTH_TRY(d.OptInt("fileMode", &dev.file_mode));
    BERTH_TRY(d.OptInt("uid", &dev.uid));
    BERTH_TRY(d.OptInt("gid", &dev.gid));
    if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p")
      return Error::InvalidArgument(d.Child("type") + ": must be c, b, u or p");
    if (dev.path.empty() || dev.path[0] != '/')
      return Error::InvalidArgument(d.Child("path") + ": must be an absolute path");
    l.devices.push_back(std::move(dev));
    return {};
  }));
  BERTH_TRY(r.String("cgroupsPath", &l.cgroups_path));
  BERTH_TRY(r.Object("resources", [&](const Reader& res) -> Result<void> {
    l.resources = BERTH_TRY(ReadResources(res));
    return {};
  }));
  BERTH_TRY(r.String("rootfsPropagation", &l.rootfs_propagation));
  if (!l.rootfs_propagation.empty()) {
    static const char* kProps[] = {"private", "rprivate", "slave",      "rslave",
                                   "shared",  "rshared",  "unbindable", "runbindable"};
    bool ok = false;
    for (const char* p : kProps) ok |= l.rootfs_propagation == p;
    if (!ok)
      return Error::InvalidArgument(r.Child("rootfsPropagation") + ": unknown propagation \"" +
                                    l.rootfs_propagation + "\"");
  }
  BERTH_TRY(r.Object("seccomp", [&](const Reader& s) -> Result<void> {
    l.seccomp = BERTH_TRY(ReadSeccomp(s));
    return {};
  }));
  BERTH_TRY(r.StringMap("sysctl", &l.sysctl));
  BERTH_TRY(r.Strings("maskedPaths", &l.masked_paths));
  BERTH_TRY(r.Strings("readonlyPaths", &l.readonly_paths));
  BERTH_TRY(r.String("mountLabel", &l.mount_label));
  BERTH_TRY(r.Object("personality", [&](const Reader& p) -> Result<void> {
    Personality pers;
    BERTH_TRY(p.String("domain", &pers.domain));
    BERTH_TRY(p.Strings("flags", &pers.flags));
    l.personality = std::move(pers);
    return {};
  }));
  l.has_intel_rdt = r.Find("intelRdt") != nullptr;
  return l;
}

Result<Spec> ReadSpec(const Reader& r) {
  Spec s;
  BERTH_TRY(r.String("ociVersion", &s.oci_version));
  BERTH_TRY(CheckOciVersion(s.oci_version));
  BERTH_TRY(r.Object("process", [&](const Reader& p) -> Result<void> {
    s.process = BERTH_TRY(ReadProcess(p));
    return {};
  }));
  BERTH_TRY(r.Object("root", [&](const Reader& root) -> Result<void> {
    Root rt;
    BERTH_TRY(root.String("path", &rt.path));
    BERTH_TRY(root.Bool("readonly", &rt.readonly));
    s.root = rt;
    return {};
  }));
  BERTH_TRY(r.String("hostname", &s.hostname));
  BERTH_TRY(r.String("domainname", &s.domainname));
  BERTH_TRY(r.Array("mounts", [&](const Reader& m) -> Result<void> {
    Mount mount;
    BERTH_TRY(m.String("destination", &mount.destination));
    BERTH_TRY(m.String("type", &mount.type));
    BERTH_TRY(m.String("source", &mount.source));
    BERTH_TRY(m.Strings("options", &mount.options));
    mount.uid_mappings = BERTH_TRY(ReadMappings(m, "uidMappings"));
    mount.gid_mappings = BERTH_TRY(ReadMappings(m, "gidMappings"));
    if (mount.destination.empty())
      return Error::InvalidArgument(m.Child("destination") + ": must be set");
    s.mounts.push_back(std::move(mount));
    return {};
  }));
  BERTH_TRY(r.Object("hooks", [&](const Reader& h) -> Result<void> {
    s.hooks = BERTH_TRY(ReadHooks(h));
    return {};
  }));
  BERTH_TRY(r.StringMap("annotations", &s.annotations));
  BERTH_TRY(r.Object("linux", [&](const Reader& l) -> Result<void> {
    s.linux = BERTH_TRY(ReadLinux(l));
    return {};
  }));
  return s;
}

Result<json> ParseJson(std::string_view text, std::string_view what) {
  return internal::ParseJsonObject(text, what, {kMaxConfigBytes, kMaxConfigDepth, false});
}

}  // namespace

const Namespace* Linux::FindNamespace(std::string_view type) const {
  for (const auto& ns : namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

Result<void> CheckOciVersion(std::string_view version) {
  if (version.empty()) return Error::InvalidArgument("ociVersion: must be set");
  size_t dot = version.find('.');
  std::string_view major = version.substr(0, dot);
  if (major != "1")
    return Error::InvalidArgument("ociVersion: unsupported version \"" + std::string(version) +
                                  "\" (this runtime supports 1.0 through 1.3)");
  return {};
}

Result<Spec> ParseSpec(std::string_view text) {
  json j = BERTH_TRY(ParseJson(text, "config.json"));
  return ReadSpec(Reader(j, ""));
}

Result<Process> ParseProcess(std::string_view text) {
  json j = BERTH_TRY(ParseJson(text, "process.json"));
  return ReadProcess(Reader(j, "process"));
}

Result<Resources> ParseResources(std::string_view text) {
  json j = BERTH_TRY(ParseJson(text, "resources"));
  return ReadResources(Reader(j, "resources"));
}

}  // namespace berth::oci
