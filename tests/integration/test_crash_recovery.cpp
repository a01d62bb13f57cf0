// Crash safety: SIGKILL the daemon at random moments under load (eight simulated accounts
// probed every 100 ms, alerts enqueued to a sink that is down) fifty times. After every kill
// the database passes PRAGMA integrity_check and keeps every sample and notification that
// was committed before the kill; after the last restart, with the sink back, every pending
// notification is delivered.
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/storage/sqlite/database.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr int k_kills = 50;

std::int64_t count(const std::string& db_path, const std::string& sql) {
  creditwatch::storage::Database db(db_path);
  auto s = db.prepare(sql);
  s.step();
  return s.int64(0);
}

constexpr const char* k_stored_probes = "SELECT COALESCE(SUM(ok_probes + failed_probes), 0) FROM accounts";

std::string integrity(const std::string& db_path) {
  creditwatch::storage::Database db(db_path);
  auto s = db.prepare("PRAGMA integrity_check");
  return s.step() ? s.text(0) : "no answer";
}

std::string crash_config(const TempDir& dir) {
  std::string y = "storage:\n  path: " + dir.file("creditwatch.db") +
                  "\nhttp:\n  listen: \"off\"\ndefaults:\n  interval: 100ms\n"
                  "alerting:\n  retry_initial: 100ms\n  retry_max: 500ms\nlogging:\n  level: info\naccounts:\n";
  // min_balance above the balance: each account fires a critical alert on its first probe.
  for (int i = 0; i < 8; ++i) {
    y += "  - name: sim-" + std::to_string(i) +
         "\n    provider: simulated\n    currency: USD\n    start: 500\n    spend_per_day: 40\n    min_balance: 1000\n";
  }
  return y + "notifiers:\n  - name: sink\n    type: slack\n    webhook_url: ${CW_CRASH_SINK}/hook\n";
}

}  // namespace

TEST_SUITE("crash_recovery") {
  TEST_CASE("SIGKILL at random points loses no committed sample or notification") {
    std::atomic<bool> sink_up{false};
    FakeHttpServer sink;
    sink.post("/hook", [&](const httplib::Request&, httplib::Response& res) {
      res.status = sink_up ? 200 : 503;
      res.set_content(sink_up ? "ok" : "unavailable", "text/plain");
    });
    sink.start();

    TempDir dir;
    const auto config = dir.write("creditwatch.yaml", crash_config(dir));
    const auto db = dir.file("creditwatch.db");
    const std::map<std::string, std::string> env = {{"CW_CRASH_SINK", sink.url()}};
    std::mt19937 random(20260501);
    std::uniform_int_distribution<int> pause_ms(20, 600);
    const auto started = std::chrono::steady_clock::now();

    for (int i = 0; i < k_kills; ++i) {
      CAPTURE(i);
      const auto log = dir.file("daemon-" + std::to_string(i) + ".log");
      BackgroundProcess daemon({CREDITWATCH_BINARY, "run", "-c", config}, env, log);
      // Past startup (database migrated), then a random moment of steady work.
      REQUIRE_MESSAGE(eventually([&] { return read_file(log).find("watching") != std::string::npos; }, 10s),
                      read_file(log));
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
      // Committed before the kill: what a reader sees now must survive it.
      // Successful probes are counted, each change of balance is a run: both only grow.
      const auto probes = count(db, k_stored_probes);
      const auto runs = count(db, "SELECT COUNT(*) FROM readings");
      const auto notifications = count(db, "SELECT COUNT(*) FROM outbox");
      daemon.signal(SIGKILL);
      CHECK(daemon.wait(5s) == -1);

      const auto verdict = integrity(db);
      REQUIRE_MESSAGE(verdict == "ok", read_file(log));
      CHECK(count(db, k_stored_probes) >= probes);
      CHECK(count(db, "SELECT COUNT(*) FROM readings") >= runs);
      CHECK(count(db, "SELECT COUNT(*) FROM outbox") >= notifications);
      CHECK(read_file(log).find("Sanitizer") == std::string::npos);
    }
    MESSAGE("50 kills took " << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count()
                             << " s");
    const auto enqueued = count(db, "SELECT COUNT(*) FROM outbox");
    CHECK(enqueued >= 8);  // one min_balance alert per account at least
    CHECK(count(db, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") > 0);

    // The sink comes back: a fresh daemon delivers everything left pending.
    sink_up = true;
    const auto log = dir.file("daemon-final.log");
    BackgroundProcess daemon({CREDITWATCH_BINARY, "run", "-c", config}, env, log);
    CHECK_MESSAGE(eventually([&] { return count(db, "SELECT COUNT(*) FROM outbox WHERE state != 'delivered'") == 0; },
                             15s),
                  read_file(log));
    CHECK(count(db, "SELECT COUNT(*) FROM outbox WHERE state = 'delivered'") >= enqueued);
    daemon.signal(SIGTERM);
    CHECK(daemon.wait(10s) == 0);
    CHECK(integrity(db) == "ok");
  }
}
