// ImageService: load (`docker load`) and save (`docker save`) of image archives, over
// archive_formats.h. Loading follows Import's protocol: each missing layer is unpacked into an
// extract- snapshot, recorded pending, committed under its chain id and marked complete; then
// the image row is recorded pending and made complete with its tags in one transaction.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "image/archive_formats.h"
#include "image/image_internal.h"
#include "image/image_service.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "store/archive/apply.h"
#include "util/fd.h"
#include "util/sha256.h"
#include "util/time.h"

namespace berth::image {
namespace {

using internal::kExtractPrefix;
using internal::RandomHex;
using store::meta::ImageLayer;
using store::meta::ImageRecord;
using store::meta::LayerRecord;
using store::meta::RecordState;
using store::meta::Tx;

// The OCI chain id: the diff id for a base layer, else sha256("<parent chain> <diff id>").
Result<oci::Digest> ChainId(const oci::Digest& parent, const oci::Digest& diff_id) {
  if (!parent.valid()) return diff_id;
  std::string hex = BERTH_TRY(Sha256Hex(parent.str() + " " + diff_id.str()));
  return oci::Digest::Sha256Hex(hex);
}

}  // namespace

Result<LayerRecord> ImageService::EnsureLayer(const oci::Digest& chain_id,
                                              const oci::Digest& parent, const oci::Digest& blob,
                                              const std::string& media_type, int64_t blob_size,
                                              const oci::Digest& diff_id,
                                              const std::string& unpacked) {
  std::optional<LayerRecord> existing;
  BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
    auto l = tx.GetLayer(chain_id);
    if (l) {
      existing = std::move(*l);
      return {};
    }
    if (!l.error().IsNotFound()) return std::move(l).error();
    return {};
  }));
  if (existing && existing->state == RecordState::kComplete) return *existing;

  // Unpacked while the archive streamed: only its place in the chain is new.
  std::string key = unpacked;
  if (!key.empty() && !snapshots_->Rebase(key, parent.valid() ? parent.str() : "")) key.clear();
  auto fail = [&](Error e) -> Error {
    (void)snapshots_->Remove(key);
    return e;
  };
  if (key.empty()) {
    key = std::string(kExtractPrefix) + RandomHex();
    BERTH_TRY(snapshots_->Prepare(key, parent.valid() ? parent.str() : ""));
    // The blob was checked when the content store took it: hashed once more only for the
    // diff id of a compressed layer.
    auto applied = [&]() -> Result<store::archive::ApplyResult> {
      std::string fs = BERTH_TRY(snapshots_->FsDir(key));
      Fd dir = BERTH_TRY(Fd::Open(fs, O_RDONLY | O_DIRECTORY));
      Fd in = BERTH_TRY(Fd::Open(layout_.BlobPath(blob), O_RDONLY));
      return store::archive::ApplyLayer(dir.get(), in.get(), {.hash_blob = false});
    }();
    if (!applied) return fail(std::move(applied).error().Wrap("unpack layer " + blob.str()));
    oci::Digest got = applied->diff_id.valid() ? applied->diff_id : blob;
    if (got != diff_id) {
      return fail(Error::DataLoss("layer " + blob.str() + ": its diff id is " + got.str() +
                                  ", the config says " + diff_id.str()));
    }
  }
  LayerRecord layer;
  layer.chain_id = chain_id;
  layer.diff_id = diff_id;
  layer.parent = parent;
  layer.blob_digest = blob;
  layer.media_type = media_type;
  layer.size = blob_size;
  layer.created = NowRfc3339();
  layer.state = RecordState::kPending;
  // The row first, pending: a crash from here on is cleaned by Recover.
  if (auto r = db_->Write([&](Tx& tx) -> Result<void> {
        BERTH_TRY(tx.PutBlob(blob, blob_size, media_type));
        return tx.PutLayer(layer);
      });
      !r) {
    return fail(std::move(r).error());
  }
  auto committed = snapshots_->Commit(chain_id.str(), key);
  if (!committed) {
    (void)snapshots_->Remove(key);
    if (!committed.error().IsAlreadyExists()) return std::move(committed).error();
  }
  auto usage = snapshots_->Usage(chain_id.str());
  layer.unpacked_size = usage ? usage->size : 0;
  layer.state = RecordState::kComplete;
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> { return tx.PutLayer(layer); }));
  return layer;
}

Result<oci::Digest> ImageService::RecordLoaded(const LoadedImage& loaded,
                                               std::vector<std::string>* lines,
                                               std::string_view action) {
  oci::ConfigBlob config = BERTH_TRY(oci::LoadConfig(loaded.config_bytes));
  const oci::Digest& id = config.id;
  if (id != loaded.config_digest)
    return Error::DataLoss("config " + loaded.config_digest.str() + ": its bytes hash otherwise");
  const auto& diff_ids = config.config.diff_ids;
  if (diff_ids.size() != loaded.layers.size()) {
    return Error::DataLoss("image " + id.str() + ": the config names " +
                           std::to_string(diff_ids.size()) + " layers, the manifest " +
                           std::to_string(loaded.layers.size()));
  }
  std::vector<oci::Reference> refs;
  for (const auto& t : loaded.repo_tags) {
    auto ref = BERTH_TRY(oci::Reference::ParseNormalized(t));
    if (ref.has_digest()) continue;  // a digest is not a tag
    refs.push_back(ref.WithDefaultTag());
  }

  // Layers, base first, each unpacked once per chain id.
  ImageRecord image;
  oci::Digest parent;
  for (size_t i = 0; i < loaded.layers.size(); ++i) {
    const LoadedLayer& l = loaded.layers[i];
    if (l.diff_id != diff_ids[i]) {
      return Error::DataLoss("image " + id.str() + ": layer " + std::to_string(i) +
                             " has diff id " + l.diff_id.str() + ", the config says " +
                             diff_ids[i].str());
    }
    std::string media_type =
        l.media_type.empty() ? std::string(oci::kDockerLayerTar) : l.media_type;
    oci::Digest chain = BERTH_TRY(ChainId(parent, l.diff_id));
    LayerRecord rec =
        BERTH_TRY(EnsureLayer(chain, parent, l.digest, media_type, l.size, l.diff_id, l.unpacked));
    image.layers.push_back({chain, l.diff_id, l.digest});
    image.size += rec.unpacked_size;
    parent = chain;
  }

  // The manifest of record: the archive's (OCI), else one made as Import makes it.
  BERTH_TRY(PutBlob(config.bytes, oci::kDockerConfig));
  int64_t manifest_size = 0;
  if (loaded.manifest_digest.valid()) {
    image.manifest_digest = loaded.manifest_digest;
    image.media_type = loaded.manifest_media_type;
    manifest_size = BERTH_TRY(content_->Info(loaded.manifest_digest)).size;
  } else {
    oci::ImageManifest manifest;
    manifest.media_type = std::string(oci::kDockerManifest);
    manifest.config = {std::string(oci::kDockerConfig), id,
                       static_cast<int64_t>(config.bytes.size())};
    for (const auto& l : loaded.layers) {
      manifest.layers.push_back(
          {l.media_type.empty() ? std::string(oci::kDockerLayerTar) : l.media_type, l.digest,
           l.size});
    }
    std::string bytes = oci::Serialize(manifest);
    image.manifest_digest = BERTH_TRY(PutBlob(bytes, oci::kDockerManifest));
    image.media_type = std::string(oci::kDockerManifest);
    manifest_size = static_cast<int64_t>(bytes.size());
  }
  image.id = id;
  image.os = config.config.os;
  image.architecture = config.config.architecture;
  image.variant = config.config.variant;
  image.created = config.config.created;
  if (config.config.config) image.labels = config.config.config->labels;
  image.state = RecordState::kPending;

  bool new_image = false;
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(
        tx.PutBlob(id, static_cast<int64_t>(config.bytes.size()), std::string(oci::kDockerConfig)));
    BERTH_TRY(tx.PutBlob(image.manifest_digest, manifest_size, image.media_type));
    for (const auto& l : loaded.layers) BERTH_TRY(tx.PutBlob(l.digest, l.size, l.media_type));
    auto have = tx.GetImage(id);
    if (have && have->state == RecordState::kComplete) return {};
    if (!have && !have.error().IsNotFound()) return std::move(have).error();
    new_image = true;
    return tx.PutImage(image);
  }));
  std::vector<std::pair<oci::Digest, std::string>> untagged;
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
    if (new_image) BERTH_TRY(tx.SetImageState(id, RecordState::kComplete));
    for (const auto& ref : refs) {
      auto moved = BERTH_TRY(tx.SetTag(ref.String(), id));
      if (moved) untagged.emplace_back(*moved, ref.FamiliarString());
    }
    return {};
  }));
  for (const auto& [old, name] : untagged) Emit("untag", old, name);
  Emit(action, id, refs.empty() ? id.str() : refs.front().FamiliarString());
  for (const auto& ref : refs) lines->push_back("Loaded image: " + ref.FamiliarString());
  if (refs.empty()) lines->push_back("Loaded image ID: " + id.str());
  return id;
}

namespace {

// Layers unpacked while an archive streams, each into an extract- snapshot (Recover removes
// what a crash leaves); those no image took are removed with the unpacker.
class SnapshotUnpacker final : public LayerUnpacker {
 public:
  explicit SnapshotUnpacker(store::snapshot::OverlaySnapshotter* snapshots)
      : snapshots_(snapshots) {}
  ~SnapshotUnpacker() override {
    for (const auto& k : keys_) (void)snapshots_->Remove(k);  // NotFound once committed
  }
  Result<std::pair<std::string, Fd>> Begin() override {
    std::string key = std::string(kExtractPrefix) + RandomHex();
    BERTH_TRY(snapshots_->Prepare(key, ""));
    keys_.push_back(key);
    std::string fs = BERTH_TRY(snapshots_->FsDir(key));
    Fd dir = BERTH_TRY(Fd::Open(fs, O_RDONLY | O_DIRECTORY));
    return std::pair{std::move(key), std::move(dir)};
  }
  void Discard(const std::string& key) override { (void)snapshots_->Remove(key); }

 private:
  store::snapshot::OverlaySnapshotter* snapshots_;
  std::vector<std::string> keys_;
};

}  // namespace

Result<std::vector<std::string>> ImageService::LoadImages(
    int input_fd,
    const std::function<void(const std::string& id, int64_t current, int64_t total)>& progress) {
  return LoadImages(
      [input_fd](char* buf, size_t n) -> Result<size_t> {
        for (;;) {
          ssize_t r = ::read(input_fd, buf, n);
          if (r >= 0) return static_cast<size_t>(r);
          if (errno != EINTR) return Error::FromErrno(errno, "read the archive");
        }
      },
      progress);
}

Result<std::vector<std::string>> ImageService::LoadImages(
    const std::function<Result<size_t>(char*, size_t)>& read,
    const std::function<void(const std::string& id, int64_t current, int64_t total)>& progress) {
  SnapshotUnpacker unpacker(snapshots_);
  LoadOptions options;
  options.unpacker = &unpacker;
  options.progress = progress;
  std::vector<LoadedImage> loaded = BERTH_TRY(LoadArchive(read, *content_, options));
  if (loaded.empty()) return Error::InvalidArgument("no images found in the archive");
  std::vector<std::string> lines;
  std::lock_guard lock(mu_);
  for (const auto& img : loaded) BERTH_TRY(RecordLoaded(img, &lines));
  return lines;
}

Result<void> ImageService::SaveImages(const std::vector<std::string>& names, int output_fd) {
  if (names.empty()) return Error::InvalidArgument("no image names given");
  std::vector<SaveImage> images;
  std::map<oci::Digest, size_t> index;
  BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
    // (image, tag to keep): a repository without a tag is every tag of it, as Docker saves it.
    std::vector<std::pair<oci::Digest, std::optional<std::string>>> wanted;
    for (const auto& name : names) {
      auto ref = oci::Reference::ParseNormalized(name);
      if (ref && !ref->has_tag() && !ref->has_digest()) {
        size_t before = wanted.size();
        for (const auto& [tag, id] : BERTH_TRY(tx.ListTags())) {
          if (IsRepoDigest(tag)) continue;
          auto t = oci::Reference::ParseNormalized(tag);
          if (t && t->Name() == ref->Name()) wanted.emplace_back(id, t->FamiliarString());
        }
        if (wanted.size() > before) continue;
      }
      oci::Digest id = BERTH_TRY(Resolve(tx, name));
      // Given by a tag that names it: the archive keeps the tag.
      std::optional<std::string> tag;
      if (ref && !ref->has_digest()) {
        auto full = ref->WithDefaultTag();
        if (auto t = tx.ResolveTag(full.String()); t && *t == id) tag = full.FamiliarString();
      }
      wanted.emplace_back(id, tag);
    }
    for (const auto& [id, tag] : wanted) {
      auto [it, inserted] = index.emplace(id, images.size());
      if (inserted) {
        ImageRecord rec = BERTH_TRY(tx.GetImage(id));
        SaveImage s;
        s.config_digest = id;
        for (const auto& l : rec.layers) {
          auto lr = tx.GetLayer(l.chain_id);
          std::string media = lr && lr->blob_digest == l.blob_digest ? lr->media_type : "";
          s.layers.push_back({l.blob_digest, media, l.diff_id});
        }
        images.push_back(std::move(s));
      }
      auto& tags = images[it->second].repo_tags;
      if (tag && std::find(tags.begin(), tags.end(), *tag) == tags.end()) tags.push_back(*tag);
    }
    return {};
  }));
  // Docker 25+'s format: the OCI layout and manifest.json in one tar (dockerd 20.10, skopeo's
  // docker-archive: and oci-archive: all read it).
  return SaveArchive(images, *content_, output_fd, {.oci_layout = true});
}

}  // namespace berth::image
