#pragma once

// Garbage collection of the registry's storage, safe while the registry keeps serving (in the
// same process, `berth registry serve --gc-interval`, or in another, `berth registry gc`):
// distribution's GC has to stop the world (read-only mode) because its mark and sweep race
// with pushes; this one needs no lock shared with the server, only the rules below.
//
// Mark: every manifest linked in any repository (ROOT/repositories/*/_manifests, tagged or
// not) is live, and so is every blob it names (config, layers; an index's children are linked
// manifests themselves). Blobs linked into a repository but named by no manifest are not live:
// a layer whose image was deleted goes.
//
// Sweep: a blob that is not live is deleted only if its mtime is older than the cutoff,
// (start of this collection) − grace − 1 s. Storage refreshes a blob's mtime (utimensat) every
// time it is written, committed, mounted, or named by a manifest being pushed, before it checks
// that the blob is there. So:
//   - a push that completes while GC runs refreshed its blobs after the cutoff: they stay,
//     even when the mark walked the repositories before the push linked its manifest;
//   - a blob uploaded before GC started whose manifest comes later (a push in progress) stays
//     if the push is shorter than the grace (default 2 h);
//   - the last race — a manifest push that refreshes a blob between the sweep's check and its
//     unlink — is closed by deleting in two steps: rename blobs/A/H to blobs/A/.gc-H (from then
//     on a refresh fails with ENOENT and the push sees the blob missing, which is the truth),
//     then stat it again: refreshed since the check → renamed back; else unlinked.
// Uploads in progress live in ROOT/uploads, which the sweep of blobs never touches; an upload
// is removed only once it was left untouched for upload_expiry and no request holds its lock.
// Links of deleted blobs (repositories/*/_blobs) are removed when older than the cutoff, so a
// re-upload's fresh link is never taken.

#include <cstdint>
#include <string>
#include <vector>

#include "registry/storage.h"
#include "util/result.h"

namespace berth::registry {

struct GcOptions {
  int64_t grace_seconds = 2 * 3600;
  int64_t upload_expiry_seconds = 7 * 24 * 3600;  // distribution purges uploads after 168 h
  bool dry_run = false;                           // report, delete nothing
};

struct GcStats {
  size_t manifests = 0;   // manifests marked
  size_t live_blobs = 0;  // distinct blobs marked (manifests included)
  size_t deleted = 0;     // blobs deleted (or that would be, dry_run)
  int64_t deleted_bytes = 0;
  size_t young = 0;                          // unreferenced blobs kept: newer than the cutoff
  size_t uploads = 0;                        // stale uploads removed
  size_t links = 0;                          // repository links of deleted blobs removed
  std::vector<std::string> deleted_digests;  // "sha256:…", sorted
};

/// One mark and sweep over storage's root. Errors only for what stops the walk (an unreadable
/// root); a blob that cannot be removed is skipped and collected next time.
Result<GcStats> CollectGarbage(const Storage& storage, const GcOptions& options);

/// "90", "90s", "15m", "2h", "7d" → seconds; false if malformed.
bool ParseDuration(std::string_view text, int64_t* seconds);

}  // namespace berth::registry
