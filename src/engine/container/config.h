#pragma once

// A container's configuration as Docker's API gives it: Config (what to run) and HostConfig
// (how the host runs it), parsed from the create body into typed fields the engine acts on,
// and written back in Docker's JSON shapes (inspect, config.v2 on disk).
//
//   auto req = BERTH_TRY(ParseCreateRequest(body_json));   // POST /containers/create
//   std::string json = ConfigJson(req.config);              // {"Hostname":…} for inspect
//
// Parsing is strict where Docker is strict (types, values, names) and lenient where it is
// lenient (unknown fields ignored, null for absent). Errors are InvalidArgument with Docker's
// messages ("invalid restart policy …").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace berth::engine {

/// Docker's Config (api/types/container.Config).
struct ContainerConfig {
  std::string hostname;
  std::string domainname;
  std::string user;
  bool attach_stdin = false;
  bool attach_stdout = false;
  bool attach_stderr = false;
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  std::vector<std::string> env;  // "KEY=value"
  std::vector<std::string> cmd;
  bool cmd_set = false;  // Cmd was given (even empty): the image's Cmd is not used
  std::vector<std::string> entrypoint;
  bool entrypoint_set = false;  // Entrypoint was given: [""] or [] clears the image's
  std::string image;            // as the client named it
  std::map<std::string, std::string> volumes;  // anonymous volume mount points (keys)
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::optional<int> stop_timeout;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  bool network_disabled = false;
  std::vector<std::string> shell;
  std::string healthcheck_json;  // kept verbatim ("" if none)
};

/// One --mount (api/types/mount.Mount); -v binds are parsed into these too.
struct MountSpec {
  std::string type;    // "bind", "volume", "tmpfs"
  std::string source;  // host path, volume name ("" for anonymous), empty for tmpfs
  std::string target;
  bool read_only = false;
  std::string propagation;  // bind: rprivate (default), private, rshared, ...
  bool no_copy = false;     // volume: do not copy the image's files into a new volume
  std::map<std::string, std::string> volume_labels;
  int64_t tmpfs_size = 0;          // bytes, 0 = kernel default
  uint32_t tmpfs_mode = 0;         // 0 = 1777
  std::string tmpfs_options;       // from --tmpfs /path:OPTS, passed to the mount
  bool from_bind_string = false;   // came from HostConfig.Binds ("-v"), not Mounts
  bool from_tmpfs = false;         // came from HostConfig.Tmpfs ("--tmpfs"), not Mounts
  bool non_recursive = false;      // bind: BindOptions.NonRecursive ("bind", not "rbind")
  bool create_mountpoint = false;  // bind: BindOptions.CreateMountpoint (make a missing source)
};

struct Ulimit {
  std::string name;  // "nofile"
  int64_t soft = 0;
  int64_t hard = 0;
};

struct DeviceMapping {
  std::string path_on_host;
  std::string path_in_container;
  std::string cgroup_permissions = "rwm";
};

struct RestartPolicy {
  std::string name;  // "", "no", "always", "unless-stopped", "on-failure"
  int maximum_retry_count = 0;
};

struct LogConfig {
  std::string type = "json-file";
  std::map<std::string, std::string> config;  // max-size, max-file
};

struct PortBinding {
  std::string host_ip;
  std::string host_port;
};

/// Docker's HostConfig (api/types/container.HostConfig), the fields Berth acts on.
struct HostConfig {
  std::vector<std::string> binds;            // "-v" strings as given
  std::vector<MountSpec> mounts;             // binds and --mount, parsed and validated
  std::map<std::string, std::string> tmpfs;  // --tmpfs path → options
  bool read_only_rootfs = false;
  std::string network_mode;  // "none", "host", "default"/"bridge" ("" → "default")
  std::map<std::string, std::vector<PortBinding>> port_bindings;  // "80/tcp" → bindings
  bool publish_all_ports = false;
  RestartPolicy restart_policy;
  bool auto_remove = false;
  LogConfig log_config;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  bool privileged = false;
  std::vector<DeviceMapping> devices;
  std::vector<std::string> security_opt;  // "no-new-privileges", "seccomp=unconfined", ...
  std::string seccomp_profile_json;       // the contents of seccomp=FILE (the CLI sends the file)
  bool no_new_privileges = false;
  bool seccomp_unconfined = false;
  std::optional<bool> init;
  int64_t shm_size = 0;  // bytes, 0 = 64 MiB
  std::vector<std::string> dns, dns_search, dns_options, extra_hosts;
  std::vector<std::string> group_add;
  std::map<std::string, std::string> sysctls;
  std::string ipc_mode, pid_mode, uts_mode, userns_mode, cgroupns_mode;
  std::vector<std::string> volumes_from;
  std::string oom_score_adj_set;  // unused marker
  int oom_score_adj = 0;
  std::vector<Ulimit> ulimits;
  // Resources
  int64_t memory = 0;
  int64_t memory_swap = 0;  // -1 unlimited
  int64_t memory_reservation = 0;
  int64_t nano_cpus = 0;
  int64_t cpu_shares = 0;
  int64_t cpu_period = 0;
  int64_t cpu_quota = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::optional<int64_t> pids_limit;  // 0 or -1 unlimited
  bool oom_kill_disable = false;
  int64_t blkio_weight = 0;
  std::vector<int> console_size;                 // [height, width] if given
  std::string cgroup_parent;                     // --cgroup-parent ("" → the daemon's)
  std::vector<std::string> device_cgroup_rules;  // "c 1:3 rwm", "b *:* m"
  std::optional<int64_t> memory_swappiness;
  // Given (even empty: --security-opt systempaths=unconfined) → replace the defaults.
  std::optional<std::vector<std::string>> masked_paths, readonly_paths;
  std::vector<std::string> links;  // kept for inspect
  std::string volume_driver;
};

struct CreateRequest {
  std::string name;  // ?name=, "" for a generated one
  ContainerConfig config;
  HostConfig host_config;
  std::string networking_config_json;  // kept verbatim
  std::string platform;
};

/// Parses POST /containers/create's body (Config fields at the top level, with HostConfig
/// and NetworkingConfig inside). name comes from the query.
Result<CreateRequest> ParseCreateRequest(std::string_view body, std::string name);
/// Parses a HostConfig object alone (POST /containers/{id}/start with a body, API < 1.24).
Result<HostConfig> ParseHostConfig(std::string_view json);
/// A -v string: "NAME:/path[:ro]", "/host:/path[:ro,rshared,…]", "/path" (anonymous volume).
Result<MountSpec> ParseBind(std::string_view bind);

/// Docker's JSON shapes, for inspect and for the record on disk; Parse* read them back.
std::string ConfigJson(const ContainerConfig& config);
std::string HostConfigJson(const HostConfig& host_config);
Result<ContainerConfig> ParseConfigJson(std::string_view json);

/// Names: Docker's rule, [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading '/' is allowed and dropped).
/// InvalidArgument "Invalid container name (NAME), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed".
Result<std::string> ValidateName(std::string_view name);

/// "10m", "1g", "512k", "100" → bytes (docker's RAMInBytes); InvalidArgument if malformed.
Result<int64_t> ParseBytes(std::string_view s);

}  // namespace berth::engine
