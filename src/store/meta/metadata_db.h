#pragma once

// MetadataDb: images, tags, layers and the blobs they reference, in SQLite (berth.db, WAL).
// The schema is drawn in store/meta/schema.h.
//
// Every change of state is one transaction: Write(fn) runs fn inside BEGIN IMMEDIATE … COMMIT;
// an error from fn (or from COMMIT) rolls everything back. Read(fn) sees one consistent
// snapshot. containerd's DB.View and DB.Update.
//
//   BERTH_TRY(db->Write([&](Tx& tx) -> Result<void> {
//     BERTH_TRY(tx.PutLayer(base));
//     BERTH_TRY(tx.PutImage(image));
//     BERTH_TRY(tx.SetTag("docker.io/library/busybox:latest", image.id));
//     return {};
//   }));
//
// Files and rows: a writer records rows as 'pending' before it makes their files (blobs,
// layer directories), and marks them complete after the files are durable; RecoverAtStart
// lists what a crash left pending. Deleting goes the other way: GarbageCollect removes the
// rows in a transaction and returns what they named; the caller deletes the files after the
// transaction commits. A file without a row is garbage too (pass it to GarbageCollect).
//
// Thread safety: MetadataDb is thread-safe; transactions are serialized. A Tx is valid only
// inside its fn. REQUIRES: fn does not call Read or Write itself (it would deadlock).

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oci/digest.h"
#include "util/result.h"

namespace berth::store::meta {

enum class RecordState { kPending, kComplete };

struct ImageLayer {
  oci::Digest chain_id;
  oci::Digest diff_id;
  oci::Digest blob_digest;  // the (compressed) layer blob this image's manifest names
};

struct ImageRecord {
  oci::Digest id;               // config digest
  oci::Digest manifest_digest;  // empty if the image has no manifest of record
  std::string media_type;       // of that manifest
  std::string os;
  std::string architecture;
  std::string variant;
  int64_t size = 0;
  std::string created;  // RFC 3339
  std::map<std::string, std::string> labels;
  std::vector<ImageLayer> layers;  // base first
  std::vector<oci::Digest> blobs;  // other blobs kept alive by the image (index, attestation)
  RecordState state = RecordState::kComplete;
  std::string last_tag_time;  // RFC 3339 with nanoseconds, set by SetTag; empty if never tagged
};

struct LayerRecord {
  oci::Digest chain_id;
  oci::Digest diff_id;
  oci::Digest parent;       // empty for a base layer
  oci::Digest blob_digest;  // empty if not unpacked from a blob (built, committed)
  std::string media_type;
  int64_t size = 0;  // of the blob
  int64_t unpacked_size = 0;
  std::string created;
  RecordState state = RecordState::kComplete;
};

/// Who holds a layer: images that list it, and layers whose parent it is.
struct LayerRefs {
  std::vector<oci::Digest> images;
  std::vector<oci::Digest> children;
  size_t count() const { return images.size() + children.size(); }
};

/// What GarbageCollect removed from the database: the caller deletes these files.
struct GcResult {
  std::vector<oci::Digest> blobs;      // blobs/<alg>/<hex>
  std::vector<oci::Digest> chain_ids;  // layers/<chain-id-hex>
};

/// Rows a crash left 'pending'.
struct PendingRecords {
  std::vector<oci::Digest> images;
  std::vector<oci::Digest> layers;
};

class Tx {
 public:
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;

  bool writable() const { return writable_; }

  // Images. PutImage inserts or replaces the image with this id, its layers and its blobs;
  // its tags stay. FailedPrecondition if a layer it names has no row (put layers first).
  Result<void> PutImage(const ImageRecord& image);
  /// NotFound "image sha256:…: not found".
  Result<ImageRecord> GetImage(const oci::Digest& id);
  Result<std::vector<ImageRecord>> ListImages();
  /// Removes the image with its tags. NotFound if absent. Its layers and blobs stay until
  /// GarbageCollect (another image may share them).
  Result<void> DeleteImage(const oci::Digest& id);
  Result<void> SetImageState(const oci::Digest& id, RecordState state);
  /// The images that list the layer (directly, not through a child).
  Result<std::vector<oci::Digest>> ImagesByLayer(const oci::Digest& chain_id);

  // Tags: a full reference name names one image. SetTag moves an existing tag and returns the
  // image it named before, if another. NotFound if the image has no row.
  /// Also sets the image's last_tag_time to now.
  Result<std::optional<oci::Digest>> SetTag(const std::string& name, const oci::Digest& image);
  /// NotFound "tag …: not found".
  Result<void> RemoveTag(const std::string& name);
  Result<oci::Digest> ResolveTag(const std::string& name);
  Result<std::vector<std::string>> TagsOf(const oci::Digest& image);
  /// Every tag → image, sorted by name.
  Result<std::vector<std::pair<std::string, oci::Digest>>> ListTags();

  // Layers. PutLayer inserts or replaces; FailedPrecondition if the parent has no row.
  Result<void> PutLayer(const LayerRecord& layer);
  Result<LayerRecord> GetLayer(const oci::Digest& chain_id);
  Result<std::vector<LayerRecord>> ListLayers();
  Result<void> SetLayerState(const oci::Digest& chain_id, RecordState state);
  /// FailedPrecondition while an image or a child layer references it; NotFound if absent.
  Result<void> DeleteLayer(const oci::Digest& chain_id);
  Result<LayerRefs> LayerReferences(const oci::Digest& chain_id);

  // Blobs the engine knows about (for GC): recorded when committed to the content store.
  Result<void> PutBlob(const oci::Digest& digest, int64_t size, const std::string& media_type);
  Result<std::vector<oci::Digest>> ListBlobs();

  /// Marks from the roots (every image row, pending ones included, so that an image being
  /// written keeps its blobs; tags name images; containers will be roots too): their configs,
  /// manifests, blobs, layers and the layers' parents and blobs. Everything else that the
  /// database records, or that the caller found on disk (blobs_on_disk, layers_on_disk), is
  /// unreferenced: its rows are deleted and it is returned. REQUIRES: a write transaction.
  Result<GcResult> GarbageCollect(std::span<const oci::Digest> blobs_on_disk = {},
                                  std::span<const oci::Digest> layers_on_disk = {});

  /// The image and layer rows in state 'pending'.
  Result<PendingRecords> ListPending();

 private:
  friend class MetadataDb;
  Tx(sqlite3* db, bool writable) : db_(db), writable_(writable) {}
  Result<void> CheckWritable(const char* what) const;

  sqlite3* db_;
  bool writable_;
};

class MetadataDb {
 public:
  /// Opens or creates the database at path: WAL journal, synchronous=FULL, foreign keys on,
  /// a busy timeout; checks its integrity (quick_check) and its schema version, and migrates
  /// an older schema. Errors: FailedPrecondition for a schema newer than this build; DataLoss
  /// for a damaged file.
  static Result<std::unique_ptr<MetadataDb>> Open(const std::string& path);
  ~MetadataDb();

  Result<void> Read(const std::function<Result<void>(Tx&)>& fn);
  Result<void> Write(const std::function<Result<void>(Tx&)>& fn);

  /// The rows a crash left pending, for the caller to remove their files and then their rows
  /// (DeleteImage, DeleteLayer). Call once at start, before serving.
  Result<PendingRecords> RecoverAtStart();

  int schema_version() const { return schema_version_; }

 private:
  MetadataDb(sqlite3* db, int version) : db_(db), schema_version_(version) {}
  Result<void> Run(bool writable, const std::function<Result<void>(Tx&)>& fn);

  std::mutex mu_;
  sqlite3* db_;  // guarded by mu_
  int schema_version_;
};

}  // namespace berth::store::meta
