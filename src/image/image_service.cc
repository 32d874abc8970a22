// ImageService: construction, recovery, import and garbage collection. Queries are in
// image_query.cc, deletion and prune in image_delete.cc.

#include "image/image_service.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "image/changes.h"
#include "image/image_internal.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "store/archive/apply.h"
#include "util/fd.h"
#include "util/time.h"

namespace berth::image {
namespace {

using store::meta::ImageLayer;
using store::meta::ImageRecord;
using store::meta::LayerRecord;
using store::meta::RecordState;
using store::meta::Tx;

using internal::kExtractPrefix;
using internal::RandomHex;

std::string HostArch() {
  struct utsname u;
  if (::uname(&u) != 0) return "amd64";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

std::string_view LayerMediaType(store::archive::Compression c) {
  switch (c) {
    case store::archive::Compression::kGzip:
      return oci::kDockerLayerTarGzip;
    case store::archive::Compression::kZstd:
      return oci::kDockerLayerTarZstd;
    default:
      return oci::kDockerLayerTar;
  }
}

}  // namespace

std::string FamiliarTag(const std::string& full) {
  auto ref = oci::Reference::Parse(full);
  if (!ref) return full;
  return ref->FamiliarString();
}

ImageService::ImageService(store::Layout layout, store::content::ContentStore* content,
                           store::meta::MetadataDb* db,
                           store::snapshot::OverlaySnapshotter* snapshots)
    : layout_(std::move(layout)), content_(content), db_(db), snapshots_(snapshots) {}

void ImageService::Emit(std::string_view action, const oci::Digest& id, std::string_view name) {
  if (events_) events_(action, id.str(), name);
}

Result<oci::Digest> ImageService::PutBlob(std::string_view data, std::string_view media_type) {
  auto w = BERTH_TRY(content_->Writer("berth-blob-" + RandomHex(), std::nullopt));
  if (auto r = w->Write(data); !r) {
    (void)w->Abort();
    return std::move(r).error();
  }
  oci::Digest digest = BERTH_TRY(w->Digest());
  auto c = w->Commit(static_cast<int64_t>(data.size()), digest);
  if (!c && !c.error().IsAlreadyExists()) return std::move(c).error();
  (void)media_type;
  return digest;
}

Result<std::string> ImageService::StoreLayer(
    const std::function<Result<size_t>(char*, size_t)>& read, LayerRecord* layer) {
  // The blob first, as sent: its digest names it in the manifest.
  auto w = BERTH_TRY(content_->Writer("berth-import-" + RandomHex(), std::nullopt));
  std::vector<char> buf(1 << 20);
  for (;;) {
    auto n = read(buf.data(), buf.size());
    if (!n) {
      (void)w->Abort();
      return std::move(n).error().Wrap("read rootfs tarball");
    }
    if (*n == 0) break;
    if (auto r = w->Write(std::string_view(buf.data(), *n)); !r) {
      (void)w->Abort();
      return std::move(r).error();
    }
  }
  oci::Digest blob = BERTH_TRY(w->Digest());
  int64_t size = w->Offset();
  if (size == 0) {
    (void)w->Abort();
    return Error::InvalidArgument("the rootfs tarball is empty");
  }
  auto c = w->Commit(size, blob);
  if (!c && !c.error().IsAlreadyExists()) return std::move(c).error();

  // Then the unpacked layer, in an active snapshot that Recover removes after a crash.
  std::string key = std::string(kExtractPrefix) + RandomHex();
  BERTH_TRY(snapshots_->Prepare(key, ""));
  auto applied = [&]() -> Result<store::archive::ApplyResult> {
    std::string fs = BERTH_TRY(snapshots_->FsDir(key));
    Fd dir = BERTH_TRY(Fd::Open(fs, O_RDONLY | O_DIRECTORY));
    Fd in = BERTH_TRY(Fd::Open(layout_.BlobPath(blob), O_RDONLY));
    return store::archive::ApplyLayer(dir.get(), in.get());
  }();
  if (!applied) {
    (void)snapshots_->Remove(key);
    return std::move(applied).error().Wrap("import layer " + blob.str());
  }
  layer->diff_id = applied->diff_id;
  layer->chain_id = applied->diff_id;  // a base layer: its chain id is its diff id
  layer->blob_digest = blob;
  layer->media_type = std::string(LayerMediaType(applied->compression));
  layer->size = size;
  layer->created = NowRfc3339();
  return key;
}

Result<oci::Digest> ImageService::Import(const std::function<Result<size_t>(char*, size_t)>& read,
                                         const ImportOptions& options) {
  std::optional<oci::Reference> ref;
  if (!options.reference.empty()) {
    ref = BERTH_TRY(oci::Reference::ParseNormalized(options.reference));
    if (ref->has_digest()) return Error::InvalidArgument("cannot import digest reference");
    ref = ref->WithDefaultTag();
  }
  oci::ContainerConfig cc;
  BERTH_TRY(ApplyChanges(options.changes, &cc));

  LayerRecord layer;
  std::string key = BERTH_TRY(StoreLayer(read, &layer));
  bool key_live = true;
  auto drop_key = [&] {
    if (key_live) (void)snapshots_->Remove(key);
    key_live = false;
  };

  std::string message =
      options.message.empty() ? "Imported from " + options.source : options.message;
  oci::ImageConfig config;
  config.created = NowRfc3339();
  config.architecture = options.architecture.empty() ? HostArch() : options.architecture;
  config.os = options.os;
  config.config = cc;
  config.diff_ids = {layer.diff_id};
  config.history = {{config.created, "", "", message, false}};
  config.unknown["comment"] = nlohmann::json(message).dump();
  auto made = oci::MakeConfig(config);
  if (!made) {
    drop_key();
    return std::move(made).error();
  }
  oci::ConfigBlob blob = std::move(*made);

  oci::ImageManifest manifest;
  manifest.media_type = std::string(oci::kDockerManifest);
  manifest.config = {std::string(oci::kDockerConfig), blob.id,
                     static_cast<int64_t>(blob.bytes.size())};
  manifest.layers = {{layer.media_type, layer.blob_digest, layer.size}};
  std::string manifest_bytes = oci::Serialize(manifest);

  std::lock_guard lock(mu_);
  auto result = [&]() -> Result<oci::Digest> {
    BERTH_TRY(PutBlob(blob.bytes, oci::kDockerConfig));
    oci::Digest manifest_digest = BERTH_TRY(PutBlob(manifest_bytes, oci::kDockerManifest));
    bool new_layer = false, new_image = false;
    ImageRecord image;
    image.id = blob.id;
    image.manifest_digest = manifest_digest;
    image.media_type = std::string(oci::kDockerManifest);
    image.os = config.os;
    image.architecture = config.architecture;
    image.created = config.created;
    image.labels = cc.labels;
    image.state = RecordState::kPending;
    // Rows first, pending: a crash from here on is cleaned by Recover.
    BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
      BERTH_TRY(tx.PutBlob(layer.blob_digest, layer.size, layer.media_type));
      BERTH_TRY(tx.PutBlob(blob.id, static_cast<int64_t>(blob.bytes.size()),
                           std::string(oci::kDockerConfig)));
      BERTH_TRY(tx.PutBlob(manifest_digest, static_cast<int64_t>(manifest_bytes.size()),
                           std::string(oci::kDockerManifest)));
      auto existing = tx.GetLayer(layer.chain_id);
      if (!existing) {
        if (!existing.error().IsNotFound()) return std::move(existing).error();
        new_layer = true;
        layer.state = RecordState::kPending;
        BERTH_TRY(tx.PutLayer(layer));
      } else {
        layer = *existing;
      }
      image.layers = {{layer.chain_id, layer.diff_id, layer.blob_digest}};
      image.size = layer.unpacked_size;
      if (auto have = tx.GetImage(image.id); !have) {
        new_image = true;
        BERTH_TRY(tx.PutImage(image));
      }
      return {};
    }));
    if (new_layer) {
      auto committed = snapshots_->Commit(layer.chain_id.str(), key);
      if (!committed && !committed.error().IsAlreadyExists()) return std::move(committed).error();
      key_live = !committed;
      auto usage = snapshots_->Usage(layer.chain_id.str());
      layer.unpacked_size = usage ? usage->size : 0;
      image.size = layer.unpacked_size;
    }
    drop_key();
    std::optional<oci::Digest> moved_from;
    BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
      if (new_layer) {
        layer.state = RecordState::kComplete;
        BERTH_TRY(tx.PutLayer(layer));
      }
      if (new_image) {
        image.state = RecordState::kComplete;
        BERTH_TRY(tx.PutImage(image));
      }
      if (ref) moved_from = BERTH_TRY(tx.SetTag(ref->String(), image.id));
      return {};
    }));
    Emit("import", image.id, ref ? ref->FamiliarString() : "");
    if (ref) {
      if (moved_from) Emit("untag", *moved_from, ref->FamiliarString());
      Emit("tag", image.id, ref->FamiliarString());
    }
    return image.id;
  }();
  drop_key();
  return result;
}

Result<std::vector<oci::Digest>> ImageService::CollectGarbage(
    const std::vector<oci::Digest>& blobs_on_disk, const std::vector<oci::Digest>& layers_on_disk) {
  store::meta::GcResult gc;
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
    gc = BERTH_TRY(tx.GarbageCollect(blobs_on_disk, layers_on_disk));
    return {};
  }));
  for (const auto& b : gc.blobs) {
    auto r = content_->Delete(b);
    if (!r && !r.error().IsNotFound()) return std::move(r).error();
  }
  // Children before parents: retry until no snapshot is left or none goes.
  std::vector<oci::Digest> left = gc.chain_ids;
  while (!left.empty()) {
    std::vector<oci::Digest> again;
    for (const auto& c : left) {
      auto r = snapshots_->Remove(c.str());
      if (!r && r.error().IsFailedPrecondition()) again.push_back(c);
    }
    if (again.size() == left.size()) break;
    left = std::move(again);
  }
  return gc.chain_ids;
}

Result<void> ImageService::Recover() {
  std::lock_guard lock(mu_);
  store::meta::PendingRecords pending = BERTH_TRY(db_->RecoverAtStart());
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
    for (const auto& id : pending.images) {
      auto r = tx.DeleteImage(id);
      if (!r && !r.error().IsNotFound()) return std::move(r).error();
    }
    // A pending layer may be the parent of another pending one: retry until none goes.
    std::vector<oci::Digest> left = pending.layers;
    while (!left.empty()) {
      std::vector<oci::Digest> again;
      for (const auto& c : left) {
        auto r = tx.DeleteLayer(c);
        if (!r && r.error().IsFailedPrecondition()) again.push_back(c);
      }
      if (again.size() == left.size()) break;
      left = std::move(again);
    }
    return {};
  }));
  // Snapshots: unfinished extractions go; committed ones without a row are garbage.
  std::vector<std::string> extracts;
  std::vector<oci::Digest> layers_on_disk;
  BERTH_TRY(snapshots_->Walk([&](const store::snapshot::Info& info) -> Result<void> {
    if (info.kind != store::snapshot::Kind::kCommitted) {
      if (info.name.rfind(kExtractPrefix, 0) == 0) extracts.push_back(info.name);
    } else if (auto d = oci::Digest::Parse(info.name); d) {
      layers_on_disk.push_back(*d);
    }
    return {};
  }));
  for (const auto& k : extracts) (void)snapshots_->Remove(k);
  std::vector<oci::Digest> blobs_on_disk;
  BERTH_TRY(content_->Walk([&](const store::content::Info& info) -> Result<void> {
    blobs_on_disk.push_back(info.digest);
    return {};
  }));
  BERTH_TRY(CollectGarbage(blobs_on_disk, layers_on_disk));
  return {};
}

}  // namespace berth::image
