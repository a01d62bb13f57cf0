#pragma once

#include "creditwatch/storage/database_error.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace creditwatch::storage {

// One prepared statement. Bind with 1-based indexes, step, read columns (0-based).
class Statement {
public:
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);
  Statement& bind_optional(int index, const std::optional<std::int64_t>& value);

  // True while a row is available; false when done. Throws on error.
  bool step();
  // Runs to completion and resets so the statement can be reused.
  void run();
  void reset();

  std::int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::string blob(int column) const;
  bool is_null(int column) const;

private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  sqlite3* m_db;
  std::unique_ptr<sqlite3_stmt, Finalizer> m_stmt;
};

// An open SQLite connection in WAL mode with a busy timeout.
class Database {
public:
  explicit Database(const std::string& path);

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql) { return Statement(m_db.get(), sql); }
  // A prepared statement kept for reuse, reset and unbound; valid while the Database lives.
  // Not thread-safe: callers serialise access (Store holds its mutex).
  Statement& cached(const std::string& sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;
  // Caps the database at about `bytes` (SQLite's max_page_count, for this connection);
  // 0 lifts the cap. Writes that would grow it past the cap fail with SQLITE_FULL.
  void set_max_size(std::uint64_t bytes);
  sqlite3* handle() { return m_db.get(); }

private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, Closer> m_db;
  std::map<std::string, Statement> m_cache;  // destroyed before m_db (declared after it)
};

// BEGIN IMMEDIATE on construction; rolls back unless commit() was called.
class Transaction {
public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

private:
  Database& m_db;
  bool m_done = false;
};

// While it lives, commits on `db` wait until the WAL is on disk (synchronous=FULL), so what
// they wrote survives a power loss, not only a crash of the process; afterwards the
// connection is back at NORMAL, which syncs at checkpoints only. Create it before the
// Transaction it covers. Costs an fsync per commit (docs/benchmarks.md).
class DurableCommits {
public:
  explicit DurableCommits(Database& db);
  ~DurableCommits();
  DurableCommits(const DurableCommits&) = delete;
  DurableCommits& operator=(const DurableCommits&) = delete;

private:
  Database& m_db;
};

std::string sqlite_version_text();

}  // namespace creditwatch::storage
