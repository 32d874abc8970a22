// manifest.json of a docker-archive: [{"Config": path, "RepoTags": [...], "Layers": [paths]}].

#include <nlohmann/json.hpp>

#include "image/formats/formats_internal.h"
#include "image/formats/load_internal.h"
#include "oci/image.h"
#include "oci/reference.h"

namespace berth::image::formats {
namespace {

using Json = nlohmann::json;

struct ManifestItem {
  std::string config;
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;
};

// Types are checked before every get; the catch is for what nlohmann may still throw.
Result<std::vector<ManifestItem>> ParseManifestJson(std::string_view text) try {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error::InvalidArgument("manifest.json: not valid JSON");
  if (!doc.is_array()) return Error::InvalidArgument("manifest.json: expected an array");
  std::vector<ManifestItem> items;
  for (size_t i = 0; i < doc.size(); ++i) {
    const Json& o = doc[i];
    std::string where = "manifest.json: [" + std::to_string(i) + "]";
    if (!o.is_object()) return Error::InvalidArgument(where + ": expected an object");
    ManifestItem item;
    auto config = o.find("Config");
    if (config == o.end() || !config->is_string())
      return Error::InvalidArgument(where + ".Config: expected a string");
    item.config = config->get<std::string>();
    for (auto [key, out] : {std::pair{"RepoTags", &item.repo_tags}, {"Layers", &item.layers}}) {
      auto it = o.find(key);
      if (it == o.end() || it->is_null()) continue;
      if (!it->is_array())
        return Error::InvalidArgument(where + "." + key + ": expected an array of strings");
      for (const Json& s : *it) {
        if (!s.is_string())
          return Error::InvalidArgument(where + "." + key + ": expected an array of strings");
        out->push_back(s.get<std::string>());
      }
    }
    items.push_back(std::move(item));
  }
  return items;
} catch (const std::exception& e) {
  return Error::InvalidArgument(std::string("manifest.json: ") + e.what());
}

Result<LoadedImage> ResolveItem(const ArchiveContents& archive,
                                const store::content::ContentProvider& content,
                                const ManifestItem& item, size_t index) {
  std::string where = "manifest.json: image " + std::to_string(index);
  std::string config_path = BERTH_TRY_CTX(CleanArchivePath(item.config), where + ": config");
  auto config_entry = Lookup(archive, config_path);
  if (!config_entry) return std::move(config_entry).error().Wrap(where + ": config");
  std::string bytes =
      BERTH_TRY_CTX(ReadDocument(content, (*config_entry)->digest), "config " + config_path);
  oci::ConfigBlob config = BERTH_TRY_CTX(oci::LoadConfig(bytes), "config " + config_path);

  LoadedImage img;
  img.config_digest = config.id;
  img.config_bytes = std::move(config.bytes);
  std::vector<std::string> files;
  for (size_t i = 0; i < item.layers.size(); ++i) {
    std::string name =
        i < config.config.diff_ids.size() ? config.config.diff_ids[i].str() : std::to_string(i);
    std::string path = BERTH_TRY_CTX(CleanArchivePath(item.layers[i]), where + ": layer " + name);
    auto entry = Lookup(archive, path);
    if (!entry) {
      if (entry.error().IsNotFound())
        return Error::NotFound("manifest.json: layer " + name + " (file " + path +
                               ") not found in archive");
      return std::move(entry).error().Wrap("manifest.json: layer " + name);
    }
    const ArchiveEntry& e = **entry;
    img.layers.push_back({.digest = e.digest,
                          .media_type = std::string(DockerLayerMediaType(e.compression)),
                          .size = e.size,
                          .diff_id = e.diff_id,
                          .unpacked = e.unpacked});
    files.push_back(path);
  }
  BERTH_TRY(CheckDiffIds(img.config_digest, config.config.diff_ids, img.layers, files));
  for (const auto& tag : item.repo_tags) {
    auto ref = oci::Reference::ParseNormalized(tag);
    if (!ref) return std::move(ref).error().Wrap(where + ": repo tag \"" + tag + "\"");
    img.repo_tags.push_back(ref->String());
  }
  return img;
}

}  // namespace

Result<std::vector<LoadedImage>> ResolveDockerManifest(
    const ArchiveContents& archive, const store::content::ContentProvider& content) {
  std::vector<ManifestItem> items = BERTH_TRY(ParseManifestJson(*archive.manifest_json));
  std::vector<LoadedImage> images;
  for (size_t i = 0; i < items.size(); ++i)
    images.push_back(BERTH_TRY(ResolveItem(archive, content, items[i], i)));
  return images;
}

}  // namespace berth::image::formats
