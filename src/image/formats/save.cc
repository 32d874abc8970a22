// SaveArchive: plan every entry of the tar by path (sorted, shared layers once), then write.

#include <map>
#include <nlohmann/json.hpp>

#include "image/archive_formats.h"
#include "image/formats/formats_internal.h"
#include "image/formats/save_internal.h"
#include "oci/image.h"
#include "oci/reference.h"

namespace berth::image {
namespace {

using formats::TarEntryPlan;
using OrderedJson = nlohmann::ordered_json;

std::string BlobPath(const oci::Digest& d) { return "blobs/sha256/" + std::string(d.hex()); }

// The compression of a stored blob: from its media type, else from its first bytes.
Result<oci::Compression> BlobCompression(const store::content::ContentProvider& content,
                                         const SaveLayer& layer) {
  oci::Compression c = oci::LayerCompression(layer.media_type);
  if (c != oci::Compression::kUnknown) return c;
  auto reader = BERTH_TRY_CTX(content.OpenReader(layer.digest), "layer " + layer.digest.str());
  char head[4] = {};
  size_t n = BERTH_TRY(reader->ReadAt(std::as_writable_bytes(std::span<char>(head, 4)), 0));
  return formats::DetectCompression(std::string_view(head, n));
}

Result<int64_t> BlobSize(const store::content::ContentProvider& content, const oci::Digest& d) {
  auto info = BERTH_TRY_CTX(content.Info(d), "blob " + d.str());
  return info.size;
}

class Planner {
 public:
  Planner(const store::content::ContentProvider& content, const SaveOptions& options)
      : content_(content), options_(options) {}

  Result<void> Add(const SaveImage& img) {
    if (!img.config_digest.valid()) return Error::InvalidArgument("save: image without config");
    int64_t config_size = BERTH_TRY(BlobSize(content_, img.config_digest));
    std::string config_path = options_.oci_layout ? BlobPath(img.config_digest)
                                                  : std::string(img.config_digest.hex()) + ".json";
    AddBlob(config_path, img.config_digest, config_size);

    OrderedJson layers = OrderedJson::array();
    oci::ImageManifest m{.media_type = std::string(oci::kOciManifest)};
    m.config = {.media_type = std::string(oci::kOciConfig),
                .digest = img.config_digest,
                .size = config_size};
    std::string top;
    for (const SaveLayer& l : img.layers) {
      std::string path = BERTH_TRY_CTX(AddLayer(l, m), "save layer " + l.digest.str());
      layers.push_back(path);
      top = options_.oci_layout ? std::string(l.digest.hex()) : std::string(l.diff_id.hex());
    }
    OrderedJson tags = img.repo_tags.empty() ? OrderedJson(nullptr) : OrderedJson(img.repo_tags);
    manifest_json_.push_back(
        OrderedJson{{"Config", config_path}, {"RepoTags", tags}, {"Layers", layers}});

    for (const auto& tag : img.repo_tags) {
      auto ref = oci::Reference::ParseNormalized(tag);
      if (!ref) return std::move(ref).error().Wrap("save: repo tag \"" + tag + "\"");
      if (ref->has_tag() && !top.empty()) repositories_[ref->FamiliarName()][ref->tag()] = top;
    }
    if (options_.oci_layout) BERTH_TRY(AddOciManifest(img, m));
    return {};
  }

  // nlohmann's dump throws on invalid UTF-8; every string here is checked ASCII, but no
  // exception may leave the library.
  Result<std::map<std::string, TarEntryPlan>> Finish() try {
    plan_["manifest.json"] = TarEntryPlan::Document(manifest_json_.dump() + "\n");
    if (!repositories_.empty()) {
      OrderedJson repos = OrderedJson::object();
      for (const auto& [name, tags] : repositories_) {
        OrderedJson t = OrderedJson::object();
        for (const auto& [tag, layer] : tags) t[tag] = layer;
        repos[name] = t;
      }
      plan_["repositories"] = TarEntryPlan::Document(repos.dump() + "\n");
    }
    if (options_.oci_layout) {
      plan_["blobs/"] = TarEntryPlan::Directory();
      plan_["blobs/sha256/"] = TarEntryPlan::Directory();
      plan_["oci-layout"] = TarEntryPlan::Document(R"({"imageLayoutVersion":"1.0.0"})");
      plan_["index.json"] = TarEntryPlan::Document(oci::Serialize(index_));
    }
    return std::move(plan_);
  } catch (const std::exception& e) {
    return Error::Internal(std::string("save: manifest.json: ") + e.what());
  }

 private:
  void AddBlob(const std::string& path, const oci::Digest& d, int64_t size) {
    plan_.emplace(path, TarEntryPlan::Blob(d, size));
  }

  // Returns the path manifest.json names for the layer.
  Result<std::string> AddLayer(const SaveLayer& l, oci::ImageManifest& m) {
    oci::Compression c = BERTH_TRY(BlobCompression(content_, l));
    int64_t size = BERTH_TRY(BlobSize(content_, l.digest));
    if (options_.oci_layout) {
      std::string mt =
          l.media_type.empty() ? std::string(formats::DockerLayerMediaType(c)) : l.media_type;
      m.layers.push_back({.media_type = std::string(formats::OciLayerMediaType(mt)),
                          .digest = l.digest,
                          .size = size});
      AddBlob(BlobPath(l.digest), l.digest, size);
      return BlobPath(l.digest);
    }
    std::string dir = std::string(l.diff_id.hex()) + "/";
    std::string path = dir + "layer.tar";
    if (plan_.count(path)) return path;
    plan_[dir] = TarEntryPlan::Directory();
    if (c == oci::Compression::kNone) {
      if (l.digest != l.diff_id)
        return Error::DataLoss("uncompressed layer " + l.digest.str() + " has diff id " +
                               l.diff_id.str());
      AddBlob(path, l.digest, size);
    } else {
      // First pass: the size of the tar header, and the diff id checked before writing.
      int64_t tar_size = BERTH_TRY(formats::UncompressedSize(content_, l.digest, c, l.diff_id));
      plan_[path] = TarEntryPlan::DecompressedBlob(l.digest, c, tar_size);
    }
    return path;
  }

  Result<void> AddOciManifest(const SaveImage& img, const oci::ImageManifest& m) {
    std::string bytes = oci::Serialize(m);
    std::string hex = BERTH_TRY(Sha256Hex(bytes));
    oci::Digest d = oci::Digest::Sha256Hex(hex);
    plan_[BlobPath(d)] = TarEntryPlan::Document(bytes);
    oci::Descriptor desc{.media_type = std::string(oci::kOciManifest),
                         .digest = d,
                         .size = static_cast<int64_t>(bytes.size())};
    if (img.repo_tags.empty()) index_.manifests.push_back(desc);
    for (const auto& tag : img.repo_tags) {
      auto ref = oci::Reference::ParseNormalized(tag);
      if (!ref) return std::move(ref).error().Wrap("save: repo tag \"" + tag + "\"");
      oci::Descriptor t = desc;
      t.annotations["io.containerd.image.name"] = ref->WithDefaultTag().String();
      if (ref->has_tag()) t.annotations["org.opencontainers.image.ref.name"] = ref->tag();
      index_.manifests.push_back(std::move(t));
    }
    return {};
  }

  const store::content::ContentProvider& content_;
  const SaveOptions& options_;
  std::map<std::string, TarEntryPlan> plan_;
  OrderedJson manifest_json_ = OrderedJson::array();
  std::map<std::string, std::map<std::string, std::string>> repositories_;
  oci::ImageIndex index_{.media_type = std::string(oci::kOciIndex)};
};

}  // namespace

Result<void> SaveArchive(const std::vector<SaveImage>& images,
                         const store::content::ContentProvider& content, int output_fd,
                         const SaveOptions& options) {
  Planner planner(content, options);
  for (const auto& img : images) BERTH_TRY(planner.Add(img));
  std::map<std::string, TarEntryPlan> plan = BERTH_TRY(planner.Finish());
  return formats::WriteTarPlan(plan, content, output_fd);
}

}  // namespace berth::image
