#include "creditwatch/storage/copy.hpp"

#include "postgres/array_literal.hpp"
#include "postgres/bytea.hpp"
#include "postgres/connection.hpp"
#include "sqlite/details_patch.hpp"

#include "creditwatch/common/text.hpp"

#include <array>
#include <charconv>
#include <mutex>

namespace creditwatch::storage {
namespace {

// The tables below are schema 5's, column for column: a schema change must update them.
static_assert(SqliteStore::k_schema_version == 5 && PostgresStore::k_schema_version == 5,
              "copy.cpp lists schema 5's tables: update them with the schema");

enum class Kind { integer, real, text, blob };

struct Column {
  const char* name;
  Kind kind;
};

// A table the copy carries over. Rows are read in key order (the rowid, or the primary key of
// a WITHOUT ROWID table), so a batch resumes where the last one stopped without OFFSET's
// rescans.
struct Table {
  const char* name;
  std::vector<Column> columns;
  std::vector<const char*> key;  // empty: the rowid
  bool identity_id;  // `id` is generated in PostgreSQL: its sequence must move past the copied ids
};

const std::array<Table, 11> k_tables = {{
    {"accounts",
     {{"id", Kind::integer},
      {"name", Kind::text},
      {"last_ok_ms", Kind::integer},
      {"last_ok_latency", Kind::real},
      {"ok_probes", Kind::integer},
      {"failed_probes", Kind::integer}},
     {},
     true},
    {"currencies", {{"id", Kind::integer}, {"code", Kind::text}}, {}, true},
    {"readings",
     {{"account_id", Kind::integer},
      {"currency_id", Kind::integer},
      {"from_ms", Kind::integer},
      {"held_ms", Kind::integer},
      {"balance_micros", Kind::integer},
      {"spend_micros", Kind::integer},
      {"details", Kind::text}},
     {"account_id", "currency_id", "from_ms"},
     false},
    {"heads",
     {{"account_id", Kind::integer},
      {"currency_id", Kind::integer},
      {"from_ms", Kind::integer},
      {"seen_ms", Kind::integer},
      {"anchor_ms", Kind::integer},
      {"balance_micros", Kind::integer},
      {"spend_micros", Kind::integer},
      {"details", Kind::text}},
     {"account_id", "currency_id"},
     false},
    {"failures",
     {{"id", Kind::integer},
      {"account_id", Kind::integer},
      {"ts_ms", Kind::integer},
      {"outcome", Kind::text},
      {"http_status", Kind::integer},
      {"latency_seconds", Kind::real},
      {"message", Kind::text}},
     {},
     true},
    {"rollups",
     {{"account_id", Kind::integer},
      {"currency_id", Kind::integer},
      {"hour_ms", Kind::integer},
      {"open_micros", Kind::integer},
      {"close_micros", Kind::integer},
      {"low_micros", Kind::integer},
      {"spend_micros", Kind::integer},
      {"deposits_micros", Kind::integer},
      {"readings", Kind::integer}},
     {"account_id", "currency_id", "hour_ms"},
     false},
    {"ledgers",
     {{"account_id", Kind::integer}, {"currency_id", Kind::integer}, {"saved_ms", Kind::integer}, {"state", Kind::blob}},
     {"account_id", "currency_id"},
     false},
    {"alerts",
     {{"account", Kind::text},
      {"rule", Kind::text},
      {"state", Kind::text},
      {"severity", Kind::text},
      {"since_ms", Kind::integer},
      {"last_notified_ms", Kind::integer},
      {"context", Kind::text}},
     {},
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
     {},
     true},
    {"silences",
     {{"id", Kind::text},
      {"matchers", Kind::text},
      {"starts_ms", Kind::integer},
      {"ends_ms", Kind::integer},
      {"comment", Kind::text},
      {"created_by", Kind::text},
      {"created_ms", Kind::integer}},
     {},
     false},
    {"acks",
     {{"account", Kind::text},
      {"rule", Kind::text},
      {"acked_by", Kind::text},
      {"at_ms", Kind::integer},
      {"comment", Kind::text},
      {"severity", Kind::text}},
     {},
     false},
}};

const char* pg_type(Kind kind) {
  switch (kind) {
    case Kind::integer: return "bigint";
    case Kind::real: return "float8";
    case Kind::text: return "text";
    case Kind::blob: return "bytea";
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
    case Kind::blob: return bytea_hex(row.text(column));
  }
  return std::nullopt;
}

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

// The resolved details of the readings copied so far, run after run in key order.
class DetailsChain {
public:
  // `stored` is the row's details column as SQLite has it (nullopt: NULL, as the run before);
  // `balance_micros` the row's (a patch's `=` fields).
  std::optional<std::string> next(std::int64_t account, std::int64_t currency, std::int64_t balance_micros,
                                  std::optional<std::string> stored) {
    if (account != m_account || currency != m_currency) {
      m_account = account;
      m_currency = currency;
      m_before.clear();
    }
    if (!stored) return stored;
    stored = resolve_details(m_before, stored, balance_micros);
    m_before = *stored;
    return stored;
  }

private:
  std::int64_t m_account = -1;
  std::int64_t m_currency = -1;
  std::string m_before;
};

// "a, b, c" of the table's key columns (rowid when it has none).
std::string key_list(const Table& table) {
  if (table.key.empty()) return "rowid";
  std::string out;
  for (const auto* k : table.key) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

TableProgress copy_table(Database& source, postgres::Connection& target, const Table& table,
                         const CopyProgress& progress) {
  TableProgress done{table.name, 0, count_rows(source, table)};
  // The key leads each row; the next batch starts after the last key seen.
  const auto keys = table.key.empty() ? std::size_t{1} : table.key.size();
  const auto select = "SELECT " + key_list(table) + ", " + column_list(table) + " FROM " + table.name;
  std::string after;
  for (std::size_t k = 0; k < keys; ++k) after += (k == 0 ? "?" : ", ?") + std::to_string(k + 1);
  auto first = source.prepare(select + " ORDER BY " + key_list(table) + " LIMIT ?1");
  auto next = source.prepare(select + " WHERE (" + key_list(table) + ") > (" + after + ") ORDER BY " + key_list(table) +
                             " LIMIT ?" + std::to_string(keys + 1));
  const auto insert = insert_sql(table);
  std::vector<std::int64_t> last_key;
  DetailsChain details;  // readings only: keyed (account_id, currency_id, from_ms)
  const bool patched = std::string(table.name) == "readings";
  int balance_at = 0;  // readings: where balance_micros is in a row read
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (std::string(table.columns[i].name) == "balance_micros") balance_at = static_cast<int>(keys + i);
  }
  for (;;) {
    auto& read = last_key.empty() ? first : next;
    for (std::size_t k = 0; k < last_key.size(); ++k) read.bind(static_cast<int>(k) + 1, last_key[k]);
    read.bind(static_cast<int>(last_key.size()) + 1, static_cast<std::int64_t>(k_copy_batch_rows));
    std::vector<postgres::ArrayLiteral> columns(table.columns.size());
    std::size_t rows = 0;
    while (read.step()) {
      last_key.resize(keys);
      for (std::size_t k = 0; k < keys; ++k) last_key[k] = read.int64(static_cast<int>(k));
      for (std::size_t i = 0; i < columns.size(); ++i) {
        auto value = read_value(read, static_cast<int>(keys + i), table.columns[i].kind);
        if (patched && std::string(table.columns[i].name) == "details") {
          value = details.next(last_key[0], last_key[1], read.int64(balance_at), std::move(value));
        }
        columns[i].add(value);
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
    std::string tables;
    for (const auto& table : k_tables) tables += (tables.empty() ? "" : ", ") + std::string(table.name);
    target->exec("LOCK TABLE " + tables + " IN EXCLUSIVE MODE");
    require_empty(*target);
    CopySummary summary;
    for (const auto& table : k_tables) {
      summary.tables.push_back(copy_table(from.m_db, *target, table, progress));
      if (table.identity_id) {
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
