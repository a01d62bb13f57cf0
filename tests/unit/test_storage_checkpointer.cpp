// The SQLite store's WAL checkpoints off the probe commit path (storage/sqlite/checkpointer.cpp),
// with real SQLite files.
#include "creditwatch/storage/sqlite/checkpointer.hpp"
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::storage::Checkpointer;
using creditwatch::storage::Database;
using creditwatch::storage::ProbeRow;
using creditwatch::storage::SampleRow;
using creditwatch::storage::SqliteStore;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

// Commits about `frames` WAL frames (pages) in one transaction.
void write_frames(Database& db, int frames) {
  db.exec("CREATE TABLE IF NOT EXISTS filler (b BLOB)");
  db.exec("BEGIN");
  auto insert = db.prepare("INSERT INTO filler (b) VALUES (randomblob(4000))");
  for (int i = 0; i < frames; ++i) insert.run();
  db.exec("COMMIT");
}

// Frames in the log now, as a PASSIVE checkpoint on a fresh connection reports them.
std::int64_t log_frames(const std::string& path) {
  Database db(path);
  auto s = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  REQUIRE(s.step());
  return s.int64(1);
}

std::uintmax_t wal_bytes(const std::string& path) { return std::filesystem::file_size(path + "-wal"); }

// One probe of `account` whose reading differs from the previous one: a new run each time,
// so every commit writes several pages.
void add_changed_reading(SqliteStore& store, int account, int round) {
  const auto name = "acct-" + std::to_string(account);
  const auto at = k_t0 + round * 1s;
  store.add_samples({SampleRow{name, at, "USD", Decimal::from_micros(1'000'000'000 - round), std::nullopt, ""}},
                    ProbeRow{name, at, "ok", 200, 0.01, ""});
}

}  // namespace

TEST_SUITE("storage_checkpointer") {
  TEST_CASE("a long log starts over at the next commit after a round") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    Database writer(path);
    writer.exec("PRAGMA wal_autocheckpoint=0");
    Checkpointer checkpointer(path, 1h);  // rounds run by hand below

    SUBCASE("a short log is only copied") {
      write_frames(writer, 50);
      checkpointer.checkpoint();
      CHECK(checkpointer.runs() == 1);
      CHECK(checkpointer.restarts() == 0);
    }
    SUBCASE("a long one is started over") {
      write_frames(writer, Checkpointer::k_restart_frames + 200);
      checkpointer.checkpoint();
      CHECK(checkpointer.restarts() == 1);
      // The next commit writes from the log's start (with commits landing during the
      // passive copy, that alone would not get there: the next test case).
      write_frames(writer, 1);
      CHECK(log_frames(path) < 10);
      Database other(path);
      auto s = other.prepare("SELECT COUNT(*) FROM filler");
      REQUIRE(s.step());
      CHECK(s.int64(0) == Checkpointer::k_restart_frames + 200 + 1);
    }
  }

  TEST_CASE("a reader of an older snapshot makes a round skip the restart instead of blocking commits") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    Database writer(path);
    writer.exec("PRAGMA wal_autocheckpoint=0");
    write_frames(writer, 10);
    Database reader(path);
    reader.exec("BEGIN");
    auto s = reader.prepare("SELECT COUNT(*) FROM filler");
    REQUIRE(s.step());  // holds its snapshot until COMMIT
    write_frames(writer, Checkpointer::k_restart_frames + 200);

    Checkpointer checkpointer(path, 1h);
    const auto started = std::chrono::steady_clock::now();
    checkpointer.checkpoint();
    CHECK(std::chrono::steady_clock::now() - started < 1s);
    CHECK(checkpointer.restarts() == 0);
    write_frames(writer, 1);  // not waiting for anyone
    CHECK(s.int64(0) == 10);
    s.reset();
    reader.exec("COMMIT");

    // Once the reader is gone, the next round starts the log over.
    checkpointer.checkpoint();
    CHECK(checkpointer.restarts() == 1);
  }

  TEST_CASE("under a steady stream of probe commits the checkpointer keeps the log short") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    SqliteStore store(path);
    store.start_background_work(10ms);
    // Several pages a commit, over 20,000 in all: twice the writer's own cap. Passive
    // copies alone never see the log wholly copied when the next commit begins (one lands
    // while they copy), so the log grew to the cap and a probe commit checkpointed there.
    constexpr int k_accounts = 250;
    constexpr int k_rounds = 20;
    std::uintmax_t largest = 0;
    for (int round = 0; round < k_rounds; ++round) {
      for (int a = 0; a < k_accounts; ++a) add_changed_reading(store, a, round);
      largest = std::max(largest, wal_bytes(path));
    }
    CHECK(store.write_stats().writes == k_accounts * k_rounds);
    // Started over by the checkpointer before the cap: a log that only the writer's cap
    // restarts reaches k_wal_cap_pages frames of 4,120 bytes (41.2 MB) first.
    CHECK(largest < static_cast<std::uintmax_t>(SqliteStore::k_wal_cap_pages) * 4096);
    Database other(path);
    auto s = other.prepare("SELECT SUM(ok_probes) FROM accounts");
    REQUIRE(s.step());
    CHECK(s.int64(0) == k_accounts * k_rounds);
  }

  TEST_CASE("a stalled checkpointer leaves the log bounded by the writer's own cap") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    SqliteStore store(path);
    store.start_background_work(24h);  // never runs during the test
    constexpr int k_accounts = 250;
    constexpr int k_rounds = 20;
    for (int round = 0; round < k_rounds; ++round) {
      for (int a = 0; a < k_accounts; ++a) add_changed_reading(store, a, round);
    }
    // 20,000 pages written; the log holds at most the cap plus one commit's pages.
    CHECK(wal_bytes(path) <= static_cast<std::uintmax_t>(SqliteStore::k_wal_cap_pages + 100) * (4096 + 24) + 32);
    CHECK(log_frames(path) <= SqliteStore::k_wal_cap_pages + 100);
  }
}
