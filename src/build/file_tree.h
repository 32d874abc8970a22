#pragma once

// FileTree: the read-only trees COPY and ADD take files from and write over — the build
// context (a directory, with .dockerignore applied) and an image's rootfs (its unpacked layers
// seen as one tree, as overlay would show them: whiteouts hide, opaque directories stop the
// layers below). Paths are absolute and cleaned ("/a/b"); "/" is the root.
//
//   DirTree ctx(context_dir, &ignore);
//   LayerTree rootfs({top_layer_dir, ..., bottom_layer_dir});
//   auto e = rootfs.Lstat("/etc/passwd");   // e->host_path: the file that holds it

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "build/dockerfile/dockerignore.h"
#include "util/result.h"

namespace berth::build {

struct TreeEntry {
  struct stat st {};
  std::string host_path;  // where its bytes are on the host
};

class FileTree {
 public:
  virtual ~FileTree() = default;
  virtual std::optional<TreeEntry> Lstat(const std::string& path) const = 0;
  /// The names in a directory, sorted; empty for a missing one.
  virtual std::vector<std::string> List(const std::string& dir) const = 0;
  /// Whether symlinks that climb above the root are an error (the build context) rather than
  /// stopped at the root (an image's rootfs, as chroot would).
  virtual bool Confined() const { return false; }
};

/// A directory on the host; paths .dockerignore excludes do not exist.
class DirTree : public FileTree {
 public:
  DirTree(std::string root, const DockerIgnore* ignore) : root_(std::move(root)), ignore_(ignore) {}
  std::optional<TreeEntry> Lstat(const std::string& path) const override;
  std::vector<std::string> List(const std::string& dir) const override;
  bool Confined() const override { return true; }

 private:
  bool Ignored(const std::string& path) const;
  std::string root_;
  const DockerIgnore* ignore_;
};

/// Unpacked layers, top first (an empty list is the empty tree: scratch).
class LayerTree : public FileTree {
 public:
  explicit LayerTree(std::vector<std::string> layers) : layers_(std::move(layers)) {}
  std::optional<TreeEntry> Lstat(const std::string& path) const override;
  std::vector<std::string> List(const std::string& dir) const override;

 private:
  std::vector<std::string> layers_;
};

/// Joins and cleans ("/a" + "../b" → "/b"); the result never climbs above "/".
std::string CleanAbs(const std::string& path);

/// Resolves the symlinks of path within tree (every component; the last one only if
/// follow_last), at most 40. For a Confined tree, a path or link that climbs above the root is
/// FailedPrecondition "forbidden path outside the build context: ORIG ()". Returns the cleaned
/// resolved path (which may not exist).
Result<std::string> ResolveInTree(const FileTree& tree, const std::string& path, bool follow_last,
                                  const std::string& original);

/// The content of a regular file of the tree (following symlinks), or nullopt.
std::optional<std::string> ReadTreeFile(const FileTree& tree, const std::string& path,
                                        size_t max_bytes = 4 << 20);

}  // namespace berth::build
