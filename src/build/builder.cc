// Builder: the cache's maintenance (system df, builder prune); the build itself is in
// executor.cc.

#include "build/builder.h"

#include <algorithm>

#include "build/cache.h"
#include "build/copy.h"
#include "util/log.h"

namespace berth::build {

Builder::Builder(image::ImageService& images, StepRunner& runner, std::string cache_dir)
    : images_(images),
      runner_(runner),
      cache_(std::make_unique<BuildCache>(std::move(cache_dir))),
      hashes_(std::make_unique<FileHashCache>()) {}

Builder::~Builder() = default;

Result<std::vector<CacheRecord>> Builder::CacheUsage() {
  std::vector<CacheRecord> out;
  for (CacheRecord r : cache_->All()) {
    auto img = images_.Get(r.image_id);
    if (!img) {
      if (img.error().IsNotFound()) {
        (void)cache_->Remove(r.id);
        continue;
      }
      return std::move(img).error();
    }
    r.shared = !img->tags.empty();
    auto id = oci::Digest::Parse(r.image_id);
    r.in_use = id && !images_.ContainersUsing(*id).empty();
    out.push_back(std::move(r));
  }
  return out;
}

Result<CachePruneReport> Builder::PruneCache(const CachePruneOptions& o) {
  std::vector<CacheRecord> records = BERTH_TRY(CacheUsage());
  // Oldest first, so that keep_storage keeps the most recently used.
  std::sort(records.begin(), records.end(), [](const CacheRecord& a, const CacheRecord& b) {
    return a.last_used_at < b.last_used_at;
  });
  int64_t total = 0;
  for (const auto& r : records) total += r.size;
  CachePruneReport report;
  for (const auto& r : records) {
    if (o.keep_storage > 0 && total <= o.keep_storage) break;
    if (o.until > 0 && r.last_used_at >= o.until) continue;
    if (r.in_use) continue;
    if (r.shared && !o.all) continue;
    if (!r.shared) {
      // The step's image goes with its record; one that another image builds on stays (it is
      // then no longer dangling in Docker's sense only once its children go: a Conflict here).
      auto del = images_.Delete(r.image_id, {.force = false, .noprune = false});
      if (!del && !del.error().IsNotFound()) {
        if (!del.error().IsConflict()) return std::move(del).error();
        log::Get("build").Debug("builder prune: keep {}: {}", r.image_id, del.error().message());
      } else {
        report.space_reclaimed += r.size;
        total -= r.size;
      }
    }
    BERTH_TRY(cache_->Remove(r.id));
    report.deleted.push_back(r.id);
  }
  return report;
}

}  // namespace berth::build
