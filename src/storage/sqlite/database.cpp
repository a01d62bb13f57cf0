#include "creditwatch/storage/sqlite/database.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace creditwatch::storage {
namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw DatabaseError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"),
                      db ? sqlite3_errcode(db) : SQLITE_NOMEM);
}

// SQLite's own default ceiling (SQLITE_MAX_PAGE_COUNT before 3.45): "no cap" for us.
constexpr std::int64_t k_unlimited_pages = 1073741823;

// How long a connection waits for another one's lock before SQLITE_BUSY.
constexpr auto k_busy_timeout = std::chrono::milliseconds(5000);

// Switching a new file to WAL takes an exclusive lock that SQLite does not wait for with the
// busy handler: a second process opening the same new file at that moment (`check` racing a
// first `run`) would get SQLITE_BUSY at once. So wait here, as long as the busy timeout.
void enter_wal_mode(Database& db) {
  const auto deadline = std::chrono::steady_clock::now() + k_busy_timeout;
  while (true) {
    try {
      db.exec("PRAGMA journal_mode=WAL");
      return;
    } catch (const DatabaseError& e) {
      if (e.code() != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

void Statement::Finalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
void Database::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

Statement::Statement(sqlite3* db, std::string_view sql) : m_db(db) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
      SQLITE_OK) {
    fail(db, "prepare failed");
  }
  m_stmt.reset(raw);
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(m_stmt.get(), index, value);
  return *this;
}
Statement& Statement::bind(int index, double value) {
  sqlite3_bind_double(m_stmt.get(), index, value);
  return *this;
}
Statement& Statement::bind(int index, std::string_view value) {
  sqlite3_bind_text(m_stmt.get(), index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob(m_stmt.get(), index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(m_stmt.get(), index);
  return *this;
}
Statement& Statement::bind_optional(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

bool Statement::step() {
  int rc = sqlite3_step(m_stmt.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string message = sqlite3_errmsg(m_db);
  const int code = sqlite3_errcode(m_db);
  sqlite3_reset(m_stmt.get());
  throw DatabaseError("query failed: " + message, code);
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(m_stmt.get());
  sqlite3_clear_bindings(m_stmt.get());
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(m_stmt.get(), column); }
double Statement::real(int column) const { return sqlite3_column_double(m_stmt.get(), column); }
bool Statement::is_null(int column) const { return sqlite3_column_type(m_stmt.get(), column) == SQLITE_NULL; }
std::string Statement::blob(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(m_stmt.get(), column));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt.get(), column))) : std::string();
}

std::string Statement::text(int column) const {
  auto* p = sqlite3_column_text(m_stmt.get(), column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt.get(), column)))
           : std::string();
}

Database::Database(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  m_db.reset(raw);
  if (rc != SQLITE_OK) fail(raw, "cannot open database " + path);
  sqlite3_busy_timeout(raw, static_cast<int>(k_busy_timeout.count()));
  enter_wal_mode(*this);
  exec("PRAGMA synchronous=NORMAL");
  exec("PRAGMA foreign_keys=ON");
}

void Database::exec(std::string_view sql) {
  char* error = nullptr;
  std::string text(sql);
  if (const int rc = sqlite3_exec(m_db.get(), text.c_str(), nullptr, nullptr, &error); rc != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw DatabaseError(message, rc & 0xff);
  }
}

Statement& Database::cached(const std::string& sql) {
  auto it = m_cache.find(sql);
  if (it == m_cache.end()) it = m_cache.emplace(sql, Statement(m_db.get(), sql)).first;
  it->second.reset();
  return it->second;
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(m_db.get()); }
int Database::changes() const { return sqlite3_changes(m_db.get()); }

void Database::set_max_size(std::uint64_t bytes) {
  auto page_size = prepare("PRAGMA page_size");
  page_size.step();
  const auto page = static_cast<std::uint64_t>(std::max<std::int64_t>(page_size.int64(0), 512));
  const auto pages = bytes == 0 ? k_unlimited_pages
                                : static_cast<std::int64_t>(std::min<std::uint64_t>(
                                      std::max<std::uint64_t>(bytes / page, 1), k_unlimited_pages));
  // Never below the current size: SQLite then keeps the current size as the cap.
  exec("PRAGMA max_page_count = " + std::to_string(pages));
}

Transaction::Transaction(Database& db) : m_db(db) { m_db.cached("BEGIN IMMEDIATE").run(); }

Transaction::~Transaction() {
  if (!m_done) {
    try {
      m_db.exec("ROLLBACK");
    } catch (...) {  // the connection may already have rolled back (e.g. SQLITE_FULL)
    }
  }
}

void Transaction::commit() {
  m_db.cached("COMMIT").run();
  m_done = true;
}

// Not cached statements: SQLite applies PRAGMA synchronous when it prepares it.
DurableCommits::DurableCommits(Database& db) : m_db(db) { m_db.exec("PRAGMA synchronous=FULL"); }

DurableCommits::~DurableCommits() {
  try {
    m_db.exec("PRAGMA synchronous=NORMAL");
  } catch (...) {  // a destructor must not throw; the next DurableCommits sets it again anyway
  }
}

std::string sqlite_version_text() { return sqlite3_libversion(); }

}  // namespace creditwatch::storage
