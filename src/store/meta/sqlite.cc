#include "store/meta/sqlite_internal.h"

namespace berth::store::meta::internal {

Error SqliteError(sqlite3* db, int rc, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Error::AlreadyExists(std::move(msg));
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::Unavailable(std::move(msg));
    case SQLITE_CONSTRAINT:
      return Error::FailedPrecondition(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error::DataLoss(std::move(msg));
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return Error::PermissionDenied(std::move(msg));
    default:
      return Error::Internal(std::move(msg));
  }
}

Result<void> Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteError(db, sqlite3_extended_errcode(db), "sql");
  return {};
}

Result<Stmt> Stmt::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "prepare");
  return Stmt(db, s);
}

Stmt& Stmt::Bind(int i, std::string_view text) {
  sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::Bind(int i, const oci::Digest& d) {
  return d.valid() ? Bind(i, std::string_view(d.str())) : BindNull(i);
}

Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, sqlite3_extended_errcode(db_), "step");
}

Result<void> Stmt::Run() {
  while (BERTH_TRY(Step())) {
  }
  return {};
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col));
}

Result<oci::Digest> Stmt::DigestAt(int col) const {
  if (IsNull(col)) return oci::Digest();
  auto d = oci::Digest::Parse(Text(col));
  if (!d) return Error::DataLoss("metadata database: " + d.error().message());
  return d;
}

}  // namespace berth::store::meta::internal
