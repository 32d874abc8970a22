// Writes the runtime-spec types of runtime_spec.h back to config.json: the inverse of
// runtime_spec.cc's parser, field for field, with the spec's JSON names and its omitempty rules.

#include <nlohmann/json.hpp>

#include "oci/runtime_spec.h"

namespace berth::oci {
namespace {

using ojson = nlohmann::ordered_json;

// Invalid UTF-8 (an env value, a path) becomes U+FFFD, as Go's encoding/json writes it; dump
// never throws.
std::string Dump(const ojson& j, int indent) {
  return j.dump(indent, ' ', false, ojson::error_handler_t::replace);
}

template <typename T>
void PutOpt(ojson& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

void PutString(ojson& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

void PutStrings(ojson& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) j[key] = v;
}

void PutStringMap(ojson& j, const char* key, const std::map<std::string, std::string>& m) {
  if (m.empty()) return;
  ojson o = ojson::object();
  for (const auto& [k, v] : m) o[k] = v;
  j[key] = std::move(o);
}

template <typename T, typename F>
void PutArray(ojson& j, const char* key, const std::vector<T>& v, F&& to_json) {
  if (v.empty()) return;
  ojson a = ojson::array();
  for (const auto& e : v) a.push_back(to_json(e));
  j[key] = std::move(a);
}

ojson MappingJson(const IdMapping& m) {
  return {{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}};
}

ojson ProcessJson(const Process& p) {
  ojson j = ojson::object();
  if (p.terminal) j["terminal"] = true;
  if (p.console_size)
    j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  ojson user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
  PutOpt(user, "umask", p.user.umask);
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  PutString(user, "username", p.user.username);
  j["user"] = std::move(user);
  PutStrings(j, "args", p.args);
  PutString(j, "commandLine", p.command_line);
  PutStrings(j, "env", p.env);
  j["cwd"] = p.cwd;
  if (p.capabilities) {
    ojson caps = ojson::object();
    PutStrings(caps, "bounding", p.capabilities->bounding);
    PutStrings(caps, "effective", p.capabilities->effective);
    PutStrings(caps, "inheritable", p.capabilities->inheritable);
    PutStrings(caps, "permitted", p.capabilities->permitted);
    PutStrings(caps, "ambient", p.capabilities->ambient);
    j["capabilities"] = std::move(caps);
  }
  PutArray(j, "rlimits", p.rlimits, [](const Rlimit& r) -> ojson {
    return {{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}};
  });
  if (p.no_new_privileges) j["noNewPrivileges"] = true;
  PutString(j, "apparmorProfile", p.apparmor_profile);
  PutOpt(j, "oomScoreAdj", p.oom_score_adj);
  PutString(j, "selinuxLabel", p.selinux_label);
  if (p.io_priority)
    j["ioPriority"] = {{"class", p.io_priority->klass}, {"priority", p.io_priority->priority}};
  if (p.scheduler) {
    const Scheduler& s = *p.scheduler;
    ojson sched = {{"policy", s.policy}};
    if (s.nice != 0) sched["nice"] = s.nice;
    if (s.priority != 0) sched["priority"] = s.priority;
    PutStrings(sched, "flags", s.flags);
    if (s.runtime != 0) sched["runtime"] = s.runtime;
    if (s.deadline != 0) sched["deadline"] = s.deadline;
    if (s.period != 0) sched["period"] = s.period;
    j["scheduler"] = std::move(sched);
  }
  return j;
}

ojson HooksJson(const Hooks& h) {
  ojson j = ojson::object();
  auto hook = [](const Hook& k) -> ojson {
    ojson o = {{"path", k.path}};
    PutStrings(o, "args", k.args);
    PutStrings(o, "env", k.env);
    PutOpt(o, "timeout", k.timeout);
    return o;
  };
  PutArray(j, "prestart", h.prestart, hook);
  PutArray(j, "createRuntime", h.create_runtime, hook);
  PutArray(j, "createContainer", h.create_container, hook);
  PutArray(j, "startContainer", h.start_container, hook);
  PutArray(j, "poststart", h.poststart, hook);
  PutArray(j, "poststop", h.poststop, hook);
  return j;
}

ojson ThrottleJson(const ThrottleDevice& d) {
  return {{"major", d.major}, {"minor", d.minor}, {"rate", d.rate}};
}

ojson ResourcesJson(const Resources& r) {
  ojson j = ojson::object();
  PutArray(j, "devices", r.devices, [](const DeviceRule& d) -> ojson {
    ojson o = {{"allow", d.allow}};
    PutString(o, "type", d.type);
    PutOpt(o, "major", d.major);
    PutOpt(o, "minor", d.minor);
    PutString(o, "access", d.access);
    return o;
  });
  if (r.memory) {
    const Memory& m = *r.memory;
    ojson o = ojson::object();
    PutOpt(o, "limit", m.limit);
    PutOpt(o, "reservation", m.reservation);
    PutOpt(o, "swap", m.swap);
    PutOpt(o, "kernel", m.kernel);
    PutOpt(o, "kernelTCP", m.kernel_tcp);
    PutOpt(o, "swappiness", m.swappiness);
    PutOpt(o, "disableOOMKiller", m.disable_oom_killer);
    PutOpt(o, "useHierarchy", m.use_hierarchy);
    PutOpt(o, "checkBeforeUpdate", m.check_before_update);
    j["memory"] = std::move(o);
  }
  if (r.cpu) {
    const Cpu& c = *r.cpu;
    ojson o = ojson::object();
    PutOpt(o, "shares", c.shares);
    PutOpt(o, "quota", c.quota);
    PutOpt(o, "burst", c.burst);
    PutOpt(o, "period", c.period);
    PutOpt(o, "realtimeRuntime", c.realtime_runtime);
    PutOpt(o, "realtimePeriod", c.realtime_period);
    PutString(o, "cpus", c.cpus);
    PutString(o, "mems", c.mems);
    PutOpt(o, "idle", c.idle);
    j["cpu"] = std::move(o);
  }
  if (r.pids) j["pids"] = {{"limit", r.pids->limit}};
  if (r.block_io) {
    const BlockIo& b = *r.block_io;
    ojson o = ojson::object();
    PutOpt(o, "weight", b.weight);
    PutOpt(o, "leafWeight", b.leaf_weight);
    PutArray(o, "weightDevice", b.weight_device, [](const WeightDevice& d) -> ojson {
      ojson w = {{"major", d.major}, {"minor", d.minor}};
      PutOpt(w, "weight", d.weight);
      PutOpt(w, "leafWeight", d.leaf_weight);
      return w;
    });
    PutArray(o, "throttleReadBpsDevice", b.throttle_read_bps_device, ThrottleJson);
    PutArray(o, "throttleWriteBpsDevice", b.throttle_write_bps_device, ThrottleJson);
    PutArray(o, "throttleReadIOPSDevice", b.throttle_read_iops_device, ThrottleJson);
    PutArray(o, "throttleWriteIOPSDevice", b.throttle_write_iops_device, ThrottleJson);
    j["blockIO"] = std::move(o);
  }
  PutArray(j, "hugepageLimits", r.hugepage_limits, [](const HugepageLimit& h) -> ojson {
    return {{"pageSize", h.page_size}, {"limit", h.limit}};
  });
  if (r.network) {
    ojson o = ojson::object();
    PutOpt(o, "classID", r.network->class_id);
    PutArray(o, "priorities", r.network->priorities, [](const NetPriority& p) -> ojson {
      return {{"name", p.name}, {"priority", p.priority}};
    });
    j["network"] = std::move(o);
  }
  PutStringMap(j, "unified", r.unified);
  return j;
}

ojson SeccompJson(const Seccomp& s) {
  ojson j = {{"defaultAction", s.default_action}};
  PutOpt(j, "defaultErrnoRet", s.default_errno_ret);
  PutStrings(j, "architectures", s.architectures);
  PutStrings(j, "flags", s.flags);
  PutString(j, "listenerPath", s.listener_path);
  PutString(j, "listenerMetadata", s.listener_metadata);
  PutArray(j, "syscalls", s.syscalls, [](const SeccompSyscall& c) -> ojson {
    ojson o = {{"names", c.names}, {"action", c.action}};
    PutOpt(o, "errnoRet", c.errno_ret);
    PutArray(o, "args", c.args, [](const SeccompArg& a) -> ojson {
      return {{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}};
    });
    return o;
  });
  return j;
}

ojson LinuxJson(const Linux& l) {
  ojson j = ojson::object();
  PutArray(j, "namespaces", l.namespaces, [](const Namespace& n) -> ojson {
    ojson o = {{"type", n.type}};
    PutString(o, "path", n.path);
    return o;
  });
  PutArray(j, "uidMappings", l.uid_mappings, MappingJson);
  PutArray(j, "gidMappings", l.gid_mappings, MappingJson);
  if (!l.time_offsets.empty()) {
    ojson o = ojson::object();
    for (const auto& [clock, off] : l.time_offsets)
      o[clock] = {{"secs", off.secs}, {"nanosecs", off.nanosecs}};
    j["timeOffsets"] = std::move(o);
  }
  PutArray(j, "devices", l.devices, [](const Device& d) -> ojson {
    ojson o = {{"type", d.type}, {"path", d.path}, {"major", d.major}, {"minor", d.minor}};
    PutOpt(o, "fileMode", d.file_mode);
    PutOpt(o, "uid", d.uid);
    PutOpt(o, "gid", d.gid);
    return o;
  });
  PutString(j, "cgroupsPath", l.cgroups_path);
  if (l.resources) j["resources"] = ResourcesJson(*l.resources);
  PutString(j, "rootfsPropagation", l.rootfs_propagation);
  if (l.seccomp) j["seccomp"] = SeccompJson(*l.seccomp);
  PutStringMap(j, "sysctl", l.sysctl);
  PutStrings(j, "maskedPaths", l.masked_paths);
  PutStrings(j, "readonlyPaths", l.readonly_paths);
  PutString(j, "mountLabel", l.mount_label);
  if (l.personality) {
    ojson o = ojson::object();
    PutString(o, "domain", l.personality->domain);
    PutStrings(o, "flags", l.personality->flags);
    j["personality"] = std::move(o);
  }
  // The parser keeps only the presence of intelRdt, so that is all there is to write.
  if (l.has_intel_rdt) j["intelRdt"] = ojson::object();
  return j;
}

ojson SpecJson(const Spec& s) {
  ojson j = ojson::object();
  j["ociVersion"] = s.oci_version.empty() ? std::string(kOciVersion) : s.oci_version;
  if (s.process) j["process"] = ProcessJson(*s.process);
  if (s.root) {
    ojson root = {{"path", s.root->path}};
    if (s.root->readonly) root["readonly"] = true;
    j["root"] = std::move(root);
  }
  PutString(j, "hostname", s.hostname);
  PutString(j, "domainname", s.domainname);
  PutArray(j, "mounts", s.mounts, [](const Mount& m) -> ojson {
    ojson o = {{"destination", m.destination}};
    PutString(o, "type", m.type);
    PutString(o, "source", m.source);
    PutStrings(o, "options", m.options);
    PutArray(o, "uidMappings", m.uid_mappings, MappingJson);
    PutArray(o, "gidMappings", m.gid_mappings, MappingJson);
    return o;
  });
  if (s.hooks) j["hooks"] = HooksJson(*s.hooks);
  PutStringMap(j, "annotations", s.annotations);
  if (s.linux) j["linux"] = LinuxJson(*s.linux);
  return j;
}

}  // namespace

std::string Serialize(const Spec& spec) { return Dump(SpecJson(spec), 2) + "\n"; }

std::string SerializeProcess(const Process& process) { return Dump(ProcessJson(process), -1); }

std::string SerializeResources(const Resources& resources) {
  return Dump(ResourcesJson(resources), -1);
}

}  // namespace berth::oci
