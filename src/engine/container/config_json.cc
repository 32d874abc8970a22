// ContainerConfig and HostConfig in Docker's JSON shapes, field for field as `docker inspect`
// shows them, with Docker's zero values (null, "", 0, {} where Docker writes them).

#include "engine/container/config.h"
#include "engine/container/config_internal.h"
#include "engine/container/spec_internal.h"
#include "util/file.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

OJson StringsOrNull(const std::vector<std::string>& v) {
  return v.empty() ? OJson(nullptr) : OJson(v);
}

OJson StringsOrEmpty(const std::vector<std::string>& v) {
  return v.empty() ? OJson::array() : OJson(v);
}

OJson KeySet(const std::vector<std::string>& keys) {
  OJson o = OJson::object();
  for (const auto& k : keys) o[k] = OJson::object();
  return o;
}

OJson MountJson(const MountSpec& m) {
  OJson j = {{"Type", m.type}, {"Source", m.source}, {"Target", m.target}};
  if (m.read_only) j["ReadOnly"] = true;
  if (m.type == "bind" && (!m.propagation.empty() || m.non_recursive || m.create_mountpoint)) {
    OJson b = OJson::object();
    if (!m.propagation.empty()) b["Propagation"] = m.propagation;
    if (m.non_recursive) b["NonRecursive"] = true;
    if (m.create_mountpoint) b["CreateMountpoint"] = true;
    j["BindOptions"] = b;
  }
  if (m.type == "volume" && (m.no_copy || !m.volume_labels.empty())) {
    OJson v = OJson::object();
    if (m.no_copy) v["NoCopy"] = true;
    if (!m.volume_labels.empty()) v["Labels"] = m.volume_labels;
    j["VolumeOptions"] = v;
  }
  if (m.type == "tmpfs" && (m.tmpfs_size || m.tmpfs_mode || !m.tmpfs_options.empty())) {
    OJson t = OJson::object();
    if (m.tmpfs_size) t["SizeBytes"] = m.tmpfs_size;
    if (m.tmpfs_mode) t["Mode"] = m.tmpfs_mode;
    if (!m.tmpfs_options.empty()) {
      OJson opts = OJson::array();
      for (const auto& o : Split(m.tmpfs_options, ',', true)) {
        auto eq = o.find('=');
        opts.push_back(eq == std::string::npos ? OJson{o}
                                               : OJson{o.substr(0, eq), o.substr(eq + 1)});
      }
      t["Options"] = opts;
    }
    j["TmpfsOptions"] = t;
  }
  return j;
}

}  // namespace

std::string ConfigJson(const ContainerConfig& c) {
  OJson j;
  j["Hostname"] = c.hostname;
  j["Domainname"] = c.domainname;
  j["User"] = c.user;
  j["AttachStdin"] = c.attach_stdin;
  j["AttachStdout"] = c.attach_stdout;
  j["AttachStderr"] = c.attach_stderr;
  if (!c.exposed_ports.empty()) j["ExposedPorts"] = KeySet(c.exposed_ports);
  j["Tty"] = c.tty;
  j["OpenStdin"] = c.open_stdin;
  j["StdinOnce"] = c.stdin_once;
  j["Env"] = StringsOrEmpty(c.env);
  j["Cmd"] = c.cmd_set || !c.cmd.empty() ? OJson(c.cmd) : OJson(nullptr);
  if (!c.healthcheck_json.empty()) {
    OJson h = OJson::parse(c.healthcheck_json, nullptr, false);
    if (!h.is_discarded()) j["Healthcheck"] = h;
  }
  j["Image"] = c.image;
  if (c.volumes.empty()) {
    j["Volumes"] = nullptr;
  } else {
    OJson v = OJson::object();
    for (const auto& [k, unused] : c.volumes) v[k] = OJson::object();
    j["Volumes"] = v;
  }
  j["WorkingDir"] = c.working_dir;
  j["Entrypoint"] =
      c.entrypoint_set || !c.entrypoint.empty() ? OJson(c.entrypoint) : OJson(nullptr);
  if (c.network_disabled) j["NetworkDisabled"] = true;
  j["OnBuild"] = nullptr;
  j["Labels"] = c.labels.empty() ? OJson::object() : OJson(c.labels);
  if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
  if (c.stop_timeout) j["StopTimeout"] = *c.stop_timeout;
  if (!c.shell.empty()) j["Shell"] = c.shell;
  return j.dump();
}

std::string HostConfigJson(const HostConfig& h) {
  OJson j;
  j["Binds"] = StringsOrNull(h.binds);
  j["ContainerIDFile"] = "";
  j["LogConfig"] = {
      {"Type", h.log_config.type},
      {"Config", h.log_config.config.empty() ? OJson::object() : OJson(h.log_config.config)}};
  j["NetworkMode"] = h.network_mode.empty() ? "default" : h.network_mode;
  OJson ports = OJson::object();
  for (const auto& [port, list] : h.port_bindings) {
    OJson l = OJson::array();
    for (const auto& b : list) l.push_back({{"HostIp", b.host_ip}, {"HostPort", b.host_port}});
    ports[port] = l;
  }
  j["PortBindings"] = ports;
  j["RestartPolicy"] = {{"Name", h.restart_policy.name.empty() ? "no" : h.restart_policy.name},
                        {"MaximumRetryCount", h.restart_policy.maximum_retry_count}};
  j["AutoRemove"] = h.auto_remove;
  j["VolumeDriver"] = h.volume_driver;
  j["VolumesFrom"] = StringsOrNull(h.volumes_from);
  j["ConsoleSize"] = h.console_size.size() == 2 ? OJson(h.console_size) : OJson{0, 0};
  j["CapAdd"] = StringsOrNull(h.cap_add);
  j["CapDrop"] = StringsOrNull(h.cap_drop);
  j["CgroupnsMode"] = h.cgroupns_mode.empty() ? "private" : h.cgroupns_mode;
  j["Dns"] = StringsOrEmpty(h.dns);
  j["DnsOptions"] = StringsOrEmpty(h.dns_options);
  j["DnsSearch"] = StringsOrEmpty(h.dns_search);
  j["ExtraHosts"] = StringsOrNull(h.extra_hosts);
  j["GroupAdd"] = StringsOrNull(h.group_add);
  j["IpcMode"] = h.ipc_mode.empty() ? "private" : h.ipc_mode;
  j["Cgroup"] = "";
  j["Links"] = StringsOrNull(h.links);
  j["OomScoreAdj"] = h.oom_score_adj;
  j["PidMode"] = h.pid_mode;
  j["Privileged"] = h.privileged;
  j["PublishAllPorts"] = h.publish_all_ports;
  j["ReadonlyRootfs"] = h.read_only_rootfs;
  j["SecurityOpt"] = StringsOrNull(h.security_opt);
  if (!h.tmpfs.empty()) j["Tmpfs"] = h.tmpfs;
  j["UTSMode"] = h.uts_mode;
  j["UsernsMode"] = h.userns_mode;
  j["ShmSize"] = h.shm_size > 0 ? h.shm_size : internal::kDefaultShmSize;
  if (!h.sysctls.empty()) j["Sysctls"] = h.sysctls;
  j["Runtime"] = "runc";
  j["Isolation"] = "";
  j["CpuShares"] = h.cpu_shares;
  j["Memory"] = h.memory;
  j["NanoCpus"] = h.nano_cpus;
  j["CgroupParent"] = h.cgroup_parent;
  j["BlkioWeight"] = h.blkio_weight;
  for (const char* k : {"BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                        "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"})
    j[k] = OJson::array();
  j["CpuPeriod"] = h.cpu_period;
  j["CpuQuota"] = h.cpu_quota;
  j["CpuRealtimePeriod"] = 0;
  j["CpuRealtimeRuntime"] = 0;
  j["CpusetCpus"] = h.cpuset_cpus;
  j["CpusetMems"] = h.cpuset_mems;
  OJson devices = OJson::array();
  for (const auto& d : h.devices)
    devices.push_back({{"PathOnHost", d.path_on_host},
                       {"PathInContainer", d.path_in_container},
                       {"CgroupPermissions", d.cgroup_permissions}});
  j["Devices"] = devices;
  j["DeviceCgroupRules"] = StringsOrNull(h.device_cgroup_rules);
  j["DeviceRequests"] = nullptr;
  j["MemoryReservation"] = h.memory_reservation;
  j["MemorySwap"] = h.memory_swap;
  j["MemorySwappiness"] = h.memory_swappiness ? OJson(*h.memory_swappiness) : OJson(nullptr);
  j["OomKillDisable"] = h.oom_kill_disable;
  j["PidsLimit"] = h.pids_limit ? OJson(*h.pids_limit) : OJson(nullptr);
  OJson ulimits = OJson::array();
  for (const auto& u : h.ulimits)
    ulimits.push_back({{"Name", u.name}, {"Hard", u.hard}, {"Soft", u.soft}});
  j["Ulimits"] = h.ulimits.empty() ? OJson(nullptr) : ulimits;
  j["CpuCount"] = 0;
  j["CpuPercent"] = 0;
  j["IOMaximumIOps"] = 0;
  j["IOMaximumBandwidth"] = 0;
  OJson mounts = OJson::array();
  for (const auto& m : h.mounts)
    if (!m.from_bind_string && !m.from_tmpfs) mounts.push_back(MountJson(m));
  if (!mounts.empty()) j["Mounts"] = mounts;
  // What the container gets, as Docker records it at create (none when privileged).
  j["MaskedPaths"] = h.privileged ? OJson(nullptr)
                                  : OJson(h.masked_paths.value_or(internal::DefaultMaskedPaths()));
  j["ReadonlyPaths"] = h.privileged
                           ? OJson(nullptr)
                           : OJson(h.readonly_paths.value_or(internal::DefaultReadonlyPaths()));
  if (h.init) j["Init"] = *h.init;
  return j.dump();
}

}  // namespace berth::engine
