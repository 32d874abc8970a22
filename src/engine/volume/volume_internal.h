#pragma once

// Helpers of VolumeService shared between its files: the local driver's options and mounts
// (volume_mount.cc), copy-up and sizes (volume_copy.cc).

#include <cstdint>
#include <map>
#include <string>

#include "util/result.h"

namespace berth::engine::volume_internal {

/// Checks Docker's local driver options (type, device, o) and whether Berth can mount them.
Result<void> ValidateDriverOptions(const std::map<std::string, std::string>& opts);

/// Mounts what opts describe on target (tmpfs or a bind); nothing when opts are empty.
/// Returns whether it mounted.
Result<bool> MountOptions(const std::map<std::string, std::string>& opts,
                          const std::string& target);
/// Whether path is a mount point (its device or mount id differs from its parent's).
bool IsMountPoint(const std::string& path);
Result<void> UnmountPath(const std::string& target);

/// Copies the tree under src_dir_fd into dst_dir_fd, which is empty, without following
/// symlinks; then gives dst the owner, mode and times of src.
Result<void> CopyTree(int src_dir_fd, int dst_dir_fd);
/// Whether the directory has no entries.
Result<bool> DirIsEmpty(int dir_fd);
/// Docker's directory.Size: files' sizes, directories not counted, hard links once.
Result<int64_t> DirSize(const std::string& path);

}  // namespace berth::engine::volume_internal
