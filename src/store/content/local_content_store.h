#pragma once

// LocalContentStore: the content store on the local filesystem, over store::Layout.
//
//   ingest/<sha256(ref)>/data  ──Commit: fsync, check size and digest, chmod 0444──┐
//                                        renameat2(RENAME_NOREPLACE), fsync blobs/sha256/
//   blobs/sha256/<hex>  <─────────────────────────────────────────────────────────┘
//
// containerd's plugins/content/local: a blob is visible only once complete and verified, and
// the no-replace rename makes two writers of the same blob end with one copy (the second one
// gets AlreadyExists). Open ingests are locked in memory, per ref; another process must not
// share the root (berthd holds a lock on it).

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "store/content/content_store.h"
#include "store/layout.h"

namespace berth::store::content {

class LocalContentStore final : public ContentStore {
 public:
  /// Creates blobs/ and ingest/ under the layout if needed.
  static Result<std::unique_ptr<LocalContentStore>> Open(const Layout& layout);

  Result<content::Info> Info(const oci::Digest& digest) const override;
  Result<std::unique_ptr<ReaderAt>> OpenReader(const oci::Digest& digest) const override;

  Result<std::unique_ptr<ContentWriter>> Writer(
      std::string_view ref, const std::optional<oci::Descriptor>& expected) override;
  Result<content::Status> IngestStatus(std::string_view ref) const override;
  Result<std::vector<content::Status>> ListIngests() const override;
  Result<void> Abort(std::string_view ref) override;

  Result<void> Walk(const std::function<Result<void>(const content::Info&)>& fn) const override;
  Result<void> Delete(const oci::Digest& digest) override;
  /// NotImplemented: labels live in the metadata database.
  Result<content::Info> Update(const oci::Digest& digest, const Labels& labels) override;
  Result<void> Verify(const oci::Digest& digest) const override;

  /// Removes the ingests not open now that started more than max_age ago, and any ingest
  /// directory too damaged to read (no ref file); called once at start. Returns how many were
  /// removed.
  Result<int> CleanIngests(std::chrono::seconds max_age);

  const Layout& layout() const { return layout_; }

  // For LocalWriter: releases a ref taken by Writer.
  void UnlockRef(const std::string& ref);

 private:
  explicit LocalContentStore(Layout layout) : layout_(std::move(layout)) {}
  Result<content::Status> ReadIngestStatus(const std::string& key) const;
  bool RefLocked(const std::string& ref) const;

  const Layout layout_;
  mutable std::mutex mu_;
  std::set<std::string> locked_refs_;  // guarded by mu_
};

}  // namespace berth::store::content
