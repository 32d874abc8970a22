#pragma once

// `docker push`: an image's manifest of record and the blobs it names sent to its registry,
// layer blobs in parallel, each only if the repository lacks it: HEAD first ("Layer already
// exists"), then a cross-repository mount from another repository of the same registry that
// a local image of it uses the blob in ("Mounted from REPO"), else an upload — one PUT for a
// blob up to chunk_bytes, PATCH chunks with Content-Range and a closing PUT for a larger one.
// The config blob follows the same way, then the manifest, last. Progress is reported as the
// events of Docker's JSON messages, in the order dockerd sends them:
//
//   "The push refers to repository [127.0.0.1:5000/app]"
//   per layer (top first, id: the short diff id): "Preparing", "Waiting", "Pushing" (current,
//              total), "Pushed" | "Layer already exists" | "Mounted from other/app"
//   per tag:  "1: digest: sha256:… size: 528", then aux {"Tag","Digest","Size"}
//
//   auto pushed = BERTH_TRY(Push(images, {.reference = "127.0.0.1:5000/app:1"}, progress));
//
// A reference without a tag pushes every tag of the repository (docker push --all-tags).
// Errors: NotFound "An image does not exist locally with the tag: NAME"; PermissionDenied
// for a refused push; Unavailable for an unreachable registry.
// Thread safety: progress is called from several threads, one call at a time.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "distribution/registry_client.h"
#include "image/image_service.h"
#include "oci/digest.h"
#include "util/result.h"

namespace berth::distribution {

struct PushEvent {
  std::string id;
  std::string status;
  int64_t current = -1;  // "Pushing": bytes so far and in all
  int64_t total = 0;
  bool detail = false;  // a progressDetail object (the layer lines)
  /// An aux message {"Tag","Digest","Size"} instead of a status: aux_size >= 0.
  std::string aux_tag;
  std::string aux_digest;
  int64_t aux_size = -1;
};
using PushProgress = std::function<void(const PushEvent&)>;

struct PushRequest {
  std::string reference;  // "127.0.0.1:5000/app:1", or without a tag: all its tags
  RegistryOptions registry;
  /// Layers sent at once (dockerd's max-concurrent-uploads, 5 by default).
  int max_concurrent = 5;
  /// A blob larger than this goes in PATCH chunks of this size.
  int64_t chunk_bytes = 16 << 20;
};

struct PushedTag {
  std::string tag;
  oci::Digest digest;  // of the manifest
  int64_t size = 0;    // of the manifest
};

Result<std::vector<PushedTag>> Push(image::ImageService& images, const PushRequest& request,
                                    const PushProgress& progress);

}  // namespace berth::distribution
