#pragma once

// `docker diff`: what a container changed, read from its overlay upper directory alone (the
// container need not run), with the image's layers to tell an addition from a modification.
//
//   std::vector<Change> changes = BERTH_TRY(Changes(lowers, container_dir + "/upper"));
//   for (const auto& c : changes) ...  // {"/etc", kModified}, {"/etc/passwd", kModified}, ...
//
// Rules, as Docker reports them for overlay2:
//  - an overlay whiteout in upper (a 0/0 character device) is Deleted;
//  - any other entry of upper is Modified if the lower layers show something at its path,
//    else Added;
//  - an opaque directory (trusted.overlay.opaque=y: removed and made again) is Modified (or
//    Added), and what the lower layers had below it and upper does not is Deleted; the same
//    holds for every directory below an opaque one;
//  - a directory of upper that exists below is Modified if its mode, owner or mtime differ, or
//    if anything below it changed (so the parents of a change show as "C", as in Docker);
//    otherwise (a copy-up with nothing changed below) it is not reported.
// The lower view follows overlayfs: layers top first, a whiteout or a non-directory hides
// what lies below, an opaque directory hides the layers below it.
// An init layer (files the engine makes for mounts, such as /etc/hosts) belongs at the top of
// lowers_top_first: what it holds is then part of the image as far as the diff goes.

#include <string>
#include <vector>

#include "util/result.h"

namespace berth::engine::fs {

/// The values of Docker's API (GET /containers/{id}/changes "Kind").
enum class ChangeKind : int { kModified = 0, kAdded = 1, kDeleted = 2 };

struct Change {
  std::string path;  // absolute in the container: "/etc/passwd"
  ChangeKind kind = ChangeKind::kModified;
};

/// The changes of upper over lowers_top_first, sorted by path (bytewise). Nothing is
/// followed: symlinks are compared as entries. Errors name the path ("changes of
/// /x/upper/etc: permission denied").
Result<std::vector<Change>> Changes(const std::vector<std::string>& lowers_top_first,
                                    const std::string& upper);

/// "C", "A" or "D", as `docker diff` prints them.
char ChangeLetter(ChangeKind kind);

}  // namespace berth::engine::fs
