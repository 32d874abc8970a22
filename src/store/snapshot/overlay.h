#pragma once

// The overlayfs snapshotter (containerd's plugins/snapshots/overlay, rewritten):
//
//   <root>/metadata.json         every snapshot: key, id, kind, parent, labels, times, usage;
//                                replaced atomically (temp file, fsync, rename) on each change
//   <root>/snapshots/<id>/fs     the snapshot's own files: an overlay upperdir while active,
//                                a lowerdir of its children once committed
//   <root>/snapshots/<id>/work   the overlay workdir of an active snapshot
//
// A snapshot's directory is made before its metadata is written and removed after it is
// dropped from the metadata, so a crash leaves at worst a directory no record names: Recover()
// (run by Open) removes those.

#include <memory>
#include <mutex>
#include <string>

#include "store/snapshot/snapshotter.h"

namespace berth::store::snapshot {

class OverlaySnapshotter : public Snapshotter {
 public:
  /// Opens (creating if needed) a snapshotter rooted at root and recovers it.
  static Result<std::unique_ptr<OverlaySnapshotter>> Open(const std::string& root);

  Result<Info> Stat(const std::string& key) override;
  Result<DiskUsage> Usage(const std::string& key) override;
  Result<std::vector<Mount>> Mounts(const std::string& key) override;
  Result<std::vector<Mount>> Prepare(const std::string& key, const std::string& parent,
                                     const Labels& labels = {}) override;
  Result<std::vector<Mount>> View(const std::string& key, const std::string& parent,
                                  const Labels& labels = {}) override;
  Result<void> Commit(const std::string& name, const std::string& key,
                      const Labels& labels = {}) override;
  Result<void> Remove(const std::string& key) override;
  Result<void> Walk(const std::function<Result<void>(const Info&)>& fn) override;

  /// Makes parent (a committed snapshot, or empty) the parent of the active snapshot key, which
  /// must have no children. For a layer unpacked before its place in a chain was known (a load
  /// meets layers before the manifest that orders them): an overlay layer's own files never
  /// depend on its parent's. NotFound, FailedPrecondition as Prepare.
  Result<void> Rebase(const std::string& key, const std::string& parent);

  /// Removes snapshot directories that no record names (what a crash between making a
  /// directory and recording it leaves), and records whose directory is gone.
  Result<void> Recover();

  /// The snapshot's own files: where a layer is unpacked into an active snapshot before it is
  /// committed (the overlay upperdir), or a committed snapshot's contents.
  Result<std::string> FsDir(const std::string& key);

  const std::string& root() const { return root_; }

 private:
  struct Record {
    std::string id;
    Kind kind = Kind::kActive;
    std::string parent;
    Labels labels;
    int64_t created = 0;
    int64_t updated = 0;
    DiskUsage usage;
  };

  explicit OverlaySnapshotter(std::string root) : root_(std::move(root)) {}
  Result<void> Load();
  Result<void> Save();  // REQUIRES: mu_ held
  Result<std::vector<Mount>> Create(Kind kind, const std::string& key, const std::string& parent,
                                    const Labels& labels);
  Result<std::vector<Mount>> MountsLocked(const std::string& key, const Record& r);
  std::string SnapshotDir(const std::string& id) const;
  Result<void> RecoverLocked();

  const std::string root_;
  std::mutex mu_;
  std::map<std::string, Record> records_;  // GUARDED_BY(mu_)
  uint64_t next_id_ = 1;                   // GUARDED_BY(mu_)
};

}  // namespace berth::store::snapshot
