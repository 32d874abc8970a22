// Tx::GarbageCollect: mark from the roots, sweep what the database or the disk holds unmarked.

#include "store/meta/metadata_db.h"
#include "store/meta/sqlite_internal.h"

namespace berth::store::meta {

using internal::Exec;
using internal::Stmt;

namespace {

// Live layers: those images list, and their ancestors.
constexpr const char* kLiveLayers = R"sql(
WITH RECURSIVE live(chain_id) AS (
  SELECT chain_id FROM image_layers
  UNION
  SELECT l.parent_chain_id FROM layers l JOIN live ON l.chain_id = live.chain_id
  WHERE l.parent_chain_id IS NOT NULL)
INSERT INTO temp.gc_live_layers SELECT chain_id FROM live)sql";

constexpr const char* kLiveBlobs = R"sql(
INSERT OR IGNORE INTO temp.gc_live_blobs
  SELECT id FROM images
  UNION SELECT manifest_digest FROM images WHERE manifest_digest IS NOT NULL
  UNION SELECT digest FROM image_blobs
  UNION SELECT blob_digest FROM image_layers WHERE blob_digest IS NOT NULL
  UNION SELECT blob_digest FROM layers
        WHERE blob_digest IS NOT NULL AND chain_id IN (SELECT chain_id FROM temp.gc_live_layers))sql";

Result<void> Fill(sqlite3* db, const char* table, std::span<const oci::Digest> digests) {
  auto q = BERTH_TRY(
      Stmt::Prepare(db, std::string("INSERT OR IGNORE INTO temp.") + table + " VALUES (?)"));
  for (const oci::Digest& d : digests) {
    BERTH_TRY(q.Bind(1, d).Run());
    q.Reset();
  }
  return {};
}

Result<std::vector<oci::Digest>> Column(sqlite3* db, const char* sql) {
  std::vector<oci::Digest> out;
  auto q = BERTH_TRY(Stmt::Prepare(db, sql));
  while (BERTH_TRY(q.Step())) out.push_back(BERTH_TRY(q.DigestAt(0)));
  return out;
}

Result<GcResult> Collect(sqlite3* db, std::span<const oci::Digest> blobs_on_disk,
                         std::span<const oci::Digest> layers_on_disk) {
  BERTH_TRY(Fill(db, "gc_disk_blobs", blobs_on_disk));
  BERTH_TRY(Fill(db, "gc_disk_layers", layers_on_disk));
  BERTH_TRY(Exec(db, kLiveLayers));
  BERTH_TRY(Exec(db, kLiveBlobs));
  GcResult out;
  out.chain_ids = BERTH_TRY(Column(db, R"sql(
SELECT chain_id FROM (SELECT chain_id FROM layers UNION SELECT chain_id FROM temp.gc_disk_layers)
WHERE chain_id NOT IN (SELECT chain_id FROM temp.gc_live_layers) ORDER BY chain_id)sql"));
  out.blobs = BERTH_TRY(Column(db, R"sql(
SELECT digest FROM (SELECT digest FROM blobs UNION SELECT digest FROM temp.gc_disk_blobs)
WHERE digest NOT IN (SELECT digest FROM temp.gc_live_blobs) ORDER BY digest)sql"));
  // One statement each: foreign keys are checked at its end, so a dead child and its dead
  // parent go together.
  BERTH_TRY(Exec(db,
                 "DELETE FROM layers WHERE chain_id NOT IN (SELECT chain_id FROM "
                 "temp.gc_live_layers)"));
  BERTH_TRY(
      Exec(db, "DELETE FROM blobs WHERE digest NOT IN (SELECT digest FROM temp.gc_live_blobs)"));
  return out;
}

}  // namespace

Result<GcResult> Tx::GarbageCollect(std::span<const oci::Digest> blobs_on_disk,
                                    std::span<const oci::Digest> layers_on_disk) {
  BERTH_TRY(CheckWritable("garbage collect"));
  BERTH_TRY(Exec(db_, R"sql(
CREATE TEMP TABLE IF NOT EXISTS gc_live_layers (chain_id TEXT PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS gc_live_blobs (digest TEXT PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS gc_disk_layers (chain_id TEXT PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS gc_disk_blobs (digest TEXT PRIMARY KEY);
DELETE FROM temp.gc_live_layers; DELETE FROM temp.gc_live_blobs;
DELETE FROM temp.gc_disk_layers; DELETE FROM temp.gc_disk_blobs;)sql"));
  auto r = Collect(db_, blobs_on_disk, layers_on_disk);
  // The temp tables outlive the transaction on this connection: empty them either way.
  (void)Exec(db_,
             "DELETE FROM temp.gc_live_layers; DELETE FROM temp.gc_live_blobs; "
             "DELETE FROM temp.gc_disk_layers; DELETE FROM temp.gc_disk_blobs;");
  return r;
}

}  // namespace berth::store::meta
