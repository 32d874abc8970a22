// ImageService: the store's side of a registry pull (image_pull.h). Layers follow load's
// protocol: unpacked into an extract- snapshot as they stream (Recover removes what a crash
// leaves), then committed under their chain id by EnsureLayer through RecordLoaded, which
// records the image and its tag.

#include "image/image_pull.h"

#include <fcntl.h>

#include <optional>

#include "image/archive_formats.h"
#include "image/image_internal.h"
#include "image/image_service.h"
#include "store/archive/apply.h"
#include "util/fd.h"

namespace berth::image {
namespace {

using internal::kExtractPrefix;
using internal::RandomHex;
using store::meta::RecordState;
using store::meta::Tx;

}  // namespace

void PulledLayer::Discard() {
  if (writer) (void)writer->Abort();
  writer.reset();
  if (snapshots && !snapshot_key.empty()) (void)snapshots->Remove(snapshot_key);
  snapshot_key.clear();
}

PulledLayer::~PulledLayer() { Discard(); }

PulledLayer& PulledLayer::operator=(PulledLayer&& other) noexcept {
  if (this == &other) return *this;
  Discard();
  blob = std::move(other.blob);
  diff_id = std::move(other.diff_id);
  snapshot_key = std::exchange(other.snapshot_key, std::string());
  writer = std::move(other.writer);
  snapshots = std::exchange(other.snapshots, nullptr);
  return *this;
}

bool ImageService::HasLayer(const oci::Digest& chain_id) {
  bool have = false;
  (void)db_->Read([&](Tx& tx) -> Result<void> {
    auto l = tx.GetLayer(chain_id);
    have = l && l->state == RecordState::kComplete;
    return {};
  });
  return have;
}

Result<PulledLayer> ImageService::UnpackPulledLayer(
    const oci::Descriptor& blob, const std::function<Result<size_t>(char*, size_t)>& read,
    const std::function<void(int64_t, int64_t)>& progress) {
  if (blob.digest.algorithm() != "sha256")
    return Error::NotImplemented("layer " + blob.digest.str() +
                                 ": only sha256 digests are supported");
  PulledLayer out;
  out.blob = blob;
  out.snapshots = snapshots_;
  const std::string what = "layer " + blob.digest.str();

  // The store may have the blob (an earlier pull, a load): unpack it from there.
  bool local = content_->Info(blob.digest).has_value();
  if (!local) {
    auto w = content_->Writer("pull-" + std::string(blob.digest.hex()) + "-" + RandomHex(),
                              oci::Descriptor{.digest = blob.digest, .size = blob.size});
    if (w)
      out.writer = std::move(*w);
    else if (w.error().IsAlreadyExists())
      local = true;
    else
      return std::move(w).error().Wrap(what);
  }

  out.snapshot_key = std::string(kExtractPrefix) + RandomHex();
  BERTH_TRY(snapshots_->Prepare(out.snapshot_key, ""));
  std::string fs = BERTH_TRY(snapshots_->FsDir(out.snapshot_key));
  Fd dir = BERTH_TRY(Fd::Open(fs, O_RDONLY | O_DIRECTORY));

  store::archive::ApplyOptions ao{.hash_blob = false};
  store::archive::ApplyResult applied;
  if (local) {
    Fd in = BERTH_TRY(Fd::Open(layout_.BlobPath(blob.digest), O_RDONLY));
    applied = BERTH_TRY_CTX(store::archive::ApplyLayer(dir.get(), in.get(), ao), "unpack " + what);
    if (progress) progress(blob.size, blob.size);
  } else {
    // Every byte of the body passes here once: into the ingest (hashed), then to the unpack.
    std::optional<Error> source_error;
    int64_t total = 0, reported = 0;
    auto tee = [&](char* buf, size_t n) -> Result<size_t> {
      auto got = read(buf, n);
      if (!got) {
        source_error = got.error();
        return std::move(got).error();
      }
      total += static_cast<int64_t>(*got);
      if (total > blob.size) {
        source_error = Error::DataLoss(what + ": the registry sent more than its " +
                                       std::to_string(blob.size) + " bytes");
        return *source_error;
      }
      if (auto w = out.writer->Write(std::string_view(buf, *got)); !w) {
        source_error = w.error();
        return std::move(w).error();
      }
      if (progress && (total - reported >= (512 << 10) || total == blob.size)) {
        reported = total;
        progress(total, blob.size);
      }
      return *got;
    };
    auto r = store::archive::ApplyLayer(dir.get(), tee, ao);
    if (source_error) return std::move(*source_error).Wrap(what);
    if (!r) {
      // A body that does not unpack may be one that was altered: its digest says which.
      std::string buf(64 << 10, '\0');
      for (;;) {
        auto n = tee(buf.data(), buf.size());
        if (!n || *n == 0) break;
      }
      auto d = out.writer->Digest();
      if (!source_error && d && *d != blob.digest)
        return Error::DataLoss("filesystem layer verification failed for digest " +
                               blob.digest.str());
      return std::move(r).error().Wrap("unpack " + what);
    }
    applied = *r;
    // The tar may end before the blob does (padding, the compressor's trailer).
    std::string buf(64 << 10, '\0');
    for (;;) {
      size_t n = BERTH_TRY_CTX(tee(buf.data(), buf.size()), what);
      if (n == 0) break;
    }
    oci::Digest got = BERTH_TRY(out.writer->Digest());
    if (out.writer->Offset() != blob.size || got != blob.digest)
      return Error::DataLoss("filesystem layer verification failed for digest " +
                             blob.digest.str());
  }
  out.diff_id = applied.diff_id.valid() ? applied.diff_id : blob.digest;
  return out;
}

Result<oci::Digest> ImageService::RecordPulled(PulledImage image) {
  // Every layer was verified: the blobs become visible now.
  for (auto& l : image.layers) {
    if (!l.writer) continue;
    auto c = l.writer->Commit(l.blob.size, l.blob.digest);
    l.writer.reset();
    if (!c && !c.error().IsAlreadyExists())
      return std::move(c).error().Wrap("layer " + l.blob.digest.str());
  }
  oci::Digest manifest = BERTH_TRY(PutBlob(image.manifest_bytes, image.manifest_media_type));

  LoadedImage loaded;
  loaded.config_digest = image.config_digest;
  loaded.config_bytes = image.config_bytes;
  loaded.manifest_digest = manifest;
  loaded.manifest_media_type = image.manifest_media_type;
  if (!image.reference.empty()) loaded.repo_tags.push_back(image.reference);
  for (const auto& l : image.layers) {
    loaded.layers.push_back(
        {l.blob.digest, l.blob.media_type, l.blob.size, l.diff_id, l.snapshot_key});
  }
  std::vector<std::string> lines;
  std::lock_guard lock(mu_);
  oci::Digest id = BERTH_TRY(RecordLoaded(loaded, &lines, "pull"));
  if (!image.repo_digest.empty())
    BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
      BERTH_TRY(tx.SetTag(image.repo_digest, id));
      return {};
    }));
  return id;
}

}  // namespace berth::image
