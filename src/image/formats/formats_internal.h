#pragma once

// Helpers shared by archive load and save (archive_formats.h): a push decompressor with a
// hash of its output (a layer's diff id), archive path normalisation, and the tar reading and
// writing pieces over libarchive.

#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "oci/digest.h"
#include "oci/media_types.h"
#include "store/content/content_store.h"
#include "util/result.h"
#include "util/sha256.h"

namespace berth::image::formats {

/// The compression a stream starts with, from its magic (gzip 1f 8b, zstd 28 b5 2f fd);
/// kNone otherwise. REQUIRES: head holds the first bytes (4 or all there are).
oci::Compression DetectCompression(std::string_view head);

/// Decompresses gzip (concatenated members included) or zstd pushed in pieces; kNone passes
/// bytes through. Output goes to the sink given to Feed.
class Decompressor {
 public:
  using Sink = std::function<Result<void>(std::string_view)>;
  static Result<std::unique_ptr<Decompressor>> Make(oci::Compression compression);
  ~Decompressor();

  Result<void> Feed(std::string_view in, const Sink& sink);
  /// DataLoss "gzip stream truncated" if the input stopped inside a member or frame.
  Result<void> Finish() const;

 private:
  explicit Decompressor(oci::Compression c) : compression_(c) {}
  oci::Compression compression_;
  z_stream z_{};
  bool z_init_ = false;
  bool member_done_ = false;
  ZSTD_DStream* zs_ = nullptr;
  bool frame_done_ = true;
  std::string out_;
};

/// The diff id of a stream pushed in pieces: detects the compression from the first bytes,
/// decompresses and hashes. An uncompressed stream is not hashed: its diff id is its own digest,
/// which the caller has (Finish returns an empty Digest).
class DiffIdHasher {
 public:
  static Result<DiffIdHasher> New();
  Result<void> Update(std::string_view in);
  /// The diff id (empty when uncompressed). Finishes the hasher.
  Result<oci::Digest> Finish();
  oci::Compression compression() const { return compression_; }
  uint64_t uncompressed_size() const { return uncompressed_; }

 private:
  Result<void> Start();
  std::optional<Sha256> sha_;
  std::unique_ptr<Decompressor> dec_;
  std::string head_;
  bool started_ = false;
  oci::Compression compression_ = oci::Compression::kNone;
  uint64_t uncompressed_ = 0;
};

/// Reads a blob from the content store in pieces, in order, to fn.
Result<void> ReadBlobChunks(const store::content::ContentProvider& content,
                            const oci::Digest& digest,
                            const std::function<Result<void>(std::string_view)>& fn);

/// Normalises a name inside the archive: strips "./" and repeated or trailing slashes.
/// InvalidArgument for an absolute name, one with a ".." component, or an empty one.
Result<std::string> CleanArchivePath(std::string_view path);

/// A path relative to the directory of `from` (a symlink's target), resolved within the
/// archive: InvalidArgument if it climbs above the archive's root or is absolute.
Result<std::string> ResolveLinkTarget(std::string_view from, std::string_view target);

/// The Docker layer media type for a compression (docker-archive layers carry none).
std::string_view DockerLayerMediaType(oci::Compression c);
/// The OCI layer media type with the same compression as media_type.
std::string_view OciLayerMediaType(std::string_view media_type);

}  // namespace berth::image::formats
