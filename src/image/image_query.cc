// ImageService: lookups (Get, List, History), Tag, Count.

#include <fnmatch.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "image/image_service.h"
#include "oci/reference.h"

namespace berth::image {
namespace {

using store::meta::RecordState;
using store::meta::Tx;

bool IsHex(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Go's path.Match: '*' and '?' do not match '/'.
bool GlobMatch(const std::string& pattern, const std::string& text) {
  return ::fnmatch(pattern.c_str(), text.c_str(), FNM_PATHNAME) == 0;
}

bool FamiliarMatch(const std::string& pattern, const std::string& full_tag) {
  auto ref = oci::Reference::Parse(full_tag);
  if (!ref) return false;
  return GlobMatch(pattern, ref->FamiliarString()) || GlobMatch(pattern, ref->FamiliarName());
}

bool LabelsMatch(const std::vector<std::string>& filters,
                 const std::map<std::string, std::string>& labels) {
  for (const auto& f : filters) {
    auto eq = f.find('=');
    auto it = labels.find(f.substr(0, eq));
    if (it == labels.end()) return false;
    if (eq != std::string::npos && it->second != f.substr(eq + 1)) return false;
  }
  return true;
}

}  // namespace

int64_t UnixSeconds(std::string_view text) {
  struct tm tm {};
  int y, mo, d, h, mi, s;
  std::string t(text);
  if (std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t secs = ::timegm(&tm);
  // A numeric zone offset ("+02:00") after the seconds and fraction.
  auto zone = t.find_first_of("+-", 19);
  if (zone != std::string::npos && t.size() >= zone + 6) {
    int oh = std::atoi(t.substr(zone + 1, 2).c_str()),
        om = std::atoi(t.substr(zone + 4, 2).c_str());
    int64_t off = oh * 3600 + om * 60;
    secs += t[zone] == '+' ? -off : off;
  }
  return secs;
}

Result<Image> ImageService::Load(Tx& tx, const oci::Digest& id) {
  Image image;
  image.record = BERTH_TRY(tx.GetImage(id));
  if (image.record.state != RecordState::kComplete)
    return Error::NotFound("No such image: " + id.str());
  std::string bytes = BERTH_TRY(store::content::ReadBlob(*content_, id));
  image.config = BERTH_TRY(oci::LoadConfig(std::move(bytes)));
  // One table holds both: "name:tag" and the repository digests "name@sha256:…".
  for (auto& name : BERTH_TRY(tx.TagsOf(id)))
    (IsRepoDigest(name) ? image.repo_digests : image.tags).push_back(std::move(name));
  std::sort(image.tags.begin(), image.tags.end());
  std::sort(image.repo_digests.begin(), image.repo_digests.end());
  image.last_tag_time = image.record.last_tag_time;
  const auto& layers = image.record.layers;
  if (!layers.empty()) {
    std::vector<std::string> dirs;  // top first
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
      auto fs = snapshots_->FsDir(it->chain_id.str());
      if (!fs) break;
      dirs.push_back(*fs);
    }
    if (dirs.size() == layers.size()) {
      std::string top = dirs.front().substr(0, dirs.front().rfind('/'));
      image.graph_driver["UpperDir"] = dirs.front();
      image.graph_driver["MergedDir"] = top + "/merged";
      image.graph_driver["WorkDir"] = top + "/work";
      std::string lower;
      for (size_t i = 1; i < dirs.size(); ++i) lower += (i > 1 ? ":" : "") + dirs[i];
      if (!lower.empty()) image.graph_driver["LowerDir"] = lower;
    }
  }
  return image;
}

Result<oci::Digest> ImageService::Resolve(Tx& tx, std::string_view name) {
  bool prefixed = name.rfind("sha256:", 0) == 0;
  std::string_view hex = prefixed ? name.substr(7) : name;
  std::string shown(name);
  if (!prefixed) {
    auto ref = oci::Reference::ParseNormalized(name);
    if (ref && ref->has_digest()) {
      // name@digest: the image recorded with that repository digest, else the image whose
      // manifest has that digest.
      auto named = tx.ResolveTag(ref->Name() + "@" + ref->digest().str());
      if (named) return *named;
      if (!named.error().IsNotFound()) return std::move(named).error();
      for (const auto& img : BERTH_TRY(tx.ListImages()))
        if (img.manifest_digest == ref->digest() && img.state == RecordState::kComplete)
          return img.id;
      shown = ref->FamiliarString();
    } else if (ref) {
      auto id = tx.ResolveTag(ref->WithDefaultTag().String());
      if (id) return *id;
      if (!id.error().IsNotFound()) return std::move(id).error();
      shown = ref->WithDefaultTag().FamiliarString();
    } else if (!IsHex(hex)) {
      auto any = oci::ParseAnyReference(name);
      if (!any) return std::move(any).error();
    }
  } else if (hex.size() == 64) {
    shown = std::string(name);
  }
  if (IsHex(hex)) {
    std::optional<oci::Digest> found;
    for (const auto& img : BERTH_TRY(tx.ListImages())) {
      if (img.state != RecordState::kComplete || img.id.hex().rfind(hex, 0) != 0) continue;
      if (found) return Error::NotFound("No such image: " + shown);  // ambiguous prefix
      found = img.id;
    }
    if (found) return *found;
  }
  return Error::NotFound("No such image: " + shown);
}

Result<Image> ImageService::Get(std::string_view name) {
  Image image;
  BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
    oci::Digest id = BERTH_TRY(Resolve(tx, name));
    image = BERTH_TRY(Load(tx, id));
    return {};
  }));
  return image;
}

Result<std::vector<Image>> ImageService::List(const ListOptions& options) {
  std::vector<Image> out;
  BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
    for (const auto& rec : BERTH_TRY(tx.ListImages())) {
      if (rec.state != RecordState::kComplete) continue;
      auto image = Load(tx, rec.id);
      if (!image) continue;  // a blob gone missing: leave it out rather than fail the list
      bool dangling = image->tags.empty() && image->repo_digests.empty();
      if (options.dangling && *options.dangling != dangling) continue;
      if (!options.references.empty()) {
        std::vector<std::string> kept;
        for (const auto& t : image->tags)
          for (const auto& p : options.references)
            if (FamiliarMatch(p, t)) {
              kept.push_back(t);
              break;
            }
        if (kept.empty()) continue;
        image->tags = std::move(kept);
      }
      const auto& cc = image->config.config.config;
      if (!LabelsMatch(options.labels, cc ? cc->labels : std::map<std::string, std::string>{}))
        continue;
      out.push_back(std::move(*image));
    }
    return {};
  }));
  std::stable_sort(out.begin(), out.end(), [](const Image& a, const Image& b) {
    return UnixSeconds(a.config.config.created) > UnixSeconds(b.config.config.created);
  });
  return out;
}

Result<std::vector<HistoryEntry>> ImageService::History(std::string_view name) {
  Image image = BERTH_TRY(Get(name));
  std::vector<int64_t> layer_sizes;
  BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
    for (const auto& l : image.record.layers) {
      auto rec = tx.GetLayer(l.chain_id);
      layer_sizes.push_back(rec ? rec->unpacked_size : 0);
    }
    return {};
  }));
  std::vector<HistoryEntry> out;
  size_t layer = 0;
  for (const auto& h : image.config.config.history) {
    HistoryEntry e;
    e.id = "<missing>";
    e.created = UnixSeconds(h.created);
    e.created_by = h.created_by;
    e.comment = h.comment;
    if (!h.empty_layer && layer < layer_sizes.size()) e.size = layer_sizes[layer++];
    out.push_back(std::move(e));
  }
  if (out.empty()) out.emplace_back();
  std::reverse(out.begin(), out.end());
  out.front().id = image.record.id.str();
  for (const auto& t : image.tags) out.front().tags.push_back(FamiliarTag(t));
  return out;
}

Result<void> ImageService::Tag(std::string_view source, std::string_view target) {
  oci::Reference ref = BERTH_TRY(oci::Reference::ParseNormalized(target));
  if (ref.has_digest())
    return Error::InvalidArgument("refusing to create a tag with a digest reference");
  ref = ref.WithDefaultTag();
  std::lock_guard lock(mu_);
  oci::Digest id;
  std::optional<oci::Digest> moved_from;
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
    id = BERTH_TRY(Resolve(tx, source));
    moved_from = BERTH_TRY(tx.SetTag(ref.String(), id));
    return {};
  }));
  if (moved_from) Emit("untag", *moved_from, ref.FamiliarString());
  Emit("tag", id, ref.FamiliarString());
  return {};
}

Result<void> ImageService::AddRepoDigest(const oci::Digest& id, std::string_view reference) {
  oci::Reference ref = BERTH_TRY(oci::Reference::ParseNormalized(reference));
  if (!ref.has_digest())
    return Error::InvalidArgument("repository digest " + std::string(reference) + ": no digest");
  std::string name = ref.Name() + "@" + ref.digest().str();
  std::lock_guard lock(mu_);
  return db_->Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.SetTag(name, id));
    return {};
  });
}

int64_t ImageService::Count() {
  int64_t n = 0;
  (void)db_->Read([&](Tx& tx) -> Result<void> {
    for (const auto& rec : BERTH_TRY(tx.ListImages()))
      if (rec.state == RecordState::kComplete) ++n;
    return {};
  });
  return n;
}

}  // namespace berth::image
