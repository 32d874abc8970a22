// /dev: the default devices, linux.devices, the standard symlinks, and the console.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "runtime/rootfs/rootfs.h"
#include "runtime/rootfs/rootfs_internal.h"

namespace berth::runtime::rootfs {
namespace internal {
namespace {

// The devices every container gets (runtime-spec config-linux.md, "Default Devices"; /dev/ptmx
// and /dev/console are made separately).
std::vector<oci::Device> DefaultDevices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    oci::Device d;
    d.type = "c";
    d.path = path;
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    return d;
  };
  return {dev("/dev/null", 1, 3),   dev("/dev/zero", 1, 5),    dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

Result<mode_t> TypeBits(const oci::Device& d, const std::string& dest) {
  if (d.type == "c" || d.type == "u") return static_cast<mode_t>(S_IFCHR);
  if (d.type == "b") return static_cast<mode_t>(S_IFBLK);
  if (d.type == "p") return static_cast<mode_t>(S_IFIFO);
  return Error::InvalidArgument("device " + dest + ": unknown type \"" + d.type + "\"");
}

std::string Dirname(const std::string& clean) {
  size_t slash = clean.rfind('/');
  return slash == 0 ? "/" : clean.substr(0, slash);
}

// A user namespace may not mknod devices (the kernel requires CAP_MKNOD in the initial one):
// bind the host's node onto an empty file instead, as runc does.
Result<void> BindHostDevice(int root_fd, const std::string& dest) {
  std::string what = "bind device " + dest;
  Fd src = BERTH_TRY_CTX(Fd::Open(dest, O_PATH), what);
  Fd target = BERTH_TRY_CTX(MakeMountPoint(root_fd, dest, false), what);
  return MountOnFd(FdPath(src.get()).c_str(), target.get(), nullptr, MS_BIND, "", what);
}

Result<void> CreateDevice(int root_fd, const oci::Device& d, const Options& opts) {
  std::string dest = CleanPath(d.path);
  std::string what = "create device " + dest;
  if (dest == "/") return Error::InvalidArgument("device path " + d.path + ": not a file");
  mode_t type = BERTH_TRY(TypeBits(d, dest));
  if (opts.in_user_ns && type != S_IFIFO) return BindHostDevice(root_fd, dest);

  Fd dir = BERTH_TRY_CTX(MakeMountPoint(root_fd, Dirname(dest), true), what);
  std::string name = dest.substr(dest.rfind('/') + 1);
  mode_t perm = d.file_mode.value_or(0666) & 07777;
  dev_t num =
      type == S_IFIFO ? 0 : makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  if (::mknodat(dir.get(), name.c_str(), type | perm, num) != 0) {
    if (errno != EEXIST) return Error::FromErrno(errno, what);
    // The image's own /dev/null (a file, a symlink) is replaced by the real node.
    if (::unlinkat(dir.get(), name.c_str(), 0) != 0) return Error::FromErrno(errno, what);
    if (::mknodat(dir.get(), name.c_str(), type | perm, num) != 0)
      return Error::FromErrno(errno, what);
  }
  // mknod applies the umask; the spec's fileMode is meant as it is.
  if (::fchmodat(dir.get(), name.c_str(), perm, 0) != 0)
    return Error::FromErrno(errno, what + ": chmod");
  if (d.uid || d.gid) {
    uid_t uid = d.uid ? *d.uid : static_cast<uid_t>(-1);
    gid_t gid = d.gid ? *d.gid : static_cast<gid_t>(-1);
    if (::fchownat(dir.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
      return Error::FromErrno(errno, what + ": chown");
  }
  return {};
}

Result<void> Symlink(int dev_fd, const char* target, const char* name) {
  if (::symlinkat(target, dev_fd, name) != 0 && errno != EEXIST)
    return Error::FromErrno(errno, std::string("symlink /dev/") + name + " -> " + target);
  return {};
}

}  // namespace

Result<void> SetupDev(int root_fd, const oci::Spec& spec, const Options& opts,
                      bool dev_pts_mounted) {
  // Made (0755) if the spec mounts nothing there and the image has none.
  Fd dev = BERTH_TRY_CTX(MakeMountPoint(root_fd, "/dev", true), "setup /dev");
  std::vector<oci::Device> devices;
  const std::vector<oci::Device> none;
  const auto& user = spec.linux ? spec.linux->devices : none;
  for (auto& d : DefaultDevices()) {
    bool dup = std::any_of(user.begin(), user.end(),
                           [&](const oci::Device& u) { return CleanPath(u.path) == d.path; });
    if (!dup) devices.push_back(std::move(d));
  }
  devices.insert(devices.end(), user.begin(), user.end());
  for (const auto& d : devices) BERTH_TRY(CreateDevice(root_fd, d, opts));

  BERTH_TRY(Symlink(dev.get(), "/proc/self/fd", "fd"));
  BERTH_TRY(Symlink(dev.get(), "/proc/self/fd/0", "stdin"));
  BERTH_TRY(Symlink(dev.get(), "/proc/self/fd/1", "stdout"));
  BERTH_TRY(Symlink(dev.get(), "/proc/self/fd/2", "stderr"));
  if (::access("/proc/kcore", F_OK) == 0) BERTH_TRY(Symlink(dev.get(), "/proc/kcore", "core"));
  if (dev_pts_mounted) {
    // The devpts instance's own ptmx, so that ptys opened in the container are its own.
    if (::unlinkat(dev.get(), "ptmx", 0) != 0 && errno != ENOENT)
      return Error::FromErrno(errno, "remove /dev/ptmx");
    BERTH_TRY(Symlink(dev.get(), "pts/ptmx", "ptmx"));
  }
  return {};
}

}  // namespace internal

Result<void> BindConsole(const std::string& pty_slave_path) {
  std::string what = "bind " + pty_slave_path + " on /dev/console";
  Fd root = BERTH_TRY_CTX(Fd::Open("/", O_PATH | O_DIRECTORY), what);
  Fd target = BERTH_TRY_CTX(MakeMountPoint(root.get(), "/dev/console", false), what);
  std::string path = internal::TargetPath(target.get(), "/dev/console");
  if (::mount(pty_slave_path.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return Error::FromErrno(errno, what);
  return {};
}

}  // namespace berth::runtime::rootfs
