// LoadArchive: one pass over the stream, then manifest.json and/or index.json resolved.

#include <map>

#include "image/archive_formats.h"
#include "image/formats/load_internal.h"

namespace berth::image {

namespace {
Result<std::vector<LoadedImage>> Resolve(formats::ArchiveContents archive,
                                         store::content::ContentStore& content,
                                         const LoadOptions& options);
}  // namespace

Result<std::vector<LoadedImage>> LoadArchive(int input_fd, store::content::ContentStore& content,
                                             const LoadOptions& options) {
  return Resolve(BERTH_TRY(formats::ReadArchiveStream(input_fd, content, options)), content,
                 options);
}

Result<std::vector<LoadedImage>> LoadArchive(const ReadFn& read,
                                             store::content::ContentStore& content,
                                             const LoadOptions& options) {
  return Resolve(BERTH_TRY(formats::ReadArchiveStream(read, content, options)), content, options);
}

namespace {

Result<std::vector<LoadedImage>> Resolve(formats::ArchiveContents archive,
                                         store::content::ContentStore& content,
                                         const LoadOptions& options) {
  if (!archive.manifest_json && !archive.index_json)
    return Error::InvalidArgument(
        "archive holds neither manifest.json (docker-archive) nor index.json (OCI layout)");
  if (archive.index_json && !archive.manifest_json && !archive.oci_layout)
    return Error::InvalidArgument("index.json without oci-layout: not an OCI image layout");
  if (!archive.manifest_json) return formats::ResolveOciIndex(archive, content, options);

  std::vector<LoadedImage> images = BERTH_TRY(formats::ResolveDockerManifest(archive, content));
  if (!archive.index_json) return images;
  // Docker 25+: the same images as an OCI layout too; take the manifests' digests and media
  // types from it where an OCI image has the same config and layers.
  std::vector<LoadedImage> oci = BERTH_TRY(formats::ResolveOciIndex(archive, content, options));
  std::map<oci::Digest, const LoadedImage*> by_config;
  for (const auto& o : oci) by_config.emplace(o.config_digest, &o);
  for (auto& img : images) {
    auto it = by_config.find(img.config_digest);
    if (it == by_config.end() || it->second->layers.size() != img.layers.size()) continue;
    const LoadedImage& o = *it->second;
    bool same = true;
    for (size_t i = 0; i < img.layers.size(); ++i)
      same = same && o.layers[i].digest == img.layers[i].digest;
    if (!same) continue;
    img.layers = o.layers;
    img.manifest_digest = o.manifest_digest;
    img.manifest_media_type = o.manifest_media_type;
    img.ref_name = o.ref_name;
  }
  return images;
}

}  // namespace
}  // namespace berth::image
