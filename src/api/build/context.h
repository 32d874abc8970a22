#pragma once

// The build context of POST /build: the request body, a tar (plain, gzip, bzip2, xz or zstd,
// told apart by its first bytes as dockerd does), unpacked as it streams into a fresh directory
// under the daemon's root. Entries are created with the layer extractor of store/archive
// (openat2 RESOLVE_IN_ROOT): no "..", absolute name, symlink or hard link reaches outside;
// device nodes are refused. Nothing of the body is held in memory beyond a read buffer.
//
//   ContextDir ctx = BERTH_TRY(ContextDir::Make(layout.TmpDir()));
//   BERTH_TRY(ExtractContext(read, ctx.path()));
//   ... build from ctx.path() ...            // the directory is removed with ctx

#include <cstdint>
#include <string>
#include <string_view>

#include "store/archive/apply.h"
#include "util/result.h"

namespace berth::api::build {

enum class ContextFormat { kTar, kGzip, kBzip2, kXz, kZstd };

/// The format of a context from its first bytes (up to 6; fewer: what is there). Anything
/// that is not a known compression is taken for a tar (libarchive then says if it is not).
ContextFormat DetectContextFormat(std::string_view head);

struct ExtractStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // uncompressed tar bytes
};

/// Reads the body with read until it returns 0 and unpacks it under dir (an existing, empty
/// directory). Errors: InvalidArgument for a body that is not a (compressed) tar or holds an
/// entry that escapes, a device or a size over max_bytes; the read's own error as is.
Result<ExtractStats> ExtractContext(const store::archive::ReadFn& read, const std::string& dir,
                                    uint64_t max_bytes = uint64_t{64} << 30);

/// A directory made for one build's context, removed (rm -rf) when destroyed. Move-only.
class ContextDir {
 public:
  /// Makes parent/build-<random>/ (parent is made if missing).
  static Result<ContextDir> Make(const std::string& parent);
  /// Removes parent/build-* left by a daemon that stopped mid-build.
  static void RemoveStale(const std::string& parent);

  ContextDir(ContextDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ContextDir& operator=(ContextDir&&) = delete;
  ContextDir(const ContextDir&) = delete;
  ~ContextDir();
  const std::string& path() const { return path_; }

 private:
  explicit ContextDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace berth::api::build
