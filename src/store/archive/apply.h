#pragma once

// Unpacking of one image layer (a tar, tar+gzip or tar+zstd stream) into a directory, in one
// streaming pass: the compressed bytes are hashed (the blob digest), decompressed, hashed again
// (the diff id) and parsed as tar as they pass, with no temporary copy of the layer.
//
// Every entry is created relative to the layer directory: parents are resolved with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) and the entry itself with *at calls that do
// not follow its last component, so no "..", absolute name, symlink or hard link reaches
// outside. OCI whiteouts become overlay whiteouts: ".wh.NAME" a 0/0 character device NAME,
// ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its directory.
//
//   ApplyResult r = BERTH_TRY(ApplyLayerAtomically(layers_dir, chain_hex, blob_fd,
//                                                  {.expected_diff_id = diff_id}));

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "oci/digest.h"
#include "util/result.h"

namespace berth::store::archive {

struct ApplyOptions {
  /// Create character and block devices from the tar; otherwise such an entry is an
  /// InvalidArgument error ("device node not allowed"). Fifos and whiteouts are always created.
  bool allow_devices = true;
  /// Set owners from the tar (fchownat); needs CAP_CHOWN.
  bool preserve_ownership = true;
  /// The largest size an entry may claim, and the most uncompressed file data the layer may
  /// write in all: a header claiming more (a 10 GB sparse file) is rejected before anything is
  /// written.
  uint64_t max_bytes = uint64_t{8} << 30;
  /// Only for ApplyLayerAtomically: checked once the whole stream is read; a mismatch is a
  /// DataLoss error and nothing is left behind. Empty: not checked.
  oci::Digest expected_blob_digest;
  oci::Digest expected_diff_id;
  /// Only for ApplyLayerAtomically: syncfs() the layer before renaming it into place. Off by
  /// default, as dockerd and containerd do not sync unpacked layers either.
  bool sync = false;
  /// Hash the input (ApplyResult::blob_digest). Off when the caller hashes the bytes it hands
  /// over itself (a blob streamed into the content store as it is unpacked): blob_digest is
  /// then empty, and so is diff_id for an uncompressed layer (it is the caller's digest).
  bool hash_blob = true;
};

/// A source of layer bytes: up to n into buf, 0 at the end.
using ReadFn = std::function<Result<size_t>(char* buf, size_t n)>;

enum class Compression { kNone, kGzip, kZstd };

struct ApplyResult {
  oci::Digest blob_digest;  // sha256 of the bytes read from the input (unless !hash_blob)
  oci::Digest diff_id;      // sha256 of the uncompressed tar stream (hashed once if uncompressed)
  Compression compression = Compression::kNone;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t entries = 0;
};

/// Reads the layer from input_fd to its end and creates its entries under layer_dir_fd, a
/// fresh, empty directory. On error the directory holds part of the layer: the caller removes
/// it (ApplyLayerAtomically does). Errors name the entry: "layer entry a/../../x: escapes the
/// layer". Digests in options are not checked here.
Result<ApplyResult> ApplyLayer(int layer_dir_fd, int input_fd, const ApplyOptions& options = {});
/// The same, reading the layer with read until it returns 0 (or an error, returned as is).
Result<ApplyResult> ApplyLayer(int layer_dir_fd, const ReadFn& read, const ApplyOptions& options);

/// Unpacks into parent_dir/.tmp-<random>, checks the expected digests, then renames the
/// directory to parent_dir/final_name. On any failure the temporary directory is removed.
/// final_name existing already is an AlreadyExists error (another unpack of the same layer
/// won the race); the caller may treat it as success.
Result<ApplyResult> ApplyLayerAtomically(const std::string& parent_dir,
                                         const std::string& final_name, int input_fd,
                                         const ApplyOptions& options = {});

/// Removes the .tmp-* directories a crash left in parent_dir.
Result<void> RemoveTempLayers(const std::string& parent_dir);

}  // namespace berth::store::archive
