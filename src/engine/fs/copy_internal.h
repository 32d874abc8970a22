#pragma once

// Helpers shared by copy_path.cc, copy_archive.cc and copy_extract.cc (not an interface).

#include <string>
#include <string_view>

#include "util/fd.h"
#include "util/result.h"

namespace berth::engine::fs::internal {

/// A container path as Docker reads it for the archive routes.
struct CopyPath {
  std::string clean;         // absolute and lexically clean: "/etc", "/" for the root
  std::string name;          // Docker's base name: "etc", "." for "/etc/.", "/" for the root
  bool follow_last = false;  // the path ends in "/" or "/.": its last component is followed
};
CopyPath ParseCopyPath(std::string_view path);

/// "/a/b" → "a/b", "/" → "" (the form openat2 takes relative to the root fd).
std::string RelPath(const std::string& clean);

/// "Could not find the file PATH in container NAME" (NotFound), Docker's words.
Error FileNotFound(std::string_view path, std::string_view container);

/// Opens the root filesystem directory (O_PATH).
Result<Fd> OpenRoot(const std::string& rootfs);

/// The entry a CopyPath names: (dir, name) with name not followed, or the directory itself
/// (name empty) when follow_last or for the root. Errors as StatPath documents.
struct Entry {
  Fd dir;
  std::string name;
};
Result<Entry> OpenEntry(int root_fd, const CopyPath& p, std::string_view asked,
                        std::string_view container);

/// fstatat(dir, name, AT_SYMLINK_NOFOLLOW), or fstat(dir) for an empty name.
Result<struct stat> StatEntry(const Entry& e);

/// The path clean resolves to inside the root with every symlink followed (as far as the
/// components exist; the rest is appended as written), absolute and clean. At most 255 links.
Result<std::string> ResolveInScope(int root_fd, const std::string& clean);

}  // namespace berth::engine::fs::internal

namespace berth::engine::fs {
struct PathStat;
namespace internal {
/// The PathStat of an opened entry.
Result<PathStat> MakeStat(int root_fd, const CopyPath& p, const Entry& e);
}  // namespace internal
}  // namespace berth::engine::fs
