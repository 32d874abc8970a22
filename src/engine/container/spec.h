#pragma once

// Docker's container model to an OCI runtime spec: what `docker run` flags mean, as the OCI
// runtime (src/runtime) understands them. Pure: reads nothing but the rootfs files it is
// pointed at (/etc/passwd, /etc/group for -u NAME), writes nothing.
//
//   auto spec = BERTH_TRY(BuildSpec({.config = c.config, .host = c.host_config,
//                                    .image = image_config, .rootfs = merged_dir, ...}));
//
// Defaults are Docker's: its default capability set, its default seccomp allowlist (unless
// seccomp=unconfined or --privileged), masked and read-only /proc paths, /dev with the
// standard devices, a 64 MiB /dev/shm, an own network namespace with lo (none), or the host's
// (host), PATH when the image has no env, cgroup limits from the resource flags.

#include <map>
#include <string>
#include <vector>

#include "engine/container/config.h"
#include "oci/image.h"
#include "oci/runtime_spec.h"
#include "util/result.h"

namespace berth::engine {

/// A mount resolved to the host: volumes to their _data directory, binds checked.
struct ResolvedMount {
  std::string type;                  // "bind" or "tmpfs"
  std::string source;                // host path (bind), "tmpfs"
  std::string destination;           // in the container
  std::vector<std::string> options;  // "rbind", "ro", "rprivate", "nosuid", "size=…", ...
};

struct SpecInput {
  std::string id;  // the container id (hostname default: its first 12 characters)
  const ContainerConfig* config = nullptr;
  const HostConfig* host = nullptr;
  const oci::ImageConfig* image = nullptr;  // the image's config (Env, Cmd, Entrypoint, ...)
  std::string rootfs;                       // the mounted overlay (merged dir), absolute
  std::vector<ResolvedMount> mounts;
  std::string cgroup_parent = "/berth";  // cgroupsPath = <parent>/<id>
  std::string init_path;                 // host path of berth-init, bind-mounted for --init
  std::string hosts_path, resolv_conf_path, hostname_path;  // host files bind-mounted, if set
  /// Namespaces to join instead of creating: "network" → "/run/berth/netns/x" (a pooled or
  /// user-defined network), "ipc"/"pid"/"network" → "/proc/PID/ns/..." for container:NAME
  /// modes. A "container:" mode without its path here is an InvalidArgument error.
  std::map<std::string, std::string> namespace_paths;
  std::string host_dev = "/dev";  // where --privileged finds the host's devices (tests: a dir)
};

/// A MountSpec as the runtime mounts it, with Docker's options: bind and volume → "rbind" (or
/// "bind" if non_recursive), "ro" or "rw", the propagation ("rprivate" by default); tmpfs →
/// "noexec","nosuid","nodev","rprivate", then size/mode and --tmpfs options (which win: "exec"
/// replaces "noexec"). `host_source` is the bind source or the volume's _data directory.
ResolvedMount ResolveMount(const MountSpec& mount, const std::string& host_source);

/// Docker's create-time merge of the image's config into the container's (moby merge()):
/// User, Env (the container's win by key), Cmd/Entrypoint (Docker's rules, [""] clears),
/// WorkingDir, Labels, ExposedPorts, Volumes, StopSignal, Healthcheck (its unset fields). The
/// result is what `docker inspect` shows as Config; ProcessArgs gives the same args for it.
ContainerConfig MergeImageConfig(ContainerConfig config, const oci::ImageConfig& image);

/// InvalidArgument with Docker's wording for what the runtime would refuse (unknown
/// capability, bad ulimit, malformed seccomp profile, -u NAME not in /etc/passwd: "unable
/// to find user NAME: no matching entries in passwd file").
Result<oci::Spec> BuildSpec(const SpecInput& input);

/// The process args: entrypoint + cmd, with the image's as defaults (Docker's rules). Empty
/// means "no command specified" (the caller's error).
std::vector<std::string> ProcessArgs(const ContainerConfig& config, const oci::ImageConfig& image);

/// The process for `docker exec`: env, user, workdir, caps (privileged) layered over the
/// container's spec.
struct ExecInput {
  const oci::Spec* container = nullptr;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string user;
  std::string working_dir;
  bool tty = false;
  bool privileged = false;
  std::string rootfs;  // for -u NAME
};
Result<oci::Process> BuildExecProcess(const ExecInput& input);

}  // namespace berth::engine
