// Enter: the rootfs becomes "/".

#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/rootfs/rootfs.h"

namespace berth::runtime::rootfs {
namespace {

// pivot_root(".", ".") stacks the old root on top of the new one at "/" (pivot_root(2),
// "NOTES"), with no put_old directory needed in the image; it is then detached. It must not
// propagate its unmount to the host: make it slave first (runc and crun do the same).
Result<void> PivotRoot(const Options& opts) {
  if (::syscall(SYS_pivot_root, ".", ".") != 0)
    return Error::FromErrno(errno, "pivot_root " + opts.rootfs);
  if (::mount("", ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
    return Error::FromErrno(errno, "make old root slave");
  if (::umount2(".", MNT_DETACH) != 0) return Error::FromErrno(errno, "detach old root");
  return {};
}

// --no-pivot (a ramfs root, where pivot_root is refused): move the rootfs over "/" and chroot.
// The old root stays reachable to anyone who can escape a chroot: runc's warning applies.
Result<void> MoveRoot(const Options& opts) {
  if (::mount(opts.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0)
    return Error::FromErrno(errno, "move " + opts.rootfs + " to /");
  if (::chroot(".") != 0) return Error::FromErrno(errno, "chroot " + opts.rootfs);
  return {};
}

}  // namespace

Result<void> Enter(const Options& opts) {
  if (::chdir(opts.rootfs.c_str()) != 0) return Error::FromErrno(errno, "chdir " + opts.rootfs);
  BERTH_TRY(opts.no_pivot ? MoveRoot(opts) : PivotRoot(opts));
  if (::chdir("/") != 0) return Error::FromErrno(errno, "chdir /");
  return {};
}

}  // namespace berth::runtime::rootfs
