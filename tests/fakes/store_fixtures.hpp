#pragma once

// The two Store backends as test fixtures, so that one suite (tests/unit/test_storage_conformance.cpp)
// runs against both: SQLite in a temp dir, and PostgreSQL in a fresh database of the test
// process's shared server. Plus the rows the storage tests write.
#include "creditwatch/storage/postgres/postgres_store.hpp"
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include "fakes/postgres_server.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace creditwatch::testing {

// 2026-05-01T00:00:00Z: every storage test writes at fixed times and never sleeps.
inline const TimePoint k_store_t0 = from_unix_ms(1'777'593'600'000);

inline storage::SampleRow sample_row(const std::string& account, TimePoint at, const char* balance,
                                     const std::string& currency = "USD") {
  return storage::SampleRow{account, at, currency, *Decimal::parse(balance), std::nullopt, ""};
}

inline storage::ProbeRow ok_probe_row(const std::string& account, TimePoint at) {
  return storage::ProbeRow{account, at, "ok", 200, 0.25, ""};
}

inline storage::ProbeRow failed_probe_row(const std::string& account, TimePoint at) {
  return storage::ProbeRow{account, at, "timeout", 0, 15.0, "timed out after 15s"};
}

inline storage::OutboxRow outbox_row(const std::string& notifier, TimePoint created, TimePoint next_attempt,
                                     const std::string& dedup = "sim/runway") {
  storage::OutboxRow n;
  n.created = created;
  n.notifier = notifier;
  n.dedup_key = dedup;
  n.payload_json = R"({"rule":"runway"})";
  n.next_attempt = next_attempt;
  return n;
}

inline storage::AlertRow alert_row(const std::string& account, const std::string& rule, const std::string& state,
                                   TimePoint since) {
  return storage::AlertRow{account, rule, state, "warning", since, since, R"({"runway_days":4.5})"};
}

// A database name no other test of this process has used ([a-z0-9_], as create_database wants).
inline std::string unique_database_name(const std::string& prefix) {
  static std::atomic<int> next{0};
  return prefix + "_" + std::to_string(++next);
}

class SqliteBackend {
public:
  static constexpr const char* k_name = "sqlite";
  static constexpr bool k_shared = false;
  bool skipped() const { return false; }
  std::unique_ptr<storage::Store> open() const { return std::make_unique<storage::SqliteStore>(path()); }
  // Makes every probe write (it adds or updates its account's row) and every update of `meta`
  // (what writable() tries) fail, as a full disk would, until allow_writes().
  void refuse_writes() const {
    storage::Database(path()).exec(
        "CREATE TRIGGER refuse_new_accounts BEFORE INSERT ON accounts BEGIN SELECT RAISE(ABORT, 'refused by the "
        "test'); END;"
        "CREATE TRIGGER refuse_accounts BEFORE UPDATE ON accounts BEGIN SELECT RAISE(ABORT, 'refused by the test'); "
        "END;"
        "CREATE TRIGGER refuse_meta BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
  }
  void allow_writes() const {
    storage::Database(path()).exec(
        "DROP TRIGGER refuse_new_accounts; DROP TRIGGER refuse_accounts; DROP TRIGGER refuse_meta;");
  }
  const std::string& file() const { return m_file; }

private:
  std::string path() const { return m_file; }
  TempDir m_dir;
  std::string m_file = m_dir.file("cw.db");
};

class PostgresBackend {
public:
  static constexpr const char* k_name = "postgresql";
  static constexpr bool k_shared = true;
  PostgresBackend() {
    if (!skipped()) m_url = PostgresServer::shared().create_database(m_database);
  }
  ~PostgresBackend() {
    // The stores are gone (they were made after this fixture); keep the server's disk small.
    if (!skipped()) PostgresServer::shared().psql("DROP DATABASE IF EXISTS " + m_database + " WITH (FORCE)", "postgres");
  }
  PostgresBackend(const PostgresBackend&) = delete;
  PostgresBackend& operator=(const PostgresBackend&) = delete;

  bool skipped() const { return PostgresServer::skipped(); }
  const std::string& database() const { return m_database; }
  const std::string& url() const { return m_url; }
  std::unique_ptr<storage::Store> open() const { return std::make_unique<storage::PostgresStore>(m_url); }
  // NOT VALID: the rows already there stay; every new row version (an insert, an update) is checked.
  void refuse_writes() const {
    sql("ALTER TABLE accounts ADD CONSTRAINT refuse_writes CHECK (false) NOT VALID;"
        "ALTER TABLE meta ADD CONSTRAINT refuse_writes CHECK (false) NOT VALID;");
  }
  void allow_writes() const {
    sql("ALTER TABLE accounts DROP CONSTRAINT refuse_writes; ALTER TABLE meta DROP CONSTRAINT refuse_writes;");
  }
  void sql(const std::string& statements) const {
    const ProcessResult result = PostgresServer::shared().psql(statements, m_database);
    REQUIRE_MESSAGE(result.exit_code == 0, statements << ": " << result.err);
  }

private:
  std::string m_database = unique_database_name("conformance");
  std::string m_url;
};

// The accounts claim_leases returned, in a fixed order (the interface promises none).
inline std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace creditwatch::testing

// The name each backend's test cases carry: "store conformance: ...<sqlite>".
TYPE_TO_STRING_AS("sqlite", creditwatch::testing::SqliteBackend);
TYPE_TO_STRING_AS("postgresql", creditwatch::testing::PostgresBackend);
