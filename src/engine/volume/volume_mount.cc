// The local driver's options (docker volume create -o type=... -o device=... -o o=...) and
// the mounts they describe.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>

#include "engine/volume/volume_internal.h"
#include "util/file.h"

namespace berth::engine::volume_internal {
namespace {

struct MountSpec {
  unsigned long flags = 0;
  std::string data;  // options the filesystem parses (size=64m,uid=1000)
  bool bind = false;
};

// mount(8)'s flag words, as moby's mount.parseOptions; the rest goes to the filesystem.
MountSpec ParseO(const std::string& o) {
  struct Flag {
    const char* name;
    bool clear;
    unsigned long flag;
  };
  static const Flag kFlags[] = {
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
      {"noatime", false, MS_NOATIME},
      {"atime", true, MS_NOATIME},
      {"nodiratime", false, MS_NODIRATIME},
      {"diratime", true, MS_NODIRATIME},
      {"relatime", false, MS_RELATIME},
      {"norelatime", true, MS_RELATIME},
      {"strictatime", false, MS_STRICTATIME},
      {"bind", false, MS_BIND},
      {"rbind", false, MS_BIND | MS_REC},
  };
  MountSpec spec;
  for (const auto& word : Split(o, ',', true)) {
    bool known = false;
    for (const auto& f : kFlags) {
      if (word != f.name) continue;
      known = true;
      if (f.clear)
        spec.flags &= ~f.flag;
      else
        spec.flags |= f.flag;
    }
    if (!known) spec.data += (spec.data.empty() ? "" : ",") + word;
  }
  spec.bind = (spec.flags & MS_BIND) != 0;
  return spec;
}

std::string Get(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

Result<void> ValidateDriverOptions(const std::map<std::string, std::string>& opts) {
  for (const auto& [key, value] : opts) {
    if (key != "type" && key != "device" && key != "o" && key != "size")
      return Error::InvalidArgument("invalid option key: \"" + key + "\"");
  }
  // Docker's mandatory pairs: device needs type, type needs device, o needs both.
  static const std::pair<const char*, std::vector<const char*>> kNeeds[] = {
      {"device", {"type"}}, {"type", {"device"}}, {"o", {"device", "type"}}};
  for (const auto& [key, needs] : kNeeds) {
    if (!opts.count(key)) continue;
    for (const char* n : needs)
      if (!opts.count(n))
        return Error::InvalidArgument(std::string("missing required option: \"") + n + "\"");
  }
  if (opts.count("size"))
    return Error::InvalidArgument("quota size requested but no quota support");
  if (opts.empty()) return {};
  std::string type = Get(opts, "type");
  MountSpec spec = ParseO(Get(opts, "o"));
  if (type == "tmpfs") return {};
  if (spec.bind) {
    std::string device = Get(opts, "device");
    if (device.empty() || device[0] != '/')
      return Error::InvalidArgument("invalid bind device \"" + device +
                                    "\": an absolute path is needed");
    return {};
  }
  return Error::NotImplemented("local volume type \"" + type +
                               "\" is not supported: only type=tmpfs and o=bind");
}

bool IsMountPoint(const std::string& path) {
  struct statx sx;
  if (statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, 0, &sx) == 0 &&
      (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
    return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  // Kernels before 5.8: a different device than the parent's (misses same-fs binds).
  struct stat st, parent;
  if (lstat(path.c_str(), &st) < 0 || lstat((path + "/..").c_str(), &parent) < 0) return false;
  return st.st_dev != parent.st_dev;
}

Result<bool> MountOptions(const std::map<std::string, std::string>& opts,
                          const std::string& target) {
  if (opts.empty()) return false;
  std::string type = Get(opts, "type");
  std::string device = Get(opts, "device");
  MountSpec spec = ParseO(Get(opts, "o"));
  if (spec.bind) {
    struct stat st;
    if (stat(device.c_str(), &st) < 0) return Error::FromErrno(errno, "bind source " + device);
    unsigned long bind = MS_BIND | (spec.flags & MS_REC);
    if (mount(device.c_str(), target.c_str(), nullptr, bind, nullptr) < 0)
      return Error::FromErrno(errno, "mount " + device + " on " + target);
    // A bind takes other flags only on a remount (mount(2), "Creating a bind mount").
    unsigned long rest = spec.flags & ~(MS_BIND | MS_REC);
    if (rest != 0 &&
        mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | rest, nullptr) < 0) {
      int err = errno;
      umount2(target.c_str(), MNT_DETACH);
      return Error::FromErrno(err, "remount " + target);
    }
    return true;
  }
  if (mount(device.c_str(), target.c_str(), type.c_str(), spec.flags,
            spec.data.empty() ? nullptr : spec.data.c_str()) < 0)
    return Error::FromErrno(errno, "mount " + type + " " + device + " on " + target);
  return true;
}

Result<void> UnmountPath(const std::string& target) {
  if (umount2(target.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return Error::FromErrno(errno, "unmount " + target);
  return {};
}

}  // namespace berth::engine::volume_internal
