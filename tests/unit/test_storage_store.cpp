#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include "fakes/sync_counter.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::storage::AlertRow;
using creditwatch::storage::Database;
using creditwatch::storage::DatabaseError;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using creditwatch::storage::ProbeRow;
using creditwatch::storage::SampleRow;
using creditwatch::storage::SqliteStore;
using creditwatch::storage::Store;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// 2026-05-01T00:00:00Z
const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

SampleRow sample(const std::string& account, TimePoint at, const char* balance, const std::string& currency = "USD") {
  return SampleRow{account, at, currency, *Decimal::parse(balance), std::nullopt, ""};
}

ProbeRow ok_probe(const std::string& account, TimePoint at) { return ProbeRow{account, at, "ok", 200, 0.25, ""}; }

OutboxRow notification(const std::string& notifier, TimePoint created, TimePoint next_attempt,
                       const std::string& dedup = "sim/runway") {
  OutboxRow n;
  n.created = created;
  n.notifier = notifier;
  n.dedup_key = dedup;
  n.payload_json = R"({"rule":"runway"})";
  n.next_attempt = next_attempt;
  return n;
}

AlertRow alert(const std::string& account, const std::string& rule, const std::string& state, TimePoint since) {
  return AlertRow{account, rule, state, "warning", since, since, R"({"runway_days":4.5})"};
}

std::string pragma_text(Database& db, const char* pragma) {
  auto s = db.prepare(pragma);
  REQUIRE(s.step());
  return s.text(0);
}

}  // namespace

TEST_SUITE("storage_store") {
  TEST_CASE("a new database is migrated to the current schema") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    CHECK(store.schema_version() == SqliteStore::k_schema_version);
    CHECK(SqliteStore::k_schema_version >= 1);
    CHECK(store.writable());
  }

  TEST_CASE("reopening keeps the data and does not migrate again") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    {
      SqliteStore store(path);
      store.add_samples({sample("sim", k_t0, "12.50")}, ok_probe("sim", k_t0));
    }
    SqliteStore again(path);
    CHECK(again.schema_version() == SqliteStore::k_schema_version);
    auto rows = again.samples("sim", k_t0 - 1h);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].balance == *Decimal::parse("12.50"));
    // A second migration would have failed on CREATE TABLE or duplicated the heartbeat row.
    Database db(path);
    auto count = db.prepare("SELECT COUNT(*) FROM meta");
    REQUIRE(count.step());
    CHECK(count.int64(0) == 1);
  }

  TEST_CASE("a database from a newer creditwatch is refused") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    { SqliteStore store(path); }
    {
      Database db(path);
      db.exec("PRAGMA user_version = " + std::to_string(SqliteStore::k_schema_version + 1));
    }
    CHECK_THROWS_AS(SqliteStore{path}, DatabaseError);
    try {
      SqliteStore store(path);
    } catch (const DatabaseError& e) {
      CHECK(std::string(e.what()).find("newer") != std::string::npos);
    }
    SUBCASE("and left untouched") {
      Database db(path);
      auto s = db.prepare("PRAGMA user_version");
      REQUIRE(s.step());
      CHECK(s.int64(0) == SqliteStore::k_schema_version + 1);
    }
  }

  TEST_CASE("the database runs in WAL mode") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    SqliteStore store(path);
    Database second(path);
    CHECK(pragma_text(second, "PRAGMA journal_mode") == "wal");
  }

  TEST_CASE("a queued notification is on disk when save_alert or enqueue_refresh returns") {
    creditwatch::testing::SyncCounter counter;
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    store.add_samples({sample("a", k_t0, "10")}, ok_probe("a", k_t0));
    counter.reset();

    // Samples and probes keep synchronous=NORMAL: their commits do not sync the WAL.
    for (int i = 1; i <= 5; ++i) store.add_samples({sample("a", k_t0 + i * 1s, "10")}, ok_probe("a", k_t0 + i * 1s));
    CHECK(counter.syncs("/cw.db-wal") == 0);

    store.save_alert(alert("a", "runway", "firing", k_t0), {notification("pd", k_t0, k_t0)});
    CHECK(counter.syncs("/cw.db-wal") >= 1);
    counter.reset();
    CHECK(store.enqueue_refresh(notification("am", k_t0, k_t0)));
    CHECK(counter.syncs("/cw.db-wal") >= 1);

    // And back to NORMAL for the writes after them.
    counter.reset();
    store.add_samples({sample("a", k_t0 + 1h, "9")}, ok_probe("a", k_t0 + 1h));
    store.mark_retry(store.notifications(OutboxState::pending).at(0).id, k_t0 + 1min, "HTTP 503");
    CHECK(counter.syncs("/cw.db-wal") == 0);
  }

  TEST_CASE("two stores opening one new database at once both find it migrated") {
    // `creditwatch check` racing the first `creditwatch run` on a fresh path.
    for (int round = 0; round < 30; ++round) {
      CAPTURE(round);
      TempDir dir;
      const auto path = dir.file("cw.db");
      std::atomic<int> ready{0};
      std::string errors[2];
      auto open = [&](int who) {
        ++ready;
        while (ready < 2) std::this_thread::yield();
        try {
          SqliteStore store(path);
          if (store.schema_version() != SqliteStore::k_schema_version) errors[who] = "schema version " + std::to_string(store.schema_version());
        } catch (const std::exception& e) {
          errors[who] = e.what();
        }
      };
      std::thread first(open, 0);
      std::thread second(open, 1);
      first.join();
      second.join();
      CHECK(errors[0] == "");
      CHECK(errors[1] == "");
      Database db(path);
      CHECK(pragma_text(db, "SELECT COUNT(*) FROM meta") == "1");
    }
  }

  TEST_CASE("a version 1 database is upgraded in place") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    // A schema-3 database made by that release (schema 4 cannot be taken back: it drops tables).
    std::filesystem::copy_file(std::string(CREDITWATCH_SOURCE_DIR) + "/tests/data/schema_v3/creditwatch.db", path);
    {
      Database db(path);
      // Back to what version 1 had: without steps 2 (the index) and 3 (claims, replicas, leases).
      db.exec("DROP INDEX outbox_pending_by_key; DROP TABLE replicas; DROP TABLE leases;"
              "ALTER TABLE outbox DROP COLUMN claimed_by; ALTER TABLE outbox DROP COLUMN claim_until_ms;"
              "PRAGMA user_version = 1");
    }
    SqliteStore store(path);
    CHECK(store.schema_version() == SqliteStore::k_schema_version);
    Database db(path);
    CHECK(pragma_text(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox_pending_by_key'") == "1");
    CHECK(pragma_text(db, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('replicas', 'leases')") == "2");
    CHECK(pragma_text(db, "SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name LIKE 'claim%'") == "2");
    CHECK(store.samples("ds-main", from_unix_ms(0)).size() == 22);  // and on through step 4
  }

  TEST_CASE("to_string names each outbox state") {
    CHECK(std::string(to_string(OutboxState::pending)) == "pending");
    CHECK(std::string(to_string(OutboxState::delivered)) == "delivered");
    CHECK(std::string(to_string(OutboxState::dead)) == "dead");
  }

  TEST_CASE("Transaction rolls back unless committed") {
    TempDir dir;
    Database db(dir.file("t.db"));
    db.exec("CREATE TABLE t (x INTEGER)");
    {
      creditwatch::storage::Transaction tx(db);
      db.exec("INSERT INTO t VALUES (1)");
    }
    {
      creditwatch::storage::Transaction tx(db);
      db.exec("INSERT INTO t VALUES (2)");
      tx.commit();
    }
    auto s = db.prepare("SELECT group_concat(x) FROM t");
    REQUIRE(s.step());
    CHECK(s.text(0) == "2");
    CHECK_THROWS_AS(db.exec("SELECT * FROM no_such_table"), DatabaseError);
  }
}
