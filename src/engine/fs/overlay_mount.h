#pragma once

// Mounting a container's filesystem: an overlay of the image's layer directories (lowers) with
// the container's own writable layer (upper, work), at target.
//
//   BERTH_TRY(MountOverlay(lowers, c + "/upper", c + "/work", c + "/merged"));
//   ...
//   BERTH_TRY(UnmountOverlay(c + "/merged"));
//
// or, for a stopped container's one-off job (export, cp, diff of the merged view):
//
//   OverlayMount m = BERTH_TRY(OverlayMount::Mount(lowers, upper, work, target));
//   ...  // unmounted when m leaves scope
//
// The legacy mount(2) data holds a page at most (4095 bytes of options): for an image whose
// layer paths do not fit, the new mount API (fsopen/fsconfig/fsmount, Linux 6.8+) hands each
// lower directory over as its own "lowerdir+" parameter, which has no such limit (the kernel
// allows 500 lowers). index=off as the snapshotter's overlays: the same lower directories are
// shared by many overlays; redirect_dir=off and metacopy=off whatever the kernel's defaults, so
// that the upper directory holds whole files and directories (diff and commit read it alone:
// a renamed directory or a metadata-only copy-up would point into the lower layers).

#include <string>
#include <vector>

#include "util/result.h"

namespace berth::engine::fs {

/// Mounts an overlay on target (an existing directory): lowers_top_first[0] is the top-most
/// image layer, the last one the base layer. With no lowers (an image FROM scratch with no
/// layer) upper is bind-mounted on target instead, so the container still writes into upper.
/// REQUIRES: CAP_SYS_ADMIN in the caller's mount namespace; upper and work on one filesystem,
/// work empty or made by a previous mount of the same upper. Errors name the target and the
/// kernel's reason ("mount overlay on /x/merged: no such file or directory").
Result<void> MountOverlay(const std::vector<std::string>& lowers_top_first,
                          const std::string& upper, const std::string& work,
                          const std::string& target);

/// Unmounts target. Not mounted (or missing) is success. A busy mount (a process has its cwd
/// or a file open inside) is detached lazily (MNT_DETACH): it goes once the last user leaves.
Result<void> UnmountOverlay(const std::string& target);

/// An overlay mounted for the lifetime of this object (move-only); the destructor unmounts
/// unless Release()d.
class OverlayMount {
 public:
  static Result<OverlayMount> Mount(const std::vector<std::string>& lowers_top_first,
                                    const std::string& upper, const std::string& work,
                                    const std::string& target);
  OverlayMount() = default;
  OverlayMount(OverlayMount&& other) noexcept : target_(std::move(other.target_)) {
    other.target_.clear();
  }
  OverlayMount& operator=(OverlayMount&& other) noexcept;
  OverlayMount(const OverlayMount&) = delete;
  OverlayMount& operator=(const OverlayMount&) = delete;
  ~OverlayMount() { (void)Unmount(); }

  const std::string& target() const { return target_; }
  /// Unmounts now (once); later calls and the destructor do nothing.
  Result<void> Unmount();
  /// Keeps the mount: the caller unmounts it with UnmountOverlay.
  void Release() { target_.clear(); }

 private:
  explicit OverlayMount(std::string target) : target_(std::move(target)) {}
  std::string target_;
};

}  // namespace berth::engine::fs
