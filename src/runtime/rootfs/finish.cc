// Finish, after Enter: masked and read-only paths, a read-only root, the root's propagation.
// Paths are still opened inside "/" (openat2), so a symlink in the image only leads elsewhere
// in the container; /proc may be absent, then the plain path is the mount target.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "runtime/rootfs/rootfs.h"
#include "runtime/rootfs/rootfs_internal.h"

namespace berth::runtime::rootfs {
namespace {

using internal::TargetPath;

// Opens a path of maskedPaths/readonlyPaths; a missing one is not an error (an empty Fd).
Result<Fd> OpenOptional(int root_fd, const std::string& path, std::string_view what) {
  Result<Fd> fd = OpenInRoot(root_fd, path, O_PATH);
  if (!fd && fd.error().IsNotFound()) return Fd();
  if (!fd) return std::move(fd).error().Wrap(what);
  return fd;
}

// A directory gets an empty read-only tmpfs over it, anything else /dev/null bound onto it:
// reading gives nothing, writing fails (runc's maskPath).
Result<void> MaskPath(int root_fd, const std::string& path) {
  std::string what = "mask " + path;
  Fd fd = BERTH_TRY(OpenOptional(root_fd, path, what));
  if (!fd) return {};
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::FromErrno(errno, what);
  std::string target = TargetPath(fd.get(), path);
  int rc = S_ISDIR(st.st_mode) ? ::mount("tmpfs", target.c_str(), "tmpfs", MS_RDONLY, nullptr)
                               : ::mount("/dev/null", target.c_str(), nullptr, MS_BIND, nullptr);
  if (rc != 0) return Error::FromErrno(errno, what);
  return {};
}

// MS_BIND|MS_REMOUNT|MS_RDONLY, keeping the flags the mount has (locked ones included).
Result<void> RemountReadonly(int root_fd, const std::string& path, std::string_view what) {
  Fd top = BERTH_TRY_CTX(OpenInRoot(root_fd, path, O_PATH), what);
  unsigned long flags = BERTH_TRY_CTX(internal::MountFlagsOf(top.get()), what);
  std::string target = TargetPath(top.get(), path);
  if (::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | flags,
              nullptr) != 0)
    return Error::FromErrno(errno, what);
  return {};
}

Result<void> ReadonlyPath(int root_fd, const std::string& path) {
  std::string what = "make " + path + " read-only";
  Fd fd = BERTH_TRY(OpenOptional(root_fd, path, what));
  if (!fd) return {};
  std::string target = TargetPath(fd.get(), path);
  if (::mount(target.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return Error::FromErrno(errno, what);
  return RemountReadonly(root_fd, path, what);
}

}  // namespace

Result<void> Finish(const oci::Spec& spec, const Options& opts) {
  Fd root = BERTH_TRY_CTX(Fd::Open("/", O_PATH | O_DIRECTORY), "finish rootfs");
  if (spec.linux) {
    for (const auto& p : spec.linux->masked_paths) BERTH_TRY(MaskPath(root.get(), p));
    for (const auto& p : spec.linux->readonly_paths) BERTH_TRY(ReadonlyPath(root.get(), p));
  }
  if (spec.root && spec.root->readonly) {
    unsigned long flags = BERTH_TRY_CTX(internal::MountFlagsOf(root.get()), "make / read-only");
    if (::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, nullptr) != 0)
      return Error::FromErrno(errno, "make / read-only");
  }
  unsigned long prop = BERTH_TRY(internal::RootPropagation(spec));
  if (prop != 0 && ::mount("", "/", nullptr, prop, nullptr) != 0)
    return Error::FromErrno(errno, "set propagation of /");
  return {};
}

}  // namespace berth::runtime::rootfs
