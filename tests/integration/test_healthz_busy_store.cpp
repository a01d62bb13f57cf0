// /healthz while the database is held by someone else: a backup, a `creditwatch check`, or
// any other process in the middle of a write keeps SQLite's lock for up to the busy
// timeout (5 s). A liveness probe must still get its answer at once, or the kubelet
// restarts a healthy daemon.
#include "http_daemon.hpp"

#include "creditwatch/storage/sqlite/database.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

using namespace creditwatch::testing;

TEST_SUITE("healthz_busy_store") {
  TEST_CASE("healthz answers within a second while another process holds the database's write lock") {
    TempDir dir;
    dir.write("creditwatch.yaml", "storage:\n  path: " + dir.file("creditwatch.db") +
                                      "\nhttp:\n  listen: 127.0.0.1:0\ndefaults:\n  interval: 1s\naccounts:\n" +
                                      simulated_account("sim", "500", "50"));
    HttpDaemon daemon(dir, {});
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(eventually([&] {
      auto res = daemon.get("/healthz");
      return res && res->status == 200;
    }, std::chrono::seconds(10)));

    creditwatch::storage::Database other(dir.file("creditwatch.db"));
    other.exec("BEGIN IMMEDIATE");
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(7);
    int asked = 0;
    while (std::chrono::steady_clock::now() < until) {
      const auto started = std::chrono::steady_clock::now();
      auto res = daemon.get("/healthz");
      const auto took = std::chrono::steady_clock::now() - started;
      REQUIRE(res);
      CHECK_MESSAGE(took < std::chrono::seconds(1),
                    "/healthz took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
      ++asked;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    other.exec("ROLLBACK");
    CHECK(asked >= 7);
    // Once the lock is gone the verdict comes back by itself.
    CHECK(eventually([&] {
      auto res = daemon.get("/healthz");
      return res && res->status == 200;
    }, std::chrono::seconds(10)));
    CHECK(daemon.terminate() == 0);
  }
}
