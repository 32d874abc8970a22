#pragma once

// Snapshots: the filesystems layers are unpacked into and containers run on, with containerd's
// words and semantics (core/snapshots/snapshotter.go). A key names an active (writable) or view
// (read-only) snapshot; Commit turns an active snapshot into a committed one under a name;
// committed snapshots are immutable and are the only ones that may be parents. A snapshotter
// never mounts anything: Prepare, View and Mounts return mount descriptions that the caller
// (the runtime, an unpacker in a private mount namespace) performs.
//
//   auto m = BERTH_TRY(sn.Prepare("extract-1", parent_chain_id));
//   ... unpack the layer into the snapshot ...
//   BERTH_TRY(sn.Commit(chain_id, "extract-1"));

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::store::snapshot {

enum class Kind { kView, kActive, kCommitted };
std::string_view KindName(Kind kind);  // "view", "active", "committed"

using Labels = std::map<std::string, std::string>;

struct Info {
  std::string name;    // the key (active, view) or name (committed)
  std::string parent;  // a committed snapshot's name, or empty
  Kind kind = Kind::kActive;
  Labels labels;
  int64_t created_unix_nano = 0;
  int64_t updated_unix_nano = 0;
};

/// Disk use of the snapshot's own changes, not of its parents (containerd's Usage).
struct DiskUsage {
  int64_t size = 0;    // bytes of allocated blocks
  int64_t inodes = 0;  // each hard-linked inode counted once
};

/// One mount to perform, as containerd's core/mount.Mount: mount(source, target, type,
/// options). target is left empty: the caller chooses where.
struct Mount {
  std::string type;    // "overlay" or "bind"
  std::string source;  // a directory, or "overlay"
  std::string target;
  std::vector<std::string> options;

  bool operator==(const Mount&) const = default;
};

class Snapshotter {
 public:
  virtual ~Snapshotter() = default;

  /// NotFound if there is no snapshot key.
  virtual Result<Info> Stat(const std::string& key) = 0;
  /// For an active snapshot computed now; for a committed one, as measured at commit.
  virtual Result<DiskUsage> Usage(const std::string& key) = 0;
  /// The mounts of an active or view snapshot; FailedPrecondition for a committed one.
  virtual Result<std::vector<Mount>> Mounts(const std::string& key) = 0;
  /// A new writable snapshot over parent (a committed name, or empty for an empty one).
  /// AlreadyExists if key exists; NotFound or FailedPrecondition for a bad parent.
  virtual Result<std::vector<Mount>> Prepare(const std::string& key, const std::string& parent,
                                             const Labels& labels = {}) = 0;
  /// A new read-only snapshot of parent.
  virtual Result<std::vector<Mount>> View(const std::string& key, const std::string& parent,
                                          const Labels& labels = {}) = 0;
  /// Turns the active snapshot key into the committed snapshot name; key is gone afterwards.
  virtual Result<void> Commit(const std::string& name, const std::string& key,
                              const Labels& labels = {}) = 0;
  /// Removes an active, view or committed snapshot; FailedPrecondition if it has children.
  virtual Result<void> Remove(const std::string& key) = 0;
  /// Calls fn for every snapshot, in key order; an error from fn stops the walk and is returned.
  virtual Result<void> Walk(const std::function<Result<void>(const Info&)>& fn) = 0;
};

/// The chain id of a layer over a parent chain, as the OCI image spec (config.md) defines it:
/// the diff id itself for a base layer (empty parent), else
/// "sha256:" + hex(sha256(parent_chain + " " + diff_id)). Both must be valid digests.
Result<std::string> ChainId(std::string_view parent_chain, std::string_view diff_id);
/// The chain id of the top of a stack of layers, bottom first; InvalidArgument if empty.
Result<std::string> ChainId(const std::vector<std::string>& diff_ids);

}  // namespace berth::store::snapshot
