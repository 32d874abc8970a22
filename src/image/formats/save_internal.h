#pragma once

// The tar side of SaveArchive (save_tar.cc): what each entry is, and writing a sorted plan of
// entries as one deterministic tar stream (mtime 0, uid/gid 0, 0644 files, 0755 directories).

#include <cstdint>
#include <map>
#include <string>

#include "oci/digest.h"
#include "oci/media_types.h"
#include "store/content/content_store.h"
#include "util/result.h"

namespace berth::image::formats {

struct TarEntryPlan {
  enum class Kind { kDirectory, kDocument, kBlob, kDecompressedBlob };
  Kind kind = Kind::kDocument;
  std::string data;                                        // kDocument
  oci::Digest digest;                                      // kBlob, kDecompressedBlob
  oci::Compression compression = oci::Compression::kNone;  // kDecompressedBlob
  int64_t size = 0;  // bytes the entry holds (after decompression)

  static TarEntryPlan Directory() { return {.kind = Kind::kDirectory}; }
  static TarEntryPlan Document(std::string data) {
    int64_t n = static_cast<int64_t>(data.size());
    return {.kind = Kind::kDocument, .data = std::move(data), .size = n};
  }
  static TarEntryPlan Blob(const oci::Digest& d, int64_t size) {
    return {.kind = Kind::kBlob, .digest = d, .size = size};
  }
  static TarEntryPlan DecompressedBlob(const oci::Digest& d, oci::Compression c, int64_t size) {
    return {.kind = Kind::kDecompressedBlob, .digest = d, .compression = c, .size = size};
  }
};

/// Decompresses a stored blob once to learn its size; DataLoss if its diff id is not
/// expected_diff_id.
Result<int64_t> UncompressedSize(const store::content::ContentProvider& content,
                                 const oci::Digest& digest, oci::Compression compression,
                                 const oci::Digest& expected_diff_id);

/// Writes the entries in key order (a directory's key ends in '/').
Result<void> WriteTarPlan(const std::map<std::string, TarEntryPlan>& plan,
                          const store::content::ContentProvider& content, int output_fd);

}  // namespace berth::image::formats
