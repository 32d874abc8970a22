#pragma once

// The container's root filesystem, built inside its new mount namespace by the container's
// init, in three steps around the createContainer hooks:
//
//   BERTH_TRY(rootfs::Prepare(spec, opts));   // propagation, rootfs bind, spec.mounts, /dev
//   ... createContainer hooks (they see the rootfs before pivot_root) ...
//   BERTH_TRY(rootfs::Enter(opts));           // pivot_root (or MS_MOVE + chroot), chdir /
//   BERTH_TRY(rootfs::BindConsole(slave));   // with a terminal: the pty slave on /dev/console
//   BERTH_TRY(rootfs::Finish(spec, opts));    // masked/read-only paths, root.readonly
//
// Every mount destination is resolved inside the rootfs (openat2 RESOLVE_IN_ROOT) and mounted
// through its fd, so no symlink or ".." in the image can make a mount land on the host. Errors
// name the step and the path ("mount proc on /proc: operation not permitted"; "mount
// destination /etc/x: /etc: not a directory"). No threads; the calls allocate, which is fine in
// an init forked from a single-threaded parent.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "oci/runtime_spec.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::runtime::rootfs {

struct Options {
  std::string rootfs;          // absolute host path of root.path (already joined to the bundle)
  std::string bundle;          // absolute bundle path: relative bind sources are taken from it
  bool no_pivot = false;       // --no-pivot: MS_MOVE the rootfs to / and chroot
  bool in_user_ns = false;     // a new user namespace: mknod is refused, bind host devices
  bool new_net_ns = true;      // false: sysfs cannot be mounted fresh, bind the host's instead
  bool new_cgroup_ns = false;  // a cgroup mount shows the namespace root, else the container's dir
  /// Hierarchy → this container's cgroup directory on the host (CgroupManager::Paths()), for
  /// mounts of type "cgroup".
  std::map<std::string, std::string> cgroup_paths;
};

/// Step 1. REQUIRES: the calling process is in a new mount namespace (and, for a fresh proc,
/// in the container's pid namespace). Mount types: bind/rbind (options or type "bind"), proc,
/// sysfs (the host's /sys bound if !new_net_ns), cgroup (v1: a tmpfs plus one bind per
/// hierarchy of cgroup_paths; v2: as cgroup2), cgroup2 (fresh if new_cgroup_ns, else the
/// container's directory bound), anything else passed to mount(2). Under /proc only procfs on
/// /proc and lxcfs's files (/proc/cpuinfo, meminfo, ...) may be mounted. idmap options are
/// NotImplemented.
Result<void> Prepare(const oci::Spec& spec, const Options& opts);
/// Step 2: the rootfs becomes / and the old root is detached.
Result<void> Enter(const Options& opts);
/// Step 3, after Enter.
Result<void> Finish(const oci::Spec& spec, const Options& opts);

/// Binds the pty slave (a path as seen from the new root, "/dev/pts/0") onto /dev/console,
/// creating an empty /dev/console first if missing. REQUIRES: after Enter.
Result<void> BindConsole(const std::string& pty_slave_path);

/// Mount options, parsed (mount(8) names and the OCI extensions: "rbind", "rro", "idmap", ...).
struct MountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC, ...
  unsigned long propagation = 0;  // MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE (| MS_REC)
  uint64_t attr_set = 0;          // MOUNT_ATTR_* for mount_setattr of "r*" options (rro, ...)
  uint64_t attr_clr = 0;
  std::string data;  // what the filesystem gets ("size=64m,mode=1777")
  bool bind = false;
  bool recursive = false;
  bool idmap = false;
};
/// Unknown options are passed to the filesystem as data, as mount(8) does.
MountOptions ParseMountOptions(const std::vector<std::string>& options);

/// Opens `path` as if `root_fd` were "/": ".." and symlinks cannot leave it.
Result<Fd> OpenInRoot(int root_fd, std::string_view path, int flags, mode_t mode = 0);
/// Creates what a mount at `dest` needs inside root (parent directories 0755, then a directory
/// or an empty 0644 file; existing ones are kept) and returns an O_PATH fd of it. Symlinks on
/// the way are followed inside root, and the missing targets of dangling ones are created
/// there too. A component that is not a directory is an error naming dest
/// ("mount destination /etc/x: /etc: not a directory").
Result<Fd> MakeMountPoint(int root_fd, std::string_view dest, bool is_dir);

}  // namespace berth::runtime::rootfs
