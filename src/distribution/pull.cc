#include "distribution/pull.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "distribution/manifest.h"
#include "image/image_pull.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "util/log.h"
#include "util/sha256.h"

namespace berth::distribution {
namespace {

const auto& kLog = log::Get("pull");

// How many times one layer's download is resumed before the pull fails.
constexpr int kMaxResumes = 5;

// The OCI chain id: the diff id for a base layer, else sha256("<parent chain> <diff id>").
Result<oci::Digest> ChainId(const oci::Digest& parent, const oci::Digest& diff_id) {
  if (!parent.valid()) return diff_id;
  return oci::Digest::Sha256Hex(BERTH_TRY(Sha256Hex(parent.str() + " " + diff_id.str())));
}

// The manifest the reference names, through an index to the platform's entry. Returns the
// image manifest and the digest of what the reference named (the index's, for an index).
struct Resolved {
  FetchedManifest manifest;
  oci::Digest named_digest;
};

Result<Resolved> Resolve(RegistryClient& reg, const oci::Reference& ref,
                         const oci::Platform& platform) {
  std::string wanted = ref.has_digest() ? ref.digest().str() : ref.tag();
  auto first = reg.GetManifest(wanted);
  if (!first) {
    if (first.error().IsNotFound())
      return Error::NotFound("manifest for " + ref.FamiliarString() +
                             " not found: " + first.error().message());
    if (first.error().IsPermissionDenied())
      return Error::PermissionDenied("pull access denied for " + ref.FamiliarName() +
                                     ", repository does not exist or may require 'docker "
                                     "login': " +
                                     first.error().message());
    return std::move(first).error();
  }
  Resolved r{*first, first->digest};
  for (int depth = 0; oci::IsIndex(r.manifest.media_type); ++depth) {
    if (depth > 2) return Error::InvalidArgument("manifest " + wanted + ": indexes nest too deep");
    oci::ImageIndex index =
        BERTH_TRY_CTX(oci::ParseIndex(r.manifest.bytes), "manifest list " + wanted);
    oci::Descriptor entry = BERTH_TRY(SelectManifest(index, platform));
    r.manifest = BERTH_TRY(reg.GetManifest(entry.digest.str()));
  }
  if (!oci::IsManifest(r.manifest.media_type))
    return Error::InvalidArgument("manifest " + wanted + ": unsupported media type " +
                                  r.manifest.media_type);
  return r;
}

}  // namespace

Result<PullResult> Pull(image::ImageService& images, const PullRequest& request,
                        const PullProgress& progress) {
  std::mutex progress_mu;
  auto emit = [&](PullEvent e) {
    if (!progress) return;
    std::lock_guard lock(progress_mu);
    progress(e);
  };
  oci::Reference ref = BERTH_TRY(oci::Reference::ParseDockerRef(request.reference));
  oci::Platform platform = request.platform.value_or(HostPlatform());
  auto reg = BERTH_TRY(RegistryClient::Create(ref.domain(), ref.path(), request.registry));
  emit({.id = ref.has_digest() ? ref.digest().str() : ref.tag(),
        .status = "Pulling from " + ref.path()});
  Resolved resolved = BERTH_TRY(Resolve(*reg, ref, platform));
  oci::ImageManifest manifest =
      BERTH_TRY_CTX(oci::ParseManifest(resolved.manifest.bytes), "manifest");
  BERTH_TRY(CheckPullable(manifest));

  std::string config_bytes = BERTH_TRY(reg->ReadBlob(manifest.config.digest));
  oci::ConfigBlob config = BERTH_TRY_CTX(oci::LoadConfig(config_bytes), "image config");
  const auto& diff_ids = config.config.diff_ids;
  if (diff_ids.size() != manifest.layers.size())
    return Error::DataLoss("image config " + manifest.config.digest.str() + " names " +
                           std::to_string(diff_ids.size()) + " layers, its manifest " +
                           std::to_string(manifest.layers.size()));

  PullResult result;
  result.image_id = config.id;
  result.digest = resolved.named_digest;
  oci::Reference tagged = ref;
  result.reference = ref.FamiliarString();

  // Which layers the store has, by chain id.
  image::PulledImage pulled;
  pulled.reference = ref.has_digest() ? "" : ref.String();
  pulled.repo_digest = ref.Name() + "@" + resolved.named_digest.str();
  pulled.config_bytes = config_bytes;
  pulled.config_digest = config.id;
  pulled.manifest_bytes = resolved.manifest.bytes;
  pulled.manifest_media_type = resolved.manifest.media_type;
  std::vector<size_t> todo;
  oci::Digest parent;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    oci::Digest chain = BERTH_TRY(ChainId(parent, diff_ids[i]));
    parent = chain;
    image::PulledLayer l;
    l.blob = manifest.layers[i];
    l.diff_id = diff_ids[i];
    pulled.layers.push_back(std::move(l));
    std::string id(manifest.layers[i].digest.short_hex());
    if (images.HasLayer(chain)) {
      emit({.id = id, .status = "Already exists", .detail = true});
    } else {
      todo.push_back(i);
      emit({.id = id, .status = "Pulling fs layer", .detail = true});
    }
  }

  if (todo.empty()) {
    auto have = images.Get(ref.String());
    if (have && have->record.id == config.id) {
      result.up_to_date = true;
      BERTH_TRY(images.AddRepoDigest(config.id, pulled.repo_digest));
      emit({.status = "Digest: " + result.digest.str()});
      emit({.status = "Status: Image is up to date for " + result.reference});
      return result;
    }
  }

  // Layers in parallel: each worker takes the next layer left; the first error stops the rest.
  size_t workers = std::min<size_t>(std::max(1, request.max_concurrent), todo.size());
  for (size_t k = workers; k < todo.size(); ++k)
    emit({.id = std::string(manifest.layers[todo[k]].digest.short_hex()),
          .status = "Waiting",
          .detail = true});
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::optional<Error> first_error;
  auto work = [&] {
    for (;;) {
      size_t k = next.fetch_add(1);
      if (k >= todo.size() || failed) return;
      image::PulledLayer& slot = pulled.layers[todo[k]];
      const oci::Descriptor& desc = slot.blob;
      std::string id(desc.digest.short_hex());
      auto one = [&]() -> Result<void> {
        auto body = BERTH_TRY(reg->OpenBlob(desc.digest));
        // A download cut short (the connection dropped, the registry restarted) resumes with
        // Range from the bytes already taken, a few times; what was taken is hashed already.
        int64_t offset = 0;
        int resumes = 0;
        auto read = [&](char* buf, size_t n) -> Result<size_t> {
          for (;;) {
            if (failed) return Error::Canceled("another layer failed");
            auto got = body->Read(buf, n);
            if (got && (*got > 0 || offset >= desc.size)) {
              offset += static_cast<int64_t>(*got);
              return got;
            }
            Error e = got ? Error::Unavailable("blob " + desc.digest.str() +
                                               ": the body ended at " + std::to_string(offset) +
                                               " of " + std::to_string(desc.size) + " bytes")
                          : got.error();
            if (e.code() != ErrorCode::kUnavailable || resumes >= kMaxResumes) return e;
            ++resumes;
            kLog.Warn({{"digest", desc.digest.str()}, {"offset", std::to_string(offset)}},
                      "download cut short ({}): resuming", e.message());
            std::this_thread::sleep_for(std::chrono::milliseconds(200 * resumes));
            auto again = reg->OpenBlob(desc.digest, offset);
            if (!again) {
              if (again.error().code() != ErrorCode::kUnavailable) return std::move(again).error();
              continue;  // counted: the next Read of the old body fails again at once
            }
            body = std::move(*again);
          }
        };
        auto on_bytes = [&](int64_t current, int64_t total) {
          emit({.id = id,
                .status = "Downloading",
                .current = current,
                .total = total,
                .detail = true});
        };
        image::PulledLayer got = BERTH_TRY(images.UnpackPulledLayer(desc, read, on_bytes));
        if (got.diff_id != slot.diff_id)
          return Error::DataLoss("layer " + desc.digest.str() + ": its diff id is " +
                                 got.diff_id.str() + ", the image config says " +
                                 slot.diff_id.str());
        slot = std::move(got);
        emit({.id = id, .status = "Verifying Checksum", .detail = true});
        emit({.id = id, .status = "Download complete", .detail = true});
        emit({.id = id, .status = "Pull complete", .detail = true});
        return {};
      };
      if (auto r = one(); !r) {
        std::lock_guard lock(error_mu);
        if (!first_error || first_error->code() == ErrorCode::kCanceled) first_error = r.error();
        failed = true;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (first_error) {
    kLog.Warn({{"ref", result.reference}}, "pull failed: {}", first_error->message());
    return *first_error;
  }

  result.image_id = BERTH_TRY(images.RecordPulled(std::move(pulled)));
  emit({.status = "Digest: " + result.digest.str()});
  emit({.status = "Status: Downloaded newer image for " + result.reference});
  kLog.Info({{"ref", result.reference}, {"digest", result.digest.str()}}, "pulled");
  return result;
}

}  // namespace berth::distribution
