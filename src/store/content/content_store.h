#pragma once

// The content store: immutable blobs addressed by digest, written through ingests. The model is
// containerd's core/content/content.go, split by use so that a function takes the narrowest
// piece it needs (a manifest walker takes a ContentProvider, a puller an Ingester):
//
//   ContentProvider   read a blob: Info, OpenReader
//   Ingester          open a ContentWriter by ingest ref; list, inspect and abort ingests
//   ContentWriter     write bytes, see the digest so far, Commit(size, expected digest)
//   ContentManager    Info, Walk, Delete, Update, Verify over committed blobs
//   ContentStore      all of them
//
// Lifecycle of a blob: Writer(ref) opens or resumes the ingest named ref → Write(...) any number
// of times → Commit(size, digest) checks the size and the digest, makes the bytes durable and
// moves them into the store, where they are visible to readers and never change. An ingest that
// is closed without Commit stays on disk: opening the same ref again resumes at its offset. A
// committed blob is removed only by Delete (called by garbage collection).
//
//   auto w = BERTH_TRY(store.Writer("pull-sha256:ab…", desc));
//   BERTH_TRY(w->Write(chunk));                  // resumes at w->Offset() if interrupted
//   auto r = w->Commit(desc.size, desc.digest);
//   if (!r && !r.error().IsAlreadyExists()) return r.error();   // AlreadyExists: same bytes
//
// Thread safety: every method of a ContentStore may be called from many threads. A
// ContentWriter belongs to one thread at a time; at most one writer is open per ref.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oci/digest.h"
#include "util/result.h"

namespace berth::store::content {

using Labels = std::map<std::string, std::string>;
using Time = std::chrono::system_clock::time_point;

/// What the store knows of a committed blob.
struct Info {
  oci::Digest digest;
  int64_t size = 0;
  Time created_at;
  Time updated_at;
  Labels labels;
};

/// The state of an ingest in progress.
struct Status {
  std::string ref;
  int64_t offset = 0;    // bytes written so far
  int64_t total = 0;     // expected size, 0 if unknown
  oci::Digest expected;  // expected digest, empty if unknown
  Time started_at;
  Time updated_at;
};

/// Random access to one blob. Not thread-safe by itself; open one per reader.
class ReaderAt {
 public:
  virtual ~ReaderAt() = default;
  /// Reads up to buf.size() bytes at offset; returns the count, 0 at or past the end.
  virtual Result<size_t> ReadAt(std::span<std::byte> buf, int64_t offset) = 0;
  virtual int64_t Size() const = 0;
  /// The open file behind the reader, or -1; valid while the reader lives (for sendfile,
  /// copy_file_range, mmap). The reader keeps ownership.
  virtual int fd() const { return -1; }
};

class ContentProvider {
 public:
  virtual ~ContentProvider() = default;
  /// NotFound if no blob has this digest.
  virtual Result<content::Info> Info(const oci::Digest& digest) const = 0;
  /// Opens a committed blob. NotFound if absent. Reads do not rehash: see
  /// ContentManager::Verify.
  virtual Result<std::unique_ptr<ReaderAt>> OpenReader(const oci::Digest& digest) const = 0;
};

class ContentWriter {
 public:
  /// Closes the writer (see Close) if it was neither committed nor closed.
  virtual ~ContentWriter() = default;

  /// Appends data at Offset(). InvalidArgument if the writer was opened with an expected size
  /// and the data goes past it; FailedPrecondition after Commit, Close or Abort.
  virtual Result<void> Write(std::span<const std::byte> data) = 0;
  Result<void> Write(std::string_view data) {
    return Write(std::as_bytes(std::span<const char>(data.data(), data.size())));
  }
  /// The sha256 digest of the bytes written so far.
  virtual Result<oci::Digest> Digest() const = 0;
  /// The number of bytes written so far, resumed bytes included.
  virtual int64_t Offset() const = 0;
  virtual Result<content::Status> Status() const = 0;
  /// Drops everything after size bytes and rehashes what stays (Truncate(0) restarts the
  /// ingest). InvalidArgument if size > Offset().
  virtual Result<void> Truncate(int64_t size) = 0;

  /// Makes the ingest a blob: fsync, check the size (if given) and the digest (if valid; else
  /// the one given to Writer, if any), rename into the store, fsync its directory.
  /// Errors:
  ///  - FailedPrecondition "unexpected commit size: expected N, got M": the ingest is kept and
  ///    the writer stays usable;
  ///  - InvalidArgument "digest mismatch: expected …, got …": the ingest is removed;
  ///  - AlreadyExists: the store has this blob already (another writer won); the ingest is
  ///    removed, the store holds one copy, and callers treat it as success.
  /// After any outcome but FailedPrecondition the writer is finished.
  virtual Result<oci::Digest> Commit(std::optional<int64_t> size, const oci::Digest& expected,
                                     const Labels& labels = {}) = 0;
  /// Releases the ref and keeps the ingest on disk so that a later Writer(ref) resumes it.
  virtual Result<void> Close() = 0;
  /// Releases the ref and removes the ingest.
  virtual Result<void> Abort() = 0;
};

class Ingester {
 public:
  virtual ~Ingester() = default;
  /// Opens the ingest named ref, creating it or resuming it where it stopped (the bytes
  /// already there are rehashed). expected, if given, is the descriptor of the blob to come:
  /// its size bounds writes and its digest is the default for Commit.
  /// Errors: AlreadyExists if expected names a blob the store has (nothing to write);
  /// Unavailable "ref … locked" if another writer has ref open; InvalidArgument for an empty
  /// ref.
  virtual Result<std::unique_ptr<ContentWriter>> Writer(
      std::string_view ref, const std::optional<oci::Descriptor>& expected = std::nullopt) = 0;
  /// The status of the ingest named ref (open or not). NotFound if there is none.
  virtual Result<content::Status> IngestStatus(std::string_view ref) const = 0;
  /// Every ingest on disk.
  virtual Result<std::vector<content::Status>> ListIngests() const = 0;
  /// Removes the ingest named ref. NotFound if there is none; Unavailable if a writer has it
  /// open.
  virtual Result<void> Abort(std::string_view ref) = 0;
};

class ContentManager {
 public:
  virtual ~ContentManager() = default;
  virtual Result<content::Info> Info(const oci::Digest& digest) const = 0;
  /// Calls fn for every committed blob, in no particular order; an error from fn stops the
  /// walk and is returned.
  virtual Result<void> Walk(const std::function<Result<void>(const content::Info&)>& fn) const = 0;
  /// Removes a blob. NotFound if absent. The caller makes sure nothing references it (the
  /// metadata database's GarbageCollect decides that).
  virtual Result<void> Delete(const oci::Digest& digest) = 0;
  /// Replaces the labels of a blob. Labels of record live in the metadata database; a store
  /// that keeps none returns NotImplemented.
  virtual Result<content::Info> Update(const oci::Digest& digest, const Labels& labels) = 0;
  /// Rehashes a blob: DataLoss "blob … is corrupt: …" if its bytes no longer match its name.
  virtual Result<void> Verify(const oci::Digest& digest) const = 0;
};

class ContentStore : public ContentProvider, public Ingester, public ContentManager {
 public:
  // Info is declared by both ContentProvider and ContentManager with the same contract.
  Result<content::Info> Info(const oci::Digest& digest) const override = 0;
};

/// Reads a whole blob into memory: InvalidArgument if it is larger than max_bytes (manifests
/// and configs are small; a registry or a tarball that says otherwise is hostile).
Result<std::string> ReadBlob(const ContentProvider& provider, const oci::Digest& digest,
                             size_t max_bytes = 16u << 20);

}  // namespace berth::store::content
