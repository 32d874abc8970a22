// Prepare: the steps before the createContainer hooks, in runc's order: propagation of the
// whole namespace, the rootfs made a mount point, spec.mounts, then /dev.

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>

#include "runtime/rootfs/rootfs.h"
#include "runtime/rootfs/rootfs_internal.h"
#include "util/file.h"

namespace berth::runtime::rootfs {
namespace {

// Mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)).
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool IsUnder(std::string_view path, std::string_view mount_point) {
  if (mount_point == "/") return true;
  return path.starts_with(mount_point) &&
         (path.size() == mount_point.size() || path[mount_point.size()] == '/');
}

// pivot_root(2) fails with EINVAL when the new root's parent mount is shared; with
// rootfsPropagation "shared" it would be. With "unbindable", the rootfs cannot be bound onto
// itself (EINVAL). Make the mount that holds the rootfs private; Finish sets the configured
// propagation on the new / again.
Result<void> MakeParentMountPrivate(const std::string& rootfs) {
  char real[PATH_MAX];
  if (::realpath(rootfs.c_str(), real) == nullptr)
    return Error::FromErrno(errno, "resolve rootfs " + rootfs);
  std::string info = BERTH_TRY_CTX(ReadFile("/proc/self/mountinfo"), "rootfs " + rootfs);
  std::string best;
  bool shared = false;  // shared or unbindable: both must become private
  for (const auto& line : Split(info, '\n', true)) {
    std::vector<std::string> f = Split(line, ' ');
    if (f.size() < 7) continue;
    std::string mp = Unescape(f[4]);
    // Later lines are mounted later: on a tie, the last one is the visible one.
    if (!IsUnder(real, mp) || mp.size() < best.size()) continue;
    best = mp;
    shared = false;
    for (size_t i = 6; i < f.size() && f[i] != "-"; ++i) {
      if (f[i].starts_with("shared:") || f[i] == "unbindable") shared = true;
    }
  }
  if (!shared) return {};
  if (::mount("", best.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
    return Error::FromErrno(errno, "make " + best + " private");
  return {};
}

}  // namespace

Result<void> Prepare(const oci::Spec& spec, const Options& opts) {
  unsigned long prop = BERTH_TRY(internal::RootPropagation(spec));
  // Nothing mounted in here may propagate back to the host: slave by default.
  if (prop == 0) prop = MS_SLAVE | MS_REC;
  if (::mount("", "/", nullptr, prop, nullptr) != 0)
    return Error::FromErrno(errno, "set propagation of /");
  BERTH_TRY(MakeParentMountPrivate(opts.rootfs));
  if (::mount(opts.rootfs.c_str(), opts.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return Error::FromErrno(errno, "bind rootfs " + opts.rootfs);
  Fd root = BERTH_TRY_CTX(Fd::Open(opts.rootfs, O_PATH | O_DIRECTORY), "rootfs");

  bool dev_bind = false, dev_pts = false;
  for (const auto& m : spec.mounts) {
    BERTH_TRY(internal::MountEntry(root.get(), m, opts));
    std::string dest = internal::CleanPath(m.destination);
    if (dest == "/dev") {
      dev_bind = internal::IsBind(m);
    } else if (dest == "/dev/pts") {
      dev_pts = true;
    }
  }
  if (dev_bind) return {};  // the host's /dev, or one the user made: left as it is
  return internal::SetupDev(root.get(), spec, opts, dev_pts);
}

namespace internal {

Result<unsigned long> RootPropagation(const oci::Spec& spec) {
  if (!spec.linux || spec.linux->rootfs_propagation.empty()) return 0ul;
  const std::string& name = spec.linux->rootfs_propagation;
  MountOptions mo = ParseMountOptions({name});
  if (mo.propagation == 0 || mo.flags != 0 || !mo.data.empty())
    return Error::InvalidArgument("linux.rootfsPropagation: unknown value " + name);
  return mo.propagation;
}

}  // namespace internal
}  // namespace berth::runtime::rootfs
