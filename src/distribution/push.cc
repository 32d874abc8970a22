#include "distribution/push.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "image/image_push.h"
#include "oci/reference.h"
#include "util/fd.h"
#include "util/log.h"

namespace berth::distribution {
namespace {

const auto& kLog = log::Get("push");

// How many times a blob or the manifest is sent again after the registry could not be reached.
constexpr int kMaxRetries = 3;

// The tags to push: the one named, or every tag of the repository.
Result<std::vector<oci::Reference>> TagsToPush(image::ImageService& images,
                                               const oci::Reference& ref) {
  if (ref.has_digest())
    return Error::InvalidArgument("cannot push a digest reference: " + ref.FamiliarString());
  std::vector<oci::Reference> out;
  if (ref.has_tag()) {
    if (!images.Get(ref.String()))
      return Error::NotFound("tag does not exist: " + ref.FamiliarString());
    out.push_back(ref);
    return out;
  }
  for (const auto& img : BERTH_TRY(images.List({}))) {
    for (const auto& t : img.tags) {
      auto r = oci::Reference::ParseNormalized(t);
      if (r && r->Name() == ref.Name() && r->has_tag()) out.push_back(*r);
    }
  }
  if (out.empty())
    return Error::NotFound("An image does not exist locally with the tag: " + ref.FamiliarName());
  std::sort(out.begin(), out.end(),
            [](const oci::Reference& a, const oci::Reference& b) { return a.tag() < b.tag(); });
  return out;
}

// Other repositories of the same registry that a local image holding blob is tagged in: the
// blob is likely there, to be mounted rather than sent.
std::vector<std::string> MountSources(image::ImageService& images, const oci::Reference& ref,
                                      const oci::Digest& blob) {
  std::set<std::string> repos;
  auto all = images.List({});
  if (!all) return {};
  for (const auto& img : *all) {
    bool has = std::any_of(img.record.layers.begin(), img.record.layers.end(),
                           [&](const auto& l) { return l.blob_digest == blob; });
    if (!has) continue;
    auto add = [&](const std::string& name) {
      auto r = oci::Reference::ParseNormalized(name);
      if (r && r->domain() == ref.domain() && r->path() != ref.path()) repos.insert(r->path());
    };
    for (const auto& t : img.tags) add(t);
    for (const auto& d : img.repo_digests) add(d);
  }
  return {repos.begin(), repos.end()};
}

class Pusher {
 public:
  Pusher(image::ImageService& images, const PushRequest& request, const PushProgress& progress)
      : images_(images), request_(request), progress_(progress) {}

  void Emit(PushEvent e) {
    if (!progress_) return;
    std::lock_guard lock(mu_);
    progress_(e);
  }

  // SendBlobOnce, again after a failure to reach the registry or a connection it dropped (a
  // restart mid-upload): the blob is asked for and sent from its start each time.
  Result<std::string> SendBlob(RegistryClient& reg, const oci::Reference& ref,
                               const image::PushableBlob& blob, const std::string& id) {
    for (int attempt = 1;; ++attempt) {
      auto done = SendBlobOnce(reg, ref, blob, id);
      if (done || done.error().code() != ErrorCode::kUnavailable || attempt > kMaxRetries)
        return done;
      kLog.Warn({{"digest", blob.descriptor.digest.str()}}, "upload failed ({}): retrying",
                done.error().message());
      if (!id.empty())
        Emit({.id = id,
              .status =
                  "Retrying in " + std::to_string(attempt) + " second" + (attempt > 1 ? "s" : "")});
      std::this_thread::sleep_for(std::chrono::seconds(attempt));
    }
  }

  // One blob into the repository unless it is there: the status that ends its line.
  Result<std::string> SendBlobOnce(RegistryClient& reg, const oci::Reference& ref,
                                   const image::PushableBlob& blob, const std::string& id) {
    const oci::Digest& d = blob.descriptor.digest;
    if (BERTH_TRY(reg.HasBlob(d))) return std::string("Layer already exists");
    std::string location;
    for (const auto& from : MountSources(images_, ref, d)) {
      reg.AddScope("repository:" + from + ":pull");
      auto started = reg.StartUpload(d, from);
      if (!started) {
        kLog.Debug("mount of {} from {}: {}", d.str(), from, started.error().message());
        continue;
      }
      if (started->empty()) return "Mounted from " + from;
      location = *started;  // not mounted: the registry opened an upload instead
      break;
    }
    if (location.empty()) location = BERTH_TRY(reg.StartUpload(d, ""));
    Fd f = BERTH_TRY_CTX(Fd::Open(blob.path, O_RDONLY | O_CLOEXEC), "blob " + d.str());
    int64_t size = blob.descriptor.size, sent = 0, reported = 0;
    auto read = [&](char* buf, size_t n) -> Result<size_t> {
      ssize_t got;
      do got = ::read(f.get(), buf, n);
      while (got < 0 && errno == EINTR);
      if (got < 0) return Error::FromErrno(errno, "read blob " + d.str());
      sent += got;
      if (!id.empty() && (sent - reported >= (512 << 10) || sent == size)) {
        reported = sent;
        Emit({.id = id, .status = "Pushing", .current = sent, .total = size, .detail = true});
      }
      return static_cast<size_t>(got);
    };
    BERTH_TRY(reg.UploadBlob(location, d, size, read, request_.chunk_bytes, {}));
    return std::string("Pushed");
  }

  Result<PushedTag> PushTag(const oci::Reference& ref) {
    image::PushableImage img = BERTH_TRY(images_.ImageForPush(ref.String()));
    auto reg =
        BERTH_TRY(RegistryClient::Create(ref.domain(), ref.path(), request_.registry, "pull,push"));
    // Layers top first, as docker lists them; a blob named twice is sent once.
    std::vector<const image::PushableBlob*> todo;
    std::set<oci::Digest> seen;
    for (auto it = img.layers.rbegin(); it != img.layers.rend(); ++it)
      if (seen.insert(it->descriptor.digest).second) todo.push_back(&*it);
    auto id_of = [](const image::PushableBlob& b) {
      return std::string((b.diff_id.valid() ? b.diff_id : b.descriptor.digest).short_hex());
    };
    for (const auto* b : todo) Emit({.id = id_of(*b), .status = "Preparing", .detail = true});
    size_t workers = std::min<size_t>(std::max(1, request_.max_concurrent), todo.size());
    for (size_t k = workers; k < todo.size(); ++k)
      Emit({.id = id_of(*todo[k]), .status = "Waiting", .detail = true});

    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_mu;
    std::optional<Error> first_error;
    auto work = [&] {
      for (;;) {
        size_t k = next.fetch_add(1);
        if (k >= todo.size() || failed) return;
        std::string id = id_of(*todo[k]);
        auto done = SendBlob(*reg, ref, *todo[k], id);
        if (!done) {
          std::lock_guard lock(error_mu);
          if (!first_error) first_error = done.error();
          failed = true;
          return;
        }
        Emit({.id = id, .status = *done, .detail = true});
      }
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (first_error) return *first_error;

    BERTH_TRY(SendBlob(*reg, ref, img.config, ""));
    for (int attempt = 1;; ++attempt) {
      auto put = reg->PutManifest(ref.tag(), img.manifest_media_type, img.manifest_bytes);
      if (put) break;
      if (put.error().code() != ErrorCode::kUnavailable || attempt > kMaxRetries)
        return std::move(put).error();
      std::this_thread::sleep_for(std::chrono::seconds(attempt));
    }
    // As dockerd: the image now has a repository digest there.
    if (auto r = images_.AddRepoDigest(img.id, ref.Name() + "@" + img.manifest_digest.str()); !r)
      kLog.Warn({{"ref", ref.FamiliarString()}}, "recording the repository digest: {}",
                r.error().message());
    PushedTag t{ref.tag(), img.manifest_digest, static_cast<int64_t>(img.manifest_bytes.size())};
    Emit({.status = t.tag + ": digest: " + t.digest.str() + " size: " + std::to_string(t.size)});
    Emit({.aux_tag = t.tag, .aux_digest = t.digest.str(), .aux_size = t.size});
    kLog.Info({{"ref", ref.FamiliarString()}, {"digest", t.digest.str()}}, "pushed");
    return t;
  }

 private:
  image::ImageService& images_;
  const PushRequest& request_;
  const PushProgress& progress_;
  std::mutex mu_;
};

}  // namespace

Result<std::vector<PushedTag>> Push(image::ImageService& images, const PushRequest& request,
                                    const PushProgress& progress) {
  oci::Reference ref = BERTH_TRY(oci::Reference::ParseNormalized(request.reference));
  std::vector<oci::Reference> tags = BERTH_TRY(TagsToPush(images, ref));
  Pusher pusher(images, request, progress);
  pusher.Emit({.status = "The push refers to repository [" + ref.NameOnly().String() + "]"});
  std::vector<PushedTag> out;
  for (const auto& t : tags) out.push_back(BERTH_TRY(pusher.PushTag(t)));
  return out;
}

}  // namespace berth::distribution
