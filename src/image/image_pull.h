#pragma once

// What a registry pull hands the image service (distribution/pull.h drives it): each layer is
// unpacked while its blob streams in, and nothing is visible until RecordPulled.
//
//   PulledLayer l = BERTH_TRY(images.UnpackPulledLayer(desc, read_http_body));   // per layer,
//                                                                                // in parallel
//   oci::Digest id = BERTH_TRY(images.RecordPulled(std::move(pulled)));         // once, at the end
//
// UnpackPulledLayer streams the body into an ingest of the content store (hashed as it is
// written) and through store/archive's one-pass apply (decompress, diff id, untar) into an
// extract- snapshot, then checks size and digest against the descriptor: a mismatch is
// DataLoss "filesystem layer verification failed for digest sha256:…" and leaves nothing. The
// ingest is committed only by RecordPulled, after every layer of the image is verified; a
// PulledLayer dropped before that aborts its ingest and removes its snapshot.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "oci/digest.h"
#include "store/content/content_store.h"
#include "store/snapshot/overlay.h"

namespace berth::image {

class PulledLayer {
 public:
  PulledLayer() = default;
  PulledLayer(PulledLayer&& other) noexcept { *this = std::move(other); }
  /// Takes other's snapshot and ingest; other is left owning neither.
  PulledLayer& operator=(PulledLayer&& other) noexcept;
  ~PulledLayer();

  oci::Descriptor blob;  // as the manifest names it
  oci::Digest diff_id;   // of the uncompressed tar
  /// The extract- snapshot holding the unpacked layer (empty for a layer already present).
  std::string snapshot_key;
  /// The uncommitted ingest of the blob; null if the store had the blob already.
  std::unique_ptr<store::content::ContentWriter> writer;
  store::snapshot::OverlaySnapshotter* snapshots = nullptr;

 private:
  void Discard();  // aborts the ingest, removes the snapshot
};

struct PulledImage {
  std::string reference;  // normalised, with its tag: "127.0.0.1:5000/busybox:latest"; or empty
  /// "127.0.0.1:5000/busybox@sha256:…": the digest of what the reference named (the index's,
  /// for an index), recorded as the image's repository digest; or empty.
  std::string repo_digest;
  std::string config_bytes;
  oci::Digest config_digest;
  std::string manifest_bytes;
  std::string manifest_media_type;
  /// Base first; a layer already present has only blob and diff_id set.
  std::vector<PulledLayer> layers;
};

/// Progress of one layer's bytes (current, total).
using LayerProgress = std::function<void(int64_t current, int64_t total)>;

}  // namespace berth::image
