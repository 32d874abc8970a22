#pragma once

// A thin RAII layer over the SQLite C API for store/meta: prepared statements that bind and read
// Berth's types, and SQLite result codes turned into Error codes.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "oci/digest.h"
#include "util/result.h"

namespace berth::store::meta::internal {

/// rc (an extended result code) as an Error: BUSY/LOCKED → Unavailable, unique and primary key
/// constraints → AlreadyExists, other constraints (foreign keys, checks) → FailedPrecondition,
/// CORRUPT/NOTADB → DataLoss, anything else → Internal.
Error SqliteError(sqlite3* db, int rc, std::string_view context);

/// Runs SQL without results (one or more statements).
Result<void> Exec(sqlite3* db, const char* sql);

class Stmt {
 public:
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }

  // Parameters are 1-based, as in SQL. An empty digest binds NULL.
  Stmt& Bind(int i, std::string_view text);
  Stmt& Bind(int i, const char* text) { return Bind(i, std::string_view(text)); }
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, const oci::Digest& d);
  Stmt& BindNull(int i);

  /// Steps once: true if a row is ready, false when done.
  Result<bool> Step();
  /// Steps to the end, ignoring rows.
  Result<void> Run();
  /// Rewinds for another execution, keeping nothing bound.
  void Reset();

  // Columns are 0-based.
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  /// A digest column; NULL gives an empty digest, a malformed value a DataLoss error.
  Result<oci::Digest> DigestAt(int col) const;

 private:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  sqlite3* db_;
  sqlite3_stmt* s_;
};

}  // namespace berth::store::meta::internal
