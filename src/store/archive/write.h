#pragma once

// Writing a directory tree as a layer tar: the reverse of ApplyLayer, for commit and save.
// Entries in a deterministic order (names sorted bytewise in each directory, a directory
// before its contents), pax restricted format as Docker writes (a ustar header, with a pax
// header only where ustar cannot say it: long names, large ids, xattrs), mtimes truncated to
// seconds as Docker does, no atime or ctime. Overlay whiteouts (0/0 character devices) become
// ".wh.NAME" entries and an opaque directory (trusted.overlay.opaque=y) a ".wh..wh..opq"
// entry; other trusted.overlay.* xattrs are dropped. Hard links are detected by inode.

#include <cstdint>

#include "oci/digest.h"
#include "store/archive/apply.h"
#include "util/result.h"

namespace berth::store::archive {

struct WriteOptions {
  /// kNone or kGzip (kZstd is NotImplemented).
  Compression compression = Compression::kNone;
  /// zlib level; Docker uses the default.
  int gzip_level = -1;
};

struct WriteResult {
  oci::Digest diff_id;      // sha256 of the tar
  oci::Digest blob_digest;  // sha256 of the bytes written (the diff id when uncompressed)
  uint64_t uncompressed_size = 0;
  uint64_t compressed_size = 0;
  uint64_t entries = 0;
};

/// Writes the tree under dir_fd (not the directory itself) to output_fd.
Result<WriteResult> WriteLayerTar(int dir_fd, int output_fd, const WriteOptions& options = {});

}  // namespace berth::store::archive
