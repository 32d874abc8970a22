#pragma once

// Helpers shared by the files of runtime/rootfs; not part of its interface.

#include <sys/types.h>

#include <string>
#include <string_view>

#include "oci/runtime_spec.h"
#include "runtime/rootfs/rootfs.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::runtime::rootfs::internal {

/// "/proc/self/fd/N": the magic link mount(2) follows to the exact object fd refers to, so a
/// mount made through it lands where the fd was resolved (inside the rootfs), whatever the path
/// contains.
std::string FdPath(int fd);

/// After Enter the container may have no /proc: then FdPath cannot be used, and `path` (a
/// path in the new root, which nothing can leave any more) is the target.
std::string TargetPath(int fd, const std::string& path);

/// `path` made absolute and lexically clean ("a//b/./c/../d" → "/a/b/d"); ".." stops at "/".
std::string CleanPath(std::string_view path);

/// The MS_* flags of the mount that holds fd (fstatvfs's ST_* mapped back): the flags a
/// MS_REMOUNT|MS_BIND must keep, since the kernel refuses to clear the ones locked by a user
/// namespace (EPERM).
Result<unsigned long> MountFlagsOf(int fd);

/// mount(2) with the target given as an fd. `what` names the step in errors
/// ("mount proc on /proc").
Result<void> MountOnFd(const char* source, int target_fd, const char* fstype, unsigned long flags,
                       const std::string& data, std::string_view what);

/// MS_REMOUNT|MS_BIND of the mount at target_fd with `flags`; on EPERM retried with the flags
/// of the mount kept (locked flags). If `keep_locked` the existing flags are added at once.
Result<void> RemountBind(int target_fd, unsigned long flags, bool keep_locked,
                         std::string_view what);

/// mount_setattr(2) of the "r*" options (AT_RECURSIVE) when any is set.
Result<void> ApplyRecursiveAttrs(int target_fd, const MountOptions& mo, std::string_view what);

/// The separate propagation call (mount("", target, NULL, MS_SHARED..., NULL)) when set.
Result<void> ApplyPropagation(int target_fd, unsigned long propagation, std::string_view what);

/// Step 3 of Prepare: one spec.mounts entry.
Result<void> MountEntry(int root_fd, const oci::Mount& m, const Options& opts);
/// Step 4 of Prepare: /dev (devices and symlinks). `dev_pts_mounted`: spec.mounts has /dev/pts.
Result<void> SetupDev(int root_fd, const oci::Spec& spec, const Options& opts,
                      bool dev_pts_mounted);

/// linux.rootfsPropagation as MS_* flags; 0 if unset; an unknown value is InvalidArgument.
Result<unsigned long> RootPropagation(const oci::Spec& spec);

/// Whether a mount entry is a bind mount (type "bind", or a bind/rbind option).
bool IsBind(const oci::Mount& m);

}  // namespace berth::runtime::rootfs::internal
