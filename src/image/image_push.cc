// ImageService::ImageForPush: the image's manifest of record and its blobs, each checked to
// be in the content store before anything is sent.

#include "image/image_push.h"

#include "image/image_service.h"
#include "oci/media_types.h"
#include "util/file.h"

namespace berth::image {

Result<PushableImage> ImageService::ImageForPush(std::string_view name) {
  Image img = BERTH_TRY(Get(name));
  if (!img.record.manifest_digest.valid())
    return Error::FailedPrecondition("image " + std::string(name) + " has no manifest to push");
  PushableImage p;
  p.id = img.record.id;
  p.manifest_digest = img.record.manifest_digest;
  p.manifest_bytes =
      BERTH_TRY_CTX(ReadFile(layout_.BlobPath(img.record.manifest_digest), oci::kMaxDocumentBytes),
                    "manifest of " + std::string(name));
  oci::ImageManifest m =
      BERTH_TRY_CTX(oci::ParseManifest(p.manifest_bytes), "manifest of " + std::string(name));
  p.manifest_media_type = img.record.media_type.empty() ? m.media_type : img.record.media_type;
  if (p.manifest_media_type.empty())
    p.manifest_media_type = BERTH_TRY(oci::DetectManifestMediaType(p.manifest_bytes));
  const auto& diff_ids = img.config.config.diff_ids;
  if (m.layers.size() != diff_ids.size())
    return Error::DataLoss("image " + std::string(name) + ": its manifest names " +
                           std::to_string(m.layers.size()) + " layers, its config " +
                           std::to_string(diff_ids.size()));
  auto blob = [&](const oci::Descriptor& d, const oci::Digest& diff_id) -> Result<PushableBlob> {
    auto info = content_->Info(d.digest);
    if (!info)
      return Error::NotFound("image " + std::string(name) + ": blob " + d.digest.str() +
                             " is not in the content store");
    return PushableBlob{d, diff_id, layout_.BlobPath(d.digest)};
  };
  p.config = BERTH_TRY(blob(m.config, {}));
  for (size_t i = 0; i < m.layers.size(); ++i)
    p.layers.push_back(BERTH_TRY(blob(m.layers[i], diff_ids[i])));
  return p;
}

}  // namespace berth::image
