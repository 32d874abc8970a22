#pragma once

// What a registry push takes from the image store (distribution/push.h drives it): an image's
// manifest of record and the blobs it names, as the content store holds them. The blobs are
// sent as stored, so the manifest's digests hold: a pulled or loaded image's compressed
// layers as they came, an imported one's blob as it was given, a committed layer as the
// uncompressed tar it was stored as.
//
//   PushableImage p = BERTH_TRY(images.ImageForPush("127.0.0.1:5000/app:1"));
//   Fd f = BERTH_TRY(Fd::Open(p.layers[0].path, O_RDONLY));

#include <string>
#include <vector>

#include "oci/digest.h"
#include "oci/image.h"

namespace berth::image {

struct PushableBlob {
  oci::Descriptor descriptor;  // as the manifest names it
  oci::Digest diff_id;         // a layer's; empty for the config
  std::string path;            // the blob's file in the content store
};

struct PushableImage {
  oci::Digest id;
  std::string manifest_bytes;
  std::string manifest_media_type;
  oci::Digest manifest_digest;
  PushableBlob config;
  std::vector<PushableBlob> layers;  // base first
};

}  // namespace berth::image
