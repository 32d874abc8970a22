#pragma once

// `docker pull`: a reference resolved at its registry to an image manifest (an index gives
// its entry for the platform), the config fetched and checked, then the layers the store
// lacks fetched in parallel, each streamed from the registry through sha256, decompression
// and untar in one pass (ImageService::UnpackPulledLayer), and the image recorded with its tag
// only once every digest has been verified. Progress is reported as the events Docker's JSON
// messages carry, in the order dockerd sends them:
//
//   "Pulling from library/busybox" (id: the tag)
//   per layer: "Already exists" | "Pulling fs layer", "Waiting", "Downloading" (current,
//              total), "Verifying Checksum", "Download complete", "Pull complete"
//   "Digest: sha256:…"
//   "Status: Downloaded newer image for busybox:latest" | "Status: Image is up to date for …"
//
//   PullResult r = BERTH_TRY(Pull(images, {.reference = "127.0.0.1:5000/busybox:latest"},
//                                 [](const PullEvent& e) { ... }));
//
// Errors: NotFound "manifest for NAME:TAG not found: manifest unknown: …"; PermissionDenied
// for a refused pull; DataLoss "filesystem layer verification failed for digest sha256:…" when
// a blob hashes otherwise (nothing is stored); Unavailable for an unreachable registry.
// Thread safety: progress is called from several threads, one call at a time.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "distribution/registry_client.h"
#include "image/image_service.h"
#include "oci/digest.h"
#include "util/result.h"

namespace berth::distribution {

struct PullEvent {
  std::string id;      // the layer's short digest, the tag, or empty
  std::string status;  // "Downloading", "Pull complete", "Digest: sha256:…", ...
  /// Bytes so far and in all, for "Downloading"; current < 0: no progress detail numbers.
  int64_t current = -1;
  int64_t total = 0;
  /// Whether Docker sends a progressDetail object (layer lines do; the summary lines do not).
  bool detail = false;
};
using PullProgress = std::function<void(const PullEvent&)>;

struct PullRequest {
  /// "127.0.0.1:5000/busybox:latest", "busybox" (→ docker.io/library/busybox:latest), or with
  /// "@sha256:…".
  std::string reference;
  std::optional<oci::Platform> platform;  // default: this machine's
  RegistryOptions registry;
  /// Layers downloaded at once (dockerd's max-concurrent-downloads, 3 by default).
  int max_concurrent = 3;
};

struct PullResult {
  oci::Digest image_id;
  oci::Digest digest;     // of the manifest (or index) the reference names
  std::string reference;  // familiar: "127.0.0.1:5000/busybox:latest"
  bool up_to_date = false;
};

Result<PullResult> Pull(image::ImageService& images, const PullRequest& request,
                        const PullProgress& progress);

}  // namespace berth::distribution
