#pragma once

// BuildCache: the layer cache of the builder — step key → the image the step made.
//
//   <cache_dir>/entries/<key>.json   one record per step, written atomically (rename)
//
// A key is the sha256 of everything the step's result depends on (Key()): the parent image
// id, the instruction as expanded, the build args and env in scope, and for COPY/ADD the
// content digest of the sources (names, modes, owners, contents; never mtimes). The images
// are ordinary untagged images of the store: a record whose image is gone (image prune, rmi)
// is a miss, and is dropped. Records survive restarts: they are read once at construction.
//
// Thread safety: every method may be called from many threads.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "build/builder.h"
#include "util/result.h"

namespace berth::build {

/// What a step's key is made of.
struct CacheKeyInput {
  std::string parent;            // the parent image id ("" for scratch)
  std::string instruction;       // the expanded instruction, as Docker's created_by
  std::vector<std::string> env;  // "K=V" in scope (config Env and build args), in order
  std::string sources;           // COPY/ADD: the digest of the sources ("" otherwise)
  std::string platform;          // reserved; "" today
};

/// The hex sha256 over the fields, each length-prefixed so no two inputs collide.
std::string CacheKey(const CacheKeyInput& in);

class BuildCache {
 public:
  /// Reads the records under dir (made if missing). Unreadable records are skipped.
  explicit BuildCache(std::string dir);

  /// The record for key, or nullopt. Does not check the image (the caller does).
  std::optional<CacheRecord> Lookup(const std::string& key);
  /// Marks a hit: last_used_at and usage_count (written back without fsync).
  void Touch(const std::string& key);
  /// Records a step's result (replacing any record of the key), durably.
  Result<void> Put(CacheRecord record);
  Result<void> Remove(const std::string& key);
  std::vector<CacheRecord> All();
  const std::string& dir() const { return dir_; }

 private:
  Result<void> Write(const CacheRecord& r, bool durable);

  std::string dir_;
  std::mutex mu_;
  std::map<std::string, CacheRecord> records_;  // GUARDED_BY(mu_)
};

}  // namespace berth::build
