// The mount(2) calls every step shares: mounting through an fd, bind remounts that keep locked
// flags, the recursive attributes and the separate propagation call.

#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <string>

#include "runtime/rootfs/rootfs_internal.h"

namespace berth::runtime::rootfs::internal {

Result<unsigned long> MountFlagsOf(int fd) {
  // statfs(2)'s f_flags holds the ST_* mount flags (ST_VALID set) since Linux 2.6.36.
  struct statfs sfs;
  if (::fstatfs(fd, &sfs) != 0) return Error::FromErrno(errno, "statfs");
  constexpr unsigned long kStNoSymFollow = 0x2000;  // <linux/statfs.h>, absent in glibc 2.36
  struct Map {
    unsigned long st, ms;
  };
  static constexpr Map kMap[] = {
      {ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},           {ST_NODEV, MS_NODEV},
      {ST_NOEXEC, MS_NOEXEC},     {ST_NOATIME, MS_NOATIME},         {ST_NODIRATIME, MS_NODIRATIME},
      {ST_RELATIME, MS_RELATIME}, {kStNoSymFollow, MS_NOSYMFOLLOW},
  };
  unsigned long flags = 0;
  for (const auto& m : kMap) {
    if (static_cast<unsigned long>(sfs.f_flags) & m.st) flags |= m.ms;
  }
  return flags;
}

Result<void> MountOnFd(const char* source, int target_fd, const char* fstype, unsigned long flags,
                       const std::string& data, std::string_view what) {
  std::string target = FdPath(target_fd);
  if (::mount(source, target.c_str(), fstype, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return Error::FromErrno(errno, what);
  return {};
}

Result<void> RemountBind(int target_fd, unsigned long flags, bool keep_locked,
                         std::string_view what) {
  flags &= ~(MS_BIND | MS_REC | MS_REMOUNT | MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE);
  flags |= MS_REMOUNT | MS_BIND;
  unsigned long existing = 0;
  if (keep_locked) {
    existing = BERTH_TRY_CTX(MountFlagsOf(target_fd), what);
    if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
      existing &= ~(MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
  }
  Result<void> r = MountOnFd(nullptr, target_fd, nullptr, flags | existing, "", what);
  if (r || keep_locked || r.error().sys_errno() != EPERM) return r;
  // In a user namespace the flags the mount had when it was made visible to it (ro, nosuid,
  // nodev, noexec, atime) are locked: a remount that would clear one fails with EPERM
  // (mount(2), "EPERM"; runc does the same retry).
  existing = BERTH_TRY_CTX(MountFlagsOf(target_fd), what);
  if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
    existing &= ~(MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
  return MountOnFd(nullptr, target_fd, nullptr, flags | existing, "", what);
}

Result<void> ApplyRecursiveAttrs(int target_fd, const MountOptions& mo, std::string_view what) {
  if (mo.attr_set == 0 && mo.attr_clr == 0) return {};
  struct mount_attr attr {};
  attr.attr_set = mo.attr_set;
  attr.attr_clr = mo.attr_clr;
  if (::mount_setattr(target_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    return Error::FromErrno(errno, std::string(what) + ": mount_setattr");
  return {};
}

Result<void> ApplyPropagation(int target_fd, unsigned long propagation, std::string_view what) {
  if (propagation == 0) return {};
  return MountOnFd(nullptr, target_fd, nullptr, propagation, "",
                   std::string(what) + ": set propagation");
}

}  // namespace berth::runtime::rootfs::internal
