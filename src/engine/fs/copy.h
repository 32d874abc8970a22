#pragma once

// `docker cp`: the three archive operations of the Engine API on a path inside a container's
// root filesystem (its mounted merged directory), every path resolved inside that root
// (openat2 RESOLVE_IN_ROOT): an absolute symlink, a ".." or a symlink planted by the
// container's processes never reaches the host.
//
//   HEAD /containers/{id}/archive?path=P   StatPath → X-Docker-Container-Path-Stat: PathStatHeader
//   GET  /containers/{id}/archive?path=P   PathArchive::Open (404 before any byte), the stat
//                                          header, then WriteTo(body_fd)
//   PUT  /containers/{id}/archive?path=P   ExtractArchive (request body → read)
//
// Paths follow Docker's rules: P is taken as absolute and cleaned lexically ("a/../b" is
// "/b"); its last component is not followed (a symlink is reported and archived as itself)
// unless P ends in "/" or "/."; the tar's top entry is P's base name ("etc", or "." for
// "/etc/.", whose entries are then "./passwd", ...; "/" for the root, whose entries are
// "/bin", ...), so that the docker CLI's own renaming works.
// Limitation: only the merged overlay is seen. The volumes and binds of a running container
// are mounted in its own mount namespace, so a path inside one shows the (usually empty)
// mount point of the container's layer, not the volume.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/fd.h"
#include "util/result.h"

namespace berth::engine::fs {

/// Docker's types.ContainerPathStat.
struct PathStat {
  std::string name;         // base name of the path as asked ("/" for the root, "." for "x/.")
  int64_t size = 0;         // lstat size
  uint32_t mode = 0;        // Go's os.FileMode bits (GoFileMode)
  std::string mtime;        // RFC 3339 with nanoseconds, UTC ("2026-12-01T19:45:41.331535382Z")
  std::string link_target;  // for a symlink: its target fully resolved in the container, absolute
};

/// st_mode as Go's os.FileMode, as Docker encodes it: permission bits, then ModeDir 1<<31,
/// ModeSymlink 1<<27, ModeDevice 1<<26, ModeNamedPipe 1<<25, ModeSocket 1<<24, ModeSetuid
/// 1<<23, ModeSetgid 1<<22, ModeCharDevice 1<<21, ModeSticky 1<<20.
uint32_t GoFileMode(mode_t st_mode);
/// {"name":…,"size":…,"mode":…,"mtime":…,"linkTarget":…}
std::string PathStatJson(const PathStat& stat);
/// The X-Docker-Container-Path-Stat header value: standard base64 of PathStatJson.
std::string PathStatHeader(const PathStat& stat);

/// Stats path in the container whose root filesystem is rootfs. container names the container
/// in errors, as the client named it. NotFound "Could not find the file P in container C";
/// InvalidArgument for "x/" or "x/." where x is no directory.
Result<PathStat> StatPath(const std::string& rootfs, std::string_view path,
                          std::string_view container);

/// One path of a container, opened (and so pinned) for archiving.
class PathArchive {
 public:
  /// Opens path as StatPath resolves it; the same errors.
  static Result<PathArchive> Open(const std::string& rootfs, std::string_view path,
                                  std::string_view container);
  const PathStat& stat() const { return stat_; }
  /// Writes the tar (uncompressed, pax where ustar cannot say it, as Docker's) to out_fd:
  /// the entry itself, and for a directory everything below it, in name order, symlinks not
  /// followed, hard links within the archive as links, sockets left out, ownership numeric,
  /// security.capability kept. An error after the first byte leaves a truncated tar.
  Result<void> WriteTo(int out_fd);

 private:
  PathArchive() = default;
  Fd dir_;            // the directory holding the entry, or the entry itself (name_ empty)
  std::string name_;  // the entry within dir_
  std::string tar_name_;
  PathStat stat_;
};

/// A numeric owner for extracted entries.
struct Owner {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct ExtractOptions {
  /// noOverwriteDirNonDir: an existing directory is not replaced by a non-directory of the
  /// archive, nor an existing non-directory by a directory (an InvalidArgument error).
  bool no_overwrite_dir_non_dir = false;
  /// copyUIDGID for a container with a Config.User: every entry is owned by that user and
  /// group (the caller resolves Config.User in the container's /etc/passwd and /etc/group, as
  /// for the container's process). Unset: entries keep the archive's numeric owners, as
  /// Docker does (also for copyUIDGID when Config.User is empty).
  std::optional<Owner> owner;
};

/// Unpacks a tar (plain, gzip, bzip2, xz or zstd) read with read (0 at the end) into the directory
/// dest of the container. dest is followed to the end (a symlink to a directory is fine).
/// Entries are created inside dest: an entry whose cleaned name climbs above dest is an
/// InvalidArgument error ("archive entry ../x: outside of /dest"), leading "/" is dropped, and
/// every parent is resolved inside the container root, so that a symlink made by an earlier
/// entry ("l -> /", then "l/etc/x") cannot reach past the container's root. Existing entries
/// are replaced, except a directory by a directory (its attributes are updated). ".wh." names
/// are ordinary files here (no layer semantics); Docker's ".wh..wh." metadata is skipped.
/// Errors: NotFound "Could not find the file DEST in container C"; InvalidArgument
/// "extraction point is not a directory"; the entry's name otherwise. What was extracted
/// before an error stays (Docker's behaviour too).
Result<void> ExtractArchive(const std::string& rootfs, std::string_view dest,
                            std::string_view container,
                            const std::function<Result<size_t>(char*, size_t)>& read,
                            const ExtractOptions& options = {});

}  // namespace berth::engine::fs
