#include "store/meta/schema.h"

#include <iterator>
#include <string>

#include "store/meta/sqlite_internal.h"

namespace berth::store::meta {

namespace {

constexpr const char* kMigrations[] = {
    // 0 → 1: images, tags, layers, blobs.
    R"sql(
CREATE TABLE layers (
  chain_id        TEXT PRIMARY KEY NOT NULL,
  diff_id         TEXT NOT NULL,
  parent_chain_id TEXT REFERENCES layers(chain_id),
  blob_digest     TEXT,
  media_type      TEXT NOT NULL DEFAULT '',
  size            INTEGER NOT NULL DEFAULT 0,
  unpacked_size   INTEGER NOT NULL DEFAULT 0,
  created         TEXT NOT NULL DEFAULT '',
  state           TEXT NOT NULL DEFAULT 'complete' CHECK (state IN ('pending', 'complete'))
);
CREATE INDEX layers_parent ON layers(parent_chain_id);
CREATE TABLE images (
  id              TEXT PRIMARY KEY NOT NULL,
  manifest_digest TEXT,
  media_type      TEXT NOT NULL DEFAULT '',
  os              TEXT NOT NULL DEFAULT '',
  architecture    TEXT NOT NULL DEFAULT '',
  variant         TEXT NOT NULL DEFAULT '',
  size            INTEGER NOT NULL DEFAULT 0,
  created         TEXT NOT NULL DEFAULT '',
  labels          TEXT NOT NULL DEFAULT '{}',
  state           TEXT NOT NULL DEFAULT 'complete' CHECK (state IN ('pending', 'complete'))
);
CREATE TABLE image_layers (
  image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  idx         INTEGER NOT NULL,
  chain_id    TEXT NOT NULL REFERENCES layers(chain_id),
  diff_id     TEXT NOT NULL,
  blob_digest TEXT,
  PRIMARY KEY (image_id, idx)
);
CREATE INDEX image_layers_chain ON image_layers(chain_id);
CREATE TABLE image_blobs (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  digest   TEXT NOT NULL,
  PRIMARY KEY (image_id, digest)
);
CREATE TABLE tags (
  name     TEXT PRIMARY KEY NOT NULL,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX tags_image ON tags(image_id);
CREATE TABLE blobs (
  digest     TEXT PRIMARY KEY NOT NULL,
  size       INTEGER NOT NULL DEFAULT 0,
  media_type TEXT NOT NULL DEFAULT '',
  created    TEXT NOT NULL DEFAULT ''
);
)sql",
    // 1 → 2: when an image was last tagged (Docker's Metadata.LastTagTime).
    R"sql(
ALTER TABLE images ADD COLUMN last_tag_time TEXT NOT NULL DEFAULT '';
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

Result<int> ReadVersion(sqlite3* db) {
  auto has = BERTH_TRY(internal::Stmt::Prepare(
      db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"));
  if (!BERTH_TRY(has.Step())) return 0;
  auto q = BERTH_TRY(internal::Stmt::Prepare(db, "SELECT version FROM schema_version"));
  if (!BERTH_TRY(q.Step())) return Error::DataLoss("metadata database: schema_version has no row");
  int v = static_cast<int>(q.Int(0));
  if (BERTH_TRY(q.Step()))
    return Error::DataLoss("metadata database: schema_version has several rows");
  return v;
}

Result<int> MigrateLocked(sqlite3* db) {
  int v = BERTH_TRY(ReadVersion(db));
  if (v > kLatest)
    return Error::FailedPrecondition("metadata database schema version " + std::to_string(v) +
                                     " is newer than this berthd's (" + std::to_string(kLatest) +
                                     ")");
  if (v < 0) return Error::DataLoss("metadata database: schema version " + std::to_string(v));
  if (v == kLatest) return v;
  if (v == 0)
    BERTH_TRY(internal::Exec(db, "CREATE TABLE schema_version (version INTEGER NOT NULL)"));
  for (int i = v; i < kLatest; ++i)
    BERTH_TRY_CTX(internal::Exec(db, kMigrations[i]),
                  "migrate schema to version " + std::to_string(i + 1));
  auto del = BERTH_TRY(internal::Stmt::Prepare(db, "DELETE FROM schema_version"));
  BERTH_TRY(del.Run());
  auto ins = BERTH_TRY(internal::Stmt::Prepare(db, "INSERT INTO schema_version VALUES (?)"));
  BERTH_TRY(ins.Bind(1, int64_t{kLatest}).Run());
  return kLatest;
}

}  // namespace

int LatestSchemaVersion() { return kLatest; }

Result<int> MigrateSchema(sqlite3* db) {
  BERTH_TRY(internal::Exec(db, "BEGIN IMMEDIATE"));
  auto r = MigrateLocked(db);
  if (!r) {
    (void)internal::Exec(db, "ROLLBACK");
    return r;
  }
  if (auto c = internal::Exec(db, "COMMIT"); !c) {
    (void)internal::Exec(db, "ROLLBACK");
    return std::move(c).error();
  }
  return r;
}

}  // namespace berth::store::meta
