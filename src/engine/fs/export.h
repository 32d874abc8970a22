#pragma once

// `docker export`: the container's filesystem as one tar, read from its merged view (the
// mounted overlay: mount it first for a stopped container, see overlay_mount.h).
//
//   OverlayMount m = BERTH_TRY(OverlayMount::Mount(lowers, upper, work, merged));
//   BERTH_TRY(ExportRootfs(merged, response_fd));

#include <string>

#include "util/result.h"

namespace berth::engine::fs {

/// Writes everything below rootfs (not rootfs itself) to out_fd as an uncompressed tar, in the
/// layer tar format of store/archive/write.h: names relative ("bin/sh"), sorted, a directory
/// before its contents, numeric owners, xattrs, hard links as links, sockets left out. The
/// volumes and binds of a container are not in the merged view and are not exported (as
/// Docker's export leaves volumes out).
/// An error after the first byte leaves a truncated tar.
Result<void> ExportRootfs(const std::string& rootfs, int out_fd);

}  // namespace berth::engine::fs
