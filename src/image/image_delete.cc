// ImageService: Delete (docker rmi's rules), Prune and DiskUsage.

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "image/image_service.h"
#include "oci/reference.h"

namespace berth::image {
namespace {

using store::meta::RecordState;
using store::meta::Tx;

// docker's isImageIDPrefix: the name is (a prefix of) the id, with or without "sha256:".
bool IsIdPrefix(const oci::Digest& id, std::string_view name) {
  return !name.empty() && (id.str().rfind(name, 0) == 0 || id.hex().rfind(name, 0) == 0);
}

// The repository of a name of the tags table ("127.0.0.1:5000/app:1", "…/app@sha256:…").
std::string RepositoryOf(const std::string& name) {
  auto ref = oci::Reference::Parse(name);
  return ref ? ref->Name() : name;
}

// dockerd's isSingleReference: at most one tag, and the digests all of its repository (a
// tag and its digest are one reference for `docker rmi ID`; two tags are not).
bool SingleReference(const std::vector<std::string>& names) {
  std::set<std::string> digest_repos;
  std::optional<std::string> tag;
  for (const auto& n : names) {
    if (IsRepoDigest(n))
      digest_repos.insert(RepositoryOf(n));
    else if (tag)
      return false;
    else
      tag = n;
  }
  std::string repo = RepositoryOf(tag ? *tag : names.front());
  return digest_repos.size() == 1 && digest_repos.contains(repo);
}

}  // namespace

Result<std::vector<DeleteItem>> ImageService::RemoveImage(const oci::Digest& id,
                                                          const std::vector<std::string>& untag,
                                                          bool delete_image) {
  std::vector<DeleteItem> out;
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
    for (const auto& t : untag) BERTH_TRY(tx.RemoveTag(t));
    if (delete_image) BERTH_TRY(tx.DeleteImage(id));
    return {};
  }));
  for (const auto& t : untag) {
    out.push_back({FamiliarTag(t), ""});
    Emit("untag", id, FamiliarTag(t));
  }
  if (!delete_image) return out;
  Emit("delete", id, "");
  out.push_back({"", id.str()});
  for (const auto& chain : BERTH_TRY(CollectGarbage({}, {}))) out.push_back({"", chain.str()});
  return out;
}

Result<std::vector<DeleteItem>> ImageService::Delete(std::string_view name,
                                                     const DeleteOptions& options) {
  std::lock_guard lock(mu_);
  oci::Digest id;
  std::vector<std::string> tags;
  BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
    id = BERTH_TRY(Resolve(tx, name));
    tags = BERTH_TRY(tx.TagsOf(id));
    return {};
  }));
  std::vector<std::string> users =
      container_users_ ? container_users_(id) : std::vector<std::string>{};
  if (!IsIdPrefix(id, name)) {
    // A reference: untag it; the image goes with its last reference (tag or repository
    // digest). As dockerd: the last tag of a repository takes that repository's digests along.
    oci::Reference ref = BERTH_TRY(oci::Reference::ParseNormalized(name));
    std::vector<std::string> untag;
    if (ref.has_digest()) {
      std::string full = ref.Name() + "@" + ref.digest().str();
      // Found by its manifest's digest only (no such reference recorded): the image.
      if (std::find(tags.begin(), tags.end(), full) == tags.end())
        return RemoveImage(id, tags, true);
      untag.push_back(full);
    } else {
      std::string full = ref.WithDefaultTag().String();
      untag.push_back(full);
      bool other_tag = std::any_of(tags.begin(), tags.end(), [&](const std::string& t) {
        return t != full && !IsRepoDigest(t) && RepositoryOf(t) == ref.Name();
      });
      if (!other_tag)
        for (const auto& t : tags)
          if (IsRepoDigest(t) && RepositoryOf(t) == ref.Name()) untag.push_back(t);
    }
    bool last = tags.size() <= untag.size();
    if (last && !users.empty()) {
      if (!options.force)
        return Error::Conflict("conflict: unable to remove repository reference \"" +
                               std::string(name) + "\" (must force) - container " +
                               users[0].substr(0, 12) + " is using its referenced image " +
                               std::string(id.short_hex()));
      return RemoveImage(id, untag, false);  // untagged; the container keeps the image
    }
    return RemoveImage(id, untag, last);
  }
  if (!users.empty()) {
    return Error::Conflict("conflict: unable to delete " + std::string(id.short_hex()) +
                           " (must be forced) - image is being used by container " +
                           users[0].substr(0, 12));
  }
  if (tags.size() > 1 && !SingleReference(tags) && !options.force) {
    return Error::Conflict("conflict: unable to delete " + std::string(id.short_hex()) +
                           " (must be forced) - image is referenced in multiple repositories");
  }
  return RemoveImage(id, tags, true);
}

Result<PruneReport> ImageService::Prune(bool all, const std::vector<std::string>& labels) {
  ListOptions list;
  if (!all) list.dangling = true;
  list.labels = labels;
  std::vector<Image> images = BERTH_TRY(List(list));
  std::map<oci::Digest, int64_t> sizes;
  BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
    for (const auto& l : BERTH_TRY(tx.ListLayers())) sizes[l.chain_id] = l.unpacked_size;
    return {};
  }));
  PruneReport report;
  std::lock_guard lock(mu_);
  for (const auto& image : images) {
    if (container_users_ && !container_users_(image.record.id).empty()) continue;
    std::vector<std::string> refs = image.tags;
    refs.insert(refs.end(), image.repo_digests.begin(), image.repo_digests.end());
    auto items = RemoveImage(image.record.id, refs, true);
    if (!items) {
      if (items.error().IsNotFound()) continue;  // deleted meanwhile
      return std::move(items).error();
    }
    for (const auto& item : *items) {
      if (!item.deleted.empty() && item.deleted != image.record.id.str()) {
        if (auto d = oci::Digest::Parse(item.deleted); d && sizes.contains(*d))
          report.space_reclaimed += sizes[*d];
      }
      report.deleted.push_back(item);
    }
  }
  return report;
}

Result<DiskUsageReport> ImageService::DiskUsage() {
  DiskUsageReport report;
  std::map<oci::Digest, int64_t> sizes;
  BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
    for (const auto& l : BERTH_TRY(tx.ListLayers())) {
      if (l.state != RecordState::kComplete) continue;
      sizes[l.chain_id] = l.unpacked_size;
      report.layers_size += l.unpacked_size;
    }
    return {};
  }));
  std::vector<Image> images = BERTH_TRY(List({}));
  std::map<oci::Digest, int> users;
  for (const auto& image : images) {
    std::set<oci::Digest> mine;
    for (const auto& l : image.record.layers) mine.insert(l.chain_id);
    for (const auto& c : mine) ++users[c];
  }
  for (auto& image : images) {
    DiskUsageReport::Entry e;
    std::set<oci::Digest> mine;
    for (const auto& l : image.record.layers) mine.insert(l.chain_id);
    for (const auto& c : mine)
      if (users[c] > 1) e.shared_size += sizes[c];
    e.image = std::move(image);
    report.images.push_back(std::move(e));
  }
  return report;
}

}  // namespace berth::image
