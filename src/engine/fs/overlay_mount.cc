#include "engine/fs/overlay_mount.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "util/fd.h"

namespace berth::engine::fs {
namespace {

// A path the legacy option string would have to escape (',' separates options, ':' lower
// directories, '\' escapes): handed over by the new mount API instead, which takes each path
// as it is.
bool NeedsEscape(std::string_view p) { return p.find_first_of(",:\\") != std::string_view::npos; }

Error MountError(int err, const std::string& target, const std::string& detail = "") {
  std::string what = "mount overlay on " + target;
  if (!detail.empty()) what += " (" + detail + ")";
  return Error::FromErrno(err, what);
}

// What the kernel logged on the fs context ("e overlayfs: failed to resolve 'x': -2"), for
// the error message.
std::string ContextLog(int fs_fd) {
  std::string log;
  char buf[512];
  for (int i = 0; i < 8; ++i) {
    ssize_t n = ::read(fs_fd, buf, sizeof buf - 1);
    if (n <= 0) break;
    if (!log.empty()) log += "; ";
    log.append(buf, static_cast<size_t>(n));
    while (!log.empty() && log.back() == '\n') log.pop_back();
  }
  return log;
}

Result<void> MountNewApi(const std::vector<std::string>& lowers, const std::string& upper,
                         const std::string& work, const std::string& target) {
  int raw = ::fsopen("overlay", FSOPEN_CLOEXEC);
  if (raw < 0) return MountError(errno, target, "fsopen");
  Fd fs(raw);
  auto set = [&](const char* key, const std::string& value) -> Result<void> {
    // fsconfig copies at most 256 bytes of a string value.
    if (value.size() >= 256)
      return Error::InvalidArgument(std::string(key) + " path too long: " + value);
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0) {
      int err = errno;
      std::string log = ContextLog(fs.get());
      if (err == EINVAL && std::string_view(key) == "lowerdir+" && log.empty())
        log = "the kernel lacks lowerdir+ (Linux 6.8+) for this many layers";
      return MountError(err, target, log.empty() ? std::string(key) + "=" + value : log);
    }
    return {};
  };
  for (const auto& l : lowers) BERTH_TRY(set("lowerdir+", l));
  BERTH_TRY(set("upperdir", upper));
  BERTH_TRY(set("workdir", work));
  for (const char* feature : {"index", "redirect_dir", "metacopy"}) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, feature, "off", 0) != 0)
      (void)ContextLog(fs.get());  // a kernel without the option has the feature off
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int err = errno;
    return MountError(err, target, ContextLog(fs.get()));
  }
  int m = ::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0);
  if (m < 0) return MountError(errno, target, "fsmount");
  Fd mnt(m);
  if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return MountError(errno, target, "move_mount");
  return {};
}

}  // namespace

Result<void> MountOverlay(const std::vector<std::string>& lowers_top_first,
                          const std::string& upper, const std::string& work,
                          const std::string& target) {
  if (upper.empty() || work.empty() || target.empty())
    return Error::InvalidArgument("mount overlay: upper, work and target are required");
  if (lowers_top_first.empty()) {
    if (::mount(upper.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
      return Error::FromErrno(errno, "bind " + upper + " on " + target);
    return {};
  }
  bool escape = NeedsEscape(upper) || NeedsEscape(work);
  std::string data = "index=off,redirect_dir=off,metacopy=off,lowerdir=";
  for (size_t i = 0; i < lowers_top_first.size(); ++i) {
    if (lowers_top_first[i].empty()) return Error::InvalidArgument("mount overlay: empty lowerdir");
    escape = escape || NeedsEscape(lowers_top_first[i]);
    if (i) data += ':';
    data += lowers_top_first[i];
  }
  data += ",upperdir=" + upper + ",workdir=" + work;
  long page = ::sysconf(_SC_PAGESIZE);
  if (escape || data.size() + 1 > static_cast<size_t>(page > 0 ? page : 4096))
    return MountNewApi(lowers_top_first, upper, work, target);
  if (::mount("overlay", target.c_str(), "overlay", 0, data.c_str()) != 0)
    return MountError(errno, target);
  return {};
}

Result<void> UnmountOverlay(const std::string& target) {
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return {};
  int err = errno;
  if (err == EINVAL || err == ENOENT) return {};  // not a mount point, or gone
  if (err == EBUSY && ::umount2(target.c_str(), UMOUNT_NOFOLLOW | MNT_DETACH) == 0) return {};
  return Error::FromErrno(err, "unmount " + target);
}

Result<OverlayMount> OverlayMount::Mount(const std::vector<std::string>& lowers_top_first,
                                         const std::string& upper, const std::string& work,
                                         const std::string& target) {
  BERTH_TRY(MountOverlay(lowers_top_first, upper, work, target));
  return OverlayMount(target);
}

OverlayMount& OverlayMount::operator=(OverlayMount&& other) noexcept {
  if (this != &other) {
    (void)Unmount();
    target_ = std::move(other.target_);
    other.target_.clear();
  }
  return *this;
}

Result<void> OverlayMount::Unmount() {
  if (target_.empty()) return {};
  std::string t = std::move(target_);
  target_.clear();
  return UnmountOverlay(t);
}

}  // namespace berth::engine::fs
