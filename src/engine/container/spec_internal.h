#pragma once

// The pieces of BuildSpec, for config.cc (create-time checks) and the tests.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/container/config.h"
#include "oci/runtime_spec.h"
#include "util/result.h"

namespace berth::engine::internal {

/// Docker's default capability set (CAP_ names).
const std::vector<std::string>& DefaultCaps();
/// "net_admin", "CAP_NET_ADMIN", "all" → "CAP_NET_ADMIN", "ALL". InvalidArgument
/// `unknown capability: "CAP_FOO"` for a name no kernel has.
Result<std::vector<std::string>> NormalizeCaps(const std::vector<std::string>& caps);
/// The container's capabilities: privileged → AllCaps(); else the defaults with
/// --cap-drop removed and --cap-add added ("ALL" on either side as Docker reads it).
Result<std::vector<std::string>> ContainerCaps(const HostConfig& host);
/// Every capability this kernel has that is in berthd's bounding set (what it can give).
std::vector<std::string> AllCaps();

/// Docker's masked and read-only paths of an unprivileged container.
const std::vector<std::string>& DefaultMaskedPaths();
const std::vector<std::string>& DefaultReadonlyPaths();

/// --ulimit: a known name, soft <= hard (-1 = unlimited).
Result<void> CheckUlimit(const Ulimit& u);
Result<oci::Rlimit> ToRlimit(const Ulimit& u);

/// --device-cgroup-rule "c 1:3 rwm", "b *:* m", "a".
Result<oci::DeviceRule> ParseDeviceRule(std::string_view rule);

/// --device (a node, or a directory of them) and, if privileged, every device under host_dev
/// → linux.devices with their allow rules after Docker's defaults (deny all; mknod of any
/// c/b; null zero full random urandom tty console ptmx pts). Errors as Docker's: "error
/// gathering device information while adding custom device \"/dev/x\": no such file or
/// directory".
Result<void> AddDevices(const HostConfig& host, const std::string& host_dev, oci::Linux* lx);

/// A -u value resolved in the rootfs's /etc/passwd and /etc/group (opened with
/// RESOLVE_IN_ROOT: a symlink cannot make them the host's).
struct ExecUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home = "/";
};
/// "", "uid", "uid:gid", "name", "name:group", plus --group-add names or ids. Errors as
/// Docker's: "unable to find user NAME: no matching entries in passwd file".
Result<ExecUser> ResolveUser(const std::string& rootfs, std::string_view user,
                             const std::vector<std::string>& group_add);

/// Berth's default seccomp allowlist for a container with these capabilities.
oci::Seccomp DefaultSeccomp(const std::vector<std::string>& caps);
/// A profile in Docker's format (seccomp=FILE), filtered for this architecture, kernel and
/// capability set as Docker filters it.
Result<oci::Seccomp> ParseDockerSeccomp(std::string_view json,
                                        const std::vector<std::string>& caps);

}  // namespace berth::engine::internal
