// What it costs to make a queued notification survive a power loss (issue 14, item 12).
// Store::save_alert commits the alert state and its outbox rows with synchronous=FULL (the
// WAL is fsynced before COMMIT returns); everything else the store writes keeps NORMAL
// (synced at checkpoints: safe against a crash of the process, not of the machine).
//
// In one run, on one database directory, interleaved so that the machine's noise hits all
// three alike, it times N commits of:
//   store   Store::save_alert: the alert upsert plus two outbox rows, as the daemon does it
//   normal  the same three statements in one BEGIN IMMEDIATE transaction, synchronous=NORMAL
//   full    the same with synchronous=FULL (what save_alert should cost)
// and prints the median time per commit of each over R rounds and the ratios.
//
// Build with -DCREDITWATCH_BENCH=ON; run `BUILD/bench/outbox_commit_bench [DB_DIR] [N] [R]`.
// DB_DIR must be on the disk the daemon uses: on a tmpfs an fsync costs nothing.
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <sys/vfs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace creditwatch;

namespace {

using Steady = std::chrono::steady_clock;

constexpr const char* k_payload =
    R"({"dedup_key":"creditwatch-ds-main-runway","status":"firing","reason":"started","account":"ds-main",)"
    R"("provider":"deepseek","rule":"runway","severity":"critical","summary":"runway 2.5 days","balance":"12.50",)"
    R"("currency":"CNY","burn_per_day":5.0,"runway_days":2.5})";

storage::AlertRow alert_at(TimePoint at) {
  return {"ds-main", "runway", "firing", "critical", at, at, R"({"runway_days":2.5})"};
}

std::vector<storage::OutboxRow> rows_at(TimePoint at) {
  std::vector<storage::OutboxRow> rows;
  for (const char* notifier : {"pd-oncall", "slack-ops"}) {
    rows.push_back({0, at, notifier, "creditwatch-ds-main-runway", k_payload, 0, at, storage::OutboxState::pending, "", "", {}});
  }
  return rows;
}

// Microseconds per Store::save_alert.
double time_store(const std::string& path, int n) {
  storage::SqliteStore store(path);
  const auto start = Steady::now();
  for (int i = 0; i < n; ++i) {
    const TimePoint at = from_unix_ms(1'777'593'600'000 + i);
    store.save_alert(alert_at(at), rows_at(at));
  }
  return std::chrono::duration<double, std::micro>(Steady::now() - start).count() / n;
}

// Microseconds per commit of save_alert's statements under `synchronous`.
double time_raw(const std::string& path, int n, const char* synchronous) {
  { storage::SqliteStore schema(path); }
  storage::Database db(path);
  db.exec(std::string("PRAGMA synchronous=") + synchronous);
  const auto start = Steady::now();
  for (int i = 0; i < n; ++i) {
    const std::int64_t at = 1'777'593'600'000 + i;
    storage::Transaction tx(db);
    db.cached("INSERT INTO alerts (account, rule, state, severity, since_ms, last_notified_ms, context) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (account, rule) DO UPDATE SET "
              "state = excluded.state, severity = excluded.severity, since_ms = excluded.since_ms, "
              "last_notified_ms = excluded.last_notified_ms, context = excluded.context")
        .bind(1, std::string("ds-main"))
        .bind(2, std::string("runway"))
        .bind(3, std::string("firing"))
        .bind(4, std::string("critical"))
        .bind(5, at)
        .bind(6, at)
        .bind(7, std::string(R"({"runway_days":2.5})"))
        .run();
    for (const char* notifier : {"pd-oncall", "slack-ops"}) {
      db.cached("INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, "
                "last_error) VALUES (?1, ?2, ?3, ?4, 0, ?5, 'pending', '')")
          .bind(1, at)
          .bind(2, std::string(notifier))
          .bind(3, std::string("creditwatch-ds-main-runway"))
          .bind(4, std::string(k_payload))
          .bind(5, at)
          .run();
    }
    tx.commit();
  }
  return std::chrono::duration<double, std::micro>(Steady::now() - start).count() / n;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  const int n = argc > 2 ? std::atoi(argv[2]) : 500;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
  struct statfs fs {};
  statfs(dir.c_str(), &fs);
  std::printf("database directory %s (filesystem magic 0x%lx), %d commits per run, %d rounds\n", dir.c_str(),
              static_cast<unsigned long>(fs.f_type), n, rounds);

  std::vector<double> store, normal, full;
  for (int round = 0; round < rounds; ++round) {
    const std::string path = dir + "/outbox_commit_bench.db";
    remove_db(path);
    store.push_back(time_store(path, n));
    remove_db(path);
    normal.push_back(time_raw(path, n, "NORMAL"));
    remove_db(path);
    full.push_back(time_raw(path, n, "FULL"));
    remove_db(path);
    std::printf("round %d: store %.1f us, normal %.1f us, full %.1f us per commit\n", round + 1, store.back(),
                normal.back(), full.back());
  }
  const double store_us = median(store), normal_us = median(normal), full_us = median(full);
  std::printf("median per commit: Store::save_alert %.1f us, NORMAL %.1f us, FULL %.1f us\n", store_us, normal_us,
              full_us);
  std::printf("ratio FULL/NORMAL %.2f, Store::save_alert/NORMAL %.2f\n", full_us / normal_us, store_us / normal_us);
  return 0;
}
