#pragma once

// COPY and ADD as a layer, with no container: the sources are resolved in their tree (the
// context or a stage's/image's rootfs), placed under the destination with Docker's rules, and
// written as a layer tar (streamed, file by file) that ImageService::Commit stores.
//
//   CopyPlan plan = BERTH_TRY(PlanCopy(ctx, rootfs, {.sources = {"src/", "*.txt"}, .dest =
//   "/app/"})); std::string digest = BERTH_TRY(SourcesDigest(plan, &hashes));   // the cache key's
//   part BERTH_TRY(WriteCopyLayer(plan, fd));
//
// Docker's rules: a relative dest is under the working dir; several sources (or a wildcard)
// need a dest ending in '/'; a directory source copies its contents; a file goes to dest/NAME
// when dest ends in '/' or is a directory of the image, else to dest; missing parents are
// made (0755, owned as --chown); files are owned 0:0 unless --chown, mode kept unless --chmod;
// mtimes kept. Sources are cleaned relative to their root; `..` above it and symlinks out of
// the context are refused ("forbidden path outside the build context").

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "build/file_tree.h"
#include "util/result.h"

namespace berth::build {

struct CopyRequest {
  std::vector<std::string> sources;  // as written, expanded
  std::string dest;                  // as written, expanded
  std::string working_dir = "/";
  std::optional<uint32_t> uid, gid;  // --chown resolved
  std::optional<uint32_t> chmod;     // --chmod
  bool extract_archives = false;     // ADD: local tar archives are unpacked into dest
  std::string keyword = "COPY";      // for the messages
  /// Sources given inline (heredocs): name → content, written as files of mode 0644.
  std::map<std::string, std::string> inline_files;
};

struct CopyItem {
  std::string dest;  // absolute path in the image
  struct stat st {};
  std::string host_path;    // the bytes (regular files, archives)
  std::string link_target;  // symlinks
  std::string inline_data;  // heredoc content
  bool inline_file = false;
  bool archive = false;  // ADD: extract host_path under dest
};

struct CopyPlan {
  std::vector<CopyItem> parents;  // directories made or kept on the way to the items
  std::vector<CopyItem> items;    // in order
};

/// Plans the copy. target is the image the layer goes on (dest dir checks, parents' metadata).
Result<CopyPlan> PlanCopy(const FileTree& source, const FileTree& target, const CopyRequest& r);

/// Content digests of regular files, keyed by (dev, ino, size, mtime, ctime): a file that did
/// not change is not read again. Thread-safe.
class FileHashCache {
 public:
  Result<std::string> Digest(const std::string& host_path, const struct stat& st);

 private:
  std::mutex mu_;
  std::map<std::string, std::string> by_key_;
};

/// The sources' digest for the cache key: names, types, modes, owners, link targets and file
/// contents of every item as it lands (never mtimes).
Result<std::string> SourcesDigest(const CopyPlan& plan, const CopyRequest& r,
                                  FileHashCache* hashes);

/// Writes the layer tar (pax) to fd: parents, then items (directories recursively, archives
/// unpacked). Returns the bytes of file content written.
Result<int64_t> WriteCopyLayer(const CopyPlan& plan, const CopyRequest& r, int fd);

/// "user[:group]" → ids, numeric or by name through the rootfs's /etc/passwd and /etc/group
/// (a user alone takes the user's primary group; a numeric user alone, the same number).
Result<std::pair<uint32_t, uint32_t>> ResolveChown(const FileTree& rootfs, const std::string& spec);

/// Whether the file starts like a tar, gzip, bzip2 or xz archive.
bool IsArchive(const std::string& host_path);

}  // namespace berth::build

namespace berth::build {
/// WORKDIR's directory as a plan of the directories to make (empty when the image has it).
CopyPlan PlanMkdir(const FileTree& target, const std::string& dir);
}  // namespace berth::build
