// index.json of an OCI image layout: image manifests, possibly behind nested indexes.

#include <map>

#include "image/formats/formats_internal.h"
#include "image/formats/load_internal.h"
#include "oci/image.h"
#include "oci/reference.h"

namespace berth::image::formats {
namespace {

constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdName = "io.containerd.image.name";
constexpr std::string_view kDockerReferenceType = "vnd.docker.reference.type";
constexpr int kMaxIndexDepth = 4;

std::string BlobPath(const oci::Digest& d) {
  return "blobs/" + std::string(d.algorithm()) + "/" + std::string(d.hex());
}

struct Names {
  std::vector<std::string> repo_tags;
  std::string ref_name;
};

class OciResolver {
 public:
  OciResolver(const ArchiveContents& archive, const store::content::ContentProvider& content,
              const LoadOptions& options)
      : archive_(archive), content_(content), options_(options) {}

  Result<void> Walk(const std::vector<oci::Descriptor>& manifests, const Names& names, int depth,
                    const std::string& where) {
    for (size_t i = 0; i < manifests.size(); ++i) {
      const oci::Descriptor& d = manifests[i];
      std::string here = where + ".manifests[" + std::to_string(i) + "]";
      Names n = depth == 0 ? NamesOf(d) : names;
      if (d.annotations.count(std::string(kDockerReferenceType))) continue;  // attestations
      if (depth > 0 && options_.platform && d.platform &&
          !oci::PlatformMatches(*d.platform, *options_.platform))
        continue;
      Result<void> r;
      if (oci::IsIndex(d.media_type)) {
        if (depth + 1 > kMaxIndexDepth)
          return Error::InvalidArgument(here + ": indexes nested too deep");
        r = WalkIndex(d, n, depth + 1, here);
      } else if (oci::IsManifest(d.media_type)) {
        r = AddManifest(d, n, here);
      } else {
        continue;  // an artifact: not an image
      }
      // Inside a multi-platform index, an archive may hold only some platforms' blobs.
      if (!r && !(depth > 0 && r.error().IsNotFound())) return r;
    }
    return {};
  }

  std::vector<LoadedImage> Take() { return std::move(images_); }

 private:
  static Names NamesOf(const oci::Descriptor& d) {
    Names n;
    auto ref = d.annotations.find(std::string(kRefName));
    if (ref != d.annotations.end()) n.ref_name = ref->second;
    auto cd = d.annotations.find(std::string(kContainerdName));
    std::string full;
    if (cd != d.annotations.end()) {
      full = cd->second;
    } else if (!n.ref_name.empty() && n.ref_name.find_first_of("/:") != std::string::npos) {
      full = n.ref_name;
    }
    if (!full.empty()) {
      auto r = oci::Reference::ParseNormalized(full);
      if (r) n.repo_tags.push_back(r->String());
    }
    return n;
  }

  Result<const ArchiveEntry*> Blob(const oci::Descriptor& d, const std::string& where) {
    if (d.digest.algorithm() != "sha256")
      return Error::NotImplemented(where + ": digest " + d.digest.str() + ": only sha256");
    std::string path = BlobPath(d.digest);
    auto e = Lookup(archive_, path);
    if (!e) {
      if (e.error().IsNotFound())
        return Error::NotFound(where + ": blob " + d.digest.str() + " (file " + path +
                               ") not found in archive");
      return std::move(e).error().Wrap(where);
    }
    if (d.size != (*e)->size)
      return Error::DataLoss(where + ": " + path + " has " + std::to_string((*e)->size) +
                             " bytes, the descriptor says " + std::to_string(d.size));
    return e;
  }

  Result<void> WalkIndex(const oci::Descriptor& d, const Names& names, int depth,
                         const std::string& where) {
    const ArchiveEntry* e = BERTH_TRY(Blob(d, where));
    std::string text = BERTH_TRY_CTX(ReadDocument(content_, e->digest), BlobPath(d.digest));
    oci::ImageIndex index = BERTH_TRY_CTX(oci::ParseIndex(text), BlobPath(d.digest));
    return Walk(index.manifests, names, depth, BlobPath(d.digest));
  }

  Result<void> AddManifest(const oci::Descriptor& d, const Names& names, const std::string& where) {
    auto seen = by_manifest_.find(d.digest);
    if (seen != by_manifest_.end()) {  // another tag of the same image
      LoadedImage& img = images_[seen->second];
      for (const auto& t : names.repo_tags)
        if (std::find(img.repo_tags.begin(), img.repo_tags.end(), t) == img.repo_tags.end())
          img.repo_tags.push_back(t);
      return {};
    }
    const ArchiveEntry* e = BERTH_TRY(Blob(d, where));
    std::string mpath = BlobPath(d.digest);
    std::string text = BERTH_TRY_CTX(ReadDocument(content_, e->digest), mpath);
    oci::ImageManifest m = BERTH_TRY_CTX(oci::ParseManifest(text), mpath);

    const ArchiveEntry* ce = BERTH_TRY(Blob(m.config, mpath + ": config"));
    std::string bytes =
        BERTH_TRY_CTX(ReadDocument(content_, ce->digest), BlobPath(m.config.digest));
    oci::ConfigBlob config = BERTH_TRY_CTX(oci::LoadConfig(bytes), BlobPath(m.config.digest));

    LoadedImage img;
    img.config_digest = config.id;
    img.config_bytes = std::move(config.bytes);
    img.manifest_digest = d.digest;
    img.manifest_media_type = m.media_type.empty() ? d.media_type : m.media_type;
    img.repo_tags = names.repo_tags;
    img.ref_name = names.ref_name;
    std::vector<std::string> files;
    for (size_t i = 0; i < m.layers.size(); ++i) {
      const oci::Descriptor& l = m.layers[i];
      const ArchiveEntry* le = BERTH_TRY(Blob(l, mpath + ": layers[" + std::to_string(i) + "]"));
      img.layers.push_back({.digest = le->digest,
                            .media_type = l.media_type,
                            .size = le->size,
                            .diff_id = le->diff_id,
                            .unpacked = le->unpacked});
      files.push_back(BlobPath(l.digest));
    }
    BERTH_TRY(CheckDiffIds(img.config_digest, config.config.diff_ids, img.layers, files));
    by_manifest_[d.digest] = images_.size();
    images_.push_back(std::move(img));
    return {};
  }

  const ArchiveContents& archive_;
  const store::content::ContentProvider& content_;
  const LoadOptions& options_;
  std::vector<LoadedImage> images_;
  std::map<oci::Digest, size_t> by_manifest_;
};

}  // namespace

Result<std::vector<LoadedImage>> ResolveOciIndex(const ArchiveContents& archive,
                                                 const store::content::ContentProvider& content,
                                                 const LoadOptions& options) {
  oci::ImageIndex index = BERTH_TRY_CTX(oci::ParseIndex(*archive.index_json), "index.json");
  OciResolver resolver(archive, content, options);
  BERTH_TRY(resolver.Walk(index.manifests, {}, 0, "index.json"));
  std::vector<LoadedImage> images = resolver.Take();
  if (images.empty()) return Error::NotFound("index.json: no image manifest found in archive");
  return images;
}

}  // namespace berth::image::formats
