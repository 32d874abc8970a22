// ParseMountOptions: mount(8)'s flag names and the OCI runtime spec's extensions (config.md,
// "mounts": rbind, the recursive "r*" attributes applied with mount_setattr(2), idmap).

#include <sys/mount.h>

#include <string_view>

#include "runtime/rootfs/rootfs.h"

namespace berth::runtime::rootfs {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // "rw", "suid", ...: the flag is removed
  unsigned long flag;
};

// mount(8) names. "defaults" means rw,suid,dev,exec,auto,nouser,async: all zero here.
constexpr FlagOption kFlags[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOption {
  std::string_view name;
  uint64_t set;
  uint64_t clr;
};

// The recursive forms (runc's "rro", ...). The atime values are an enum inside
// MOUNT_ATTR__ATIME: changing it needs the whole mask in attr_clr (mount_setattr(2)).
constexpr AttrOption kAttrs[] = {
    {"rro", MOUNT_ATTR_RDONLY, 0},
    {"rrw", 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", MOUNT_ATTR_NOSUID, 0},
    {"rsuid", 0, MOUNT_ATTR_NOSUID},
    {"rnodev", MOUNT_ATTR_NODEV, 0},
    {"rdev", 0, MOUNT_ATTR_NODEV},
    {"rnoexec", MOUNT_ATTR_NOEXEC, 0},
    {"rexec", 0, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
    {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
    {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
};

void AddAttr(MountOptions* mo, const AttrOption& a) {
  if (a.clr & MOUNT_ATTR__ATIME) {
    // A later atime option replaces an earlier one.
    mo->attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR__ATIME);
    mo->attr_clr |= MOUNT_ATTR__ATIME;
    mo->attr_set |= a.set;
    return;
  }
  mo->attr_set = (mo->attr_set & ~a.clr) | a.set;
  mo->attr_clr = (mo->attr_clr & ~a.set) | a.clr;
}

bool ParseOne(MountOptions* mo, std::string_view o) {
  for (const auto& f : kFlags) {
    if (o != f.name) continue;
    if (f.clear) {
      mo->flags &= ~f.flag;
    } else {
      mo->flags |= f.flag;
    }
    return true;
  }
  for (const auto& p : kPropagation) {
    if (o != p.name) continue;
    mo->propagation = p.flags;  // the last one wins: mount(2) takes one type per call
    return true;
  }
  for (const auto& a : kAttrs) {
    if (o != a.name) continue;
    AddAttr(mo, a);
    return true;
  }
  if (o == "bind" || o == "rbind") {
    mo->bind = true;
    mo->recursive = o == "rbind";
    mo->flags |= MS_BIND;
    if (mo->recursive) mo->flags |= MS_REC;
    return true;
  }
  if (o == "idmap" || o == "ridmap") {
    mo->idmap = true;
    return true;
  }
  // tmpcopyup (copy the image's content into a new tmpfs) is not supported and has no effect.
  return o == "tmpcopyup";
}

}  // namespace

MountOptions ParseMountOptions(const std::vector<std::string>& options) {
  MountOptions mo;
  for (const auto& o : options) {
    if (o.empty() || ParseOne(&mo, o)) continue;
    if (!mo.data.empty()) mo.data += ',';
    mo.data += o;
  }
  return mo;
}

}  // namespace berth::runtime::rootfs
