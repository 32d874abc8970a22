#include "store/meta/metadata_db.h"

#include "store/meta/schema.h"
#include "store/meta/sqlite_internal.h"

namespace berth::store::meta {

using internal::Exec;
using internal::SqliteError;
using internal::Stmt;

namespace {

constexpr int kBusyTimeoutMs = 5000;

Result<void> Configure(sqlite3* db, const std::string& path) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // WAL: readers do not block the writer. FULL: a committed transaction survives a power
  // loss, since the caller deletes files once the commit returns.
  BERTH_TRY_CTX(Exec(db, "PRAGMA journal_mode = WAL"), "open " + path);
  BERTH_TRY_CTX(Exec(db, "PRAGMA synchronous = FULL"), "open " + path);
  BERTH_TRY_CTX(Exec(db, "PRAGMA foreign_keys = ON"), "open " + path);
  auto check = BERTH_TRY_CTX(Stmt::Prepare(db, "PRAGMA quick_check"), "open " + path);
  if (!BERTH_TRY_CTX(check.Step(), "check " + path))
    return Error::DataLoss("check " + path + ": no result");
  if (std::string r = check.Text(0); r != "ok") return Error::DataLoss("check " + path + ": " + r);
  return {};
}

}  // namespace

Result<std::unique_ptr<MetadataDb>> MetadataDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = SqliteError(db, rc, "open " + path);
    sqlite3_close(db);
    return e;
  }
  auto ready = [&]() -> Result<int> {
    BERTH_TRY(Configure(db, path));
    return BERTH_TRY_CTX(MigrateSchema(db), "open " + path);
  }();
  if (!ready) {
    sqlite3_close(db);
    return std::move(ready).error();
  }
  return std::unique_ptr<MetadataDb>(new MetadataDb(db, *ready));
}

MetadataDb::~MetadataDb() { sqlite3_close(db_); }

Result<void> MetadataDb::Run(bool writable, const std::function<Result<void>(Tx&)>& fn) {
  std::lock_guard lock(mu_);
  BERTH_TRY(Exec(db_, writable ? "BEGIN IMMEDIATE" : "BEGIN"));
  Tx tx(db_, writable);
  Result<void> r = fn(tx);
  if (r) r = Exec(db_, "COMMIT");
  if (!r && !sqlite3_get_autocommit(db_)) (void)Exec(db_, "ROLLBACK");
  return r;
}

Result<void> MetadataDb::Read(const std::function<Result<void>(Tx&)>& fn) { return Run(false, fn); }

Result<void> MetadataDb::Write(const std::function<Result<void>(Tx&)>& fn) { return Run(true, fn); }

Result<PendingRecords> MetadataDb::RecoverAtStart() {
  PendingRecords out;
  BERTH_TRY(Read([&](Tx& tx) -> Result<void> {
    out = BERTH_TRY(tx.ListPending());
    return {};
  }));
  return out;
}

Result<void> Tx::CheckWritable(const char* what) const {
  if (!writable_) return Error::FailedPrecondition(std::string(what) + ": read-only transaction");
  return {};
}

Result<PendingRecords> Tx::ListPending() {
  PendingRecords out;
  auto q = BERTH_TRY(Stmt::Prepare(db_, "SELECT id FROM images WHERE state = 'pending'"));
  while (BERTH_TRY(q.Step())) out.images.push_back(BERTH_TRY(q.DigestAt(0)));
  auto l = BERTH_TRY(Stmt::Prepare(db_, "SELECT chain_id FROM layers WHERE state = 'pending'"));
  while (BERTH_TRY(l.Step())) out.layers.push_back(BERTH_TRY(l.DigestAt(0)));
  return out;
}

}  // namespace berth::store::meta
