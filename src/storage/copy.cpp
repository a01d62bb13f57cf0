#include "creditwatch/storage/copy.hpp"

#include "postgres/connection.hpp"

#include "creditwatch/common/text.hpp"

#include <array>
#include <charconv>
#include <mutex>

namespace creditwatch::storage {
namespace {

// The tables below are schema 3's, column for column: a schema change must update them.
static_assert(SqliteStore::k_schema_version == 3 && PostgresStore::k_schema_version == 3,
              "copy.cpp lists schema 3's tables: update them with the schema");

enum class Kind { integer, real, text };

struct Column {
  const char* name;
  Kind kind;
};

// A table the copy carries over. Rows are read in rowid order (for the tables with an id,
// the id), so a batch resumes where the last one stopped without OFFSET's rescans.
struct Table {
  const char* name;
  std::vector<Column> columns;
  bool serial_id;  // `id` is a BIGSERIAL in PostgreSQL: its sequence must move past the copied ids
};

const std::array<Table, 4> k_tables = {{
    {"samples",
     {{"id", Kind::integer},
      {"account", Kind::text},
      {"ts_ms", Kind::integer},
      {"currency", Kind::text},
      {"balance_micros", Kind::integer},
      {"spend_micros", Kind::integer},
      {"details", Kind::text}},
     true},
    {"probes",
     {{"id", Kind::integer},
      {"account", Kind::text},
      {"ts_ms", Kind::integer},
      {"outcome", Kind::text},
      {"http_status", Kind::integer},
      {"latency_seconds", Kind::real},
      {"message", Kind::text}},
     true},
    {"alerts",
     {{"account", Kind::text},
      {"rule", Kind::text},
      {"state", Kind::text},
      {"severity", Kind::text},
      {"since_ms", Kind::integer},
      {"last_notified_ms", Kind::integer},
      {"context", Kind::text}},
     false},
    {"outbox",
     {{"id", Kind::integer},
      {"created_ms", Kind::integer},
      {"notifier", Kind::text},
      {"dedup_key", Kind::text},
      {"payload", Kind::text},
      {"attempts", Kind::integer},
      {"next_attempt_ms", Kind::integer},
      {"state", Kind::text},
      {"last_error", Kind::text},
      {"delivered_ms", Kind::integer},
      {"claimed_by", Kind::text},
      {"claim_until_ms", Kind::integer}},
     true},
}};

const char* pg_type(Kind kind) {
  switch (kind) {
    case Kind::integer: return "bigint";
    case Kind::real: return "float8";
    case Kind::text: return "text";
  }
  return "text";
}

// PostgreSQL refuses NUL bytes and ill-formed UTF-8 in text, where SQLite stores them.
std::string pg_text(const std::string& value) {
  if (valid_utf8(value) && value.find('\0') == std::string::npos) return value;
  return safe_text(value);
}

// The shortest text that reads back as the same double.
std::string exact_real(double value) {
  std::array<char, 32> buffer{};
  const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
  return std::string(buffer.data(), end);
}

std::optional<std::string> read_value(const Statement& row, int column, Kind kind) {
  if (row.is_null(column)) return std::nullopt;
  switch (kind) {
    case Kind::integer: return std::to_string(row.int64(column));
    case Kind::real: return exact_real(row.real(column));
    case Kind::text: return pg_text(row.text(column));
  }
  return std::nullopt;
}

// One column of a batch as a PostgreSQL array literal, {"1","2",NULL}: a batch goes over as
// one parameter per column, so one prepared INSERT ... SELECT FROM unnest(...) serves them all.
class ArrayLiteral {
public:
  void add(const std::optional<std::string>& value) {
    m_text += m_text.size() > 1 ? "," : "";
    if (!value) {
      m_text += "NULL";
      return;
    }
    m_text += '"';
    for (const char c : *value) {
      if (c == '"' || c == '\\') m_text += '\\';
      m_text += c;
    }
    m_text += '"';
  }
  std::string finish() const { return m_text + "}"; }

private:
  std::string m_text = "{";
};

std::string column_list(const Table& table) {
  std::string out;
  for (const auto& c : table.columns) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

std::string insert_sql(const Table& table) {
  std::string arrays;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    arrays += (i == 0 ? "$" : ", $") + std::to_string(i + 1) + "::" + pg_type(table.columns[i].kind) + "[]";
  }
  return std::string("INSERT INTO ") + table.name + " (" + column_list(table) + ") SELECT * FROM unnest(" + arrays + ")";
}

std::string rows_text(std::int64_t rows, const char* table) {
  return std::to_string(rows) + (rows == 1 ? " row in " : " rows in ") + table;
}

// Called inside the transaction, after the tables are locked: no replica can write a row
// between this check and the copy.
void require_empty(postgres::Connection& target) {
  std::string found;
  for (const auto& table : k_tables) {
    const auto rows = target.run_once(std::string("SELECT count(*) FROM ") + table.name).int64(0, 0);
    if (rows > 0) found += (found.empty() ? "" : ", ") + rows_text(rows, table.name);
  }
  if (!found.empty()) throw TargetNotEmpty("not empty: " + found);
}

// A read transaction on the source for the length of the copy: every table comes from one
// snapshot, even if a daemon is still writing to the file.
class ReadSnapshot {
public:
  explicit ReadSnapshot(Database& db) : m_db(db) { m_db.exec("BEGIN"); }
  ~ReadSnapshot() {
    try {
      m_db.exec("ROLLBACK");
    } catch (const DatabaseError&) {
      // Nothing was written; SQLite ends the transaction with the connection anyway.
    }
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

private:
  Database& m_db;
};

std::uint64_t count_rows(Database& source, const Table& table) {
  auto count = source.prepare(std::string("SELECT count(*) FROM ") + table.name);
  count.step();
  return static_cast<std::uint64_t>(count.int64(0));
}

TableProgress copy_table(Database& source, postgres::Connection& target, const Table& table,
                         const CopyProgress& progress) {
  TableProgress done{table.name, 0, count_rows(source, table)};
  auto read = source.prepare("SELECT rowid, " + column_list(table) + " FROM " + table.name +
                             " WHERE rowid > ?1 ORDER BY rowid LIMIT ?2");
  const auto insert = insert_sql(table);
  std::int64_t last_rowid = 0;
  for (;;) {
    std::vector<ArrayLiteral> columns(table.columns.size());
    std::size_t rows = 0;
    read.bind(1, last_rowid).bind(2, static_cast<std::int64_t>(k_copy_batch_rows));
    while (read.step()) {
      last_rowid = read.int64(0);
      for (std::size_t i = 0; i < columns.size(); ++i) {
        columns[i].add(read_value(read, static_cast<int>(i) + 1, table.columns[i].kind));
      }
      ++rows;
    }
    read.reset();
    if (rows == 0) break;
    std::vector<postgres::Param> params;
    params.reserve(columns.size());
    for (const auto& c : columns) params.emplace_back(c.finish());
    target.run(insert, params);
    done.copied += rows;
    if (progress) progress(done);
  }
  if (done.copied == 0 && progress) progress(done);
  return done;
}

}  // namespace

// A friend of both stores: the copy reads and writes their tables directly, under the SQLite
// store's lock and on one pooled PostgreSQL connection, which their Store methods cannot do
// (they neither stream nor keep ids, and each is a transaction of its own).
class DatabaseCopy {
public:
  static CopySummary run(SqliteStore& from, PostgresStore& to, const CopyProgress& progress) {
    std::lock_guard lock(from.m_mutex);
    ReadSnapshot snapshot(from.m_db);
    auto target = to.m_pool->borrow();
    postgres::Transaction tx(*target);
    // A replica in the middle of a write holds these only briefly; anything longer is a
    // problem to report, not to wait out.
    target->exec("SET LOCAL lock_timeout = '10s'");
    target->exec("LOCK TABLE samples, probes, alerts, outbox IN EXCLUSIVE MODE");
    require_empty(*target);
    CopySummary summary;
    for (const auto& table : k_tables) {
      summary.tables.push_back(copy_table(from.m_db, *target, table, progress));
      if (table.serial_id) {
        target->run_once(std::string("SELECT setval(pg_get_serial_sequence('") + table.name +
                         "', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM " + table.name);
      }
    }
    // Claims belonged to the process that copied its outbox here; nobody holds them now.
    target->exec("UPDATE outbox SET claimed_by = '', claim_until_ms = 0 WHERE claimed_by <> ''");
    summary.pending_notifications = static_cast<std::uint64_t>(
        target->run_once("SELECT count(*) FROM outbox WHERE state = 'pending'").int64(0, 0));
    tx.commit();
    return summary;
  }
};

CopySummary copy_database(SqliteStore& from, PostgresStore& to, const CopyProgress& progress) {
  return DatabaseCopy::run(from, to, progress);
}

}  // namespace creditwatch::storage
