// Disk full, end to end: `storage.max_size` caps the database (SQLite's max_page_count), so
// the daemon's writes fail with SQLITE_FULL. It must log and count the failures, turn
// /healthz 503 with the reason, keep running and serving, and recover by itself once a
// reload (SIGHUP) gives it room again.
#include "http_daemon.hpp"

#include "creditwatch/storage/database.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <string>

using namespace creditwatch::testing;

namespace {

std::string full_config(const TempDir& dir, const std::string& max_size) {
  std::string accounts;
  for (int i = 0; i < 8; ++i) accounts += simulated_account("sim-" + std::to_string(i), "500", "50");
  return "storage:\n  path: " + dir.file("creditwatch.db") + "\n  max_size: " + max_size +
         "\nhttp:\n  listen: 127.0.0.1:0\ndefaults:\n  interval: 100ms\nlogging:\n  level: info\naccounts:\n" +
         accounts;
}

double write_failures(const HttpDaemon& daemon) {
  auto res = daemon.get("/metrics");
  if (!res) return -1;
  static const std::regex line(R"(\ncreditwatch_storage_write_failures_total (\d+))");
  std::smatch match;
  return std::regex_search(res->body, match, line) ? std::stod(match[1].str()) : -1;
}

std::int64_t sample_count(const std::string& db_path) {
  creditwatch::storage::Database db(db_path);
  auto s = db.prepare("SELECT COUNT(*) FROM samples");
  s.step();
  return s.int64(0);
}

}  // namespace

TEST_SUITE("disk_full") {
  TEST_CASE("a full database turns healthz 503 and the daemon recovers when max_size is raised") {
    TempDir dir;
    dir.write("creditwatch.yaml", full_config(dir, "64KiB"));
    HttpDaemon daemon(dir, {});
    daemon.start();

    std::string reason;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                          auto res = daemon.get("/healthz");
                          if (!res || res->status != 503) return false;
                          reason = res->body;
                          return true;
                        },
                        std::chrono::seconds(20)),
                    daemon.log());
    CHECK(reason.find("database write failed") != std::string::npos);
    CHECK(reason.find("full") != std::string::npos);
    CHECK(write_failures(daemon) > 0);
    CHECK(daemon.log().find("database or disk is full") != std::string::npos);
    // Still alive and serving what it has.
    CHECK(daemon.running());
    auto accounts = daemon.get("/api/v1/accounts");
    REQUIRE(accounts);
    CHECK(accounts->status == 200);
    const auto stuck = sample_count(daemon.db_path());

    dir.write("creditwatch.yaml", full_config(dir, "64MiB"));
    daemon.signal(SIGHUP);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                          auto res = daemon.get("/healthz");
                          return res && res->status == 200;
                        },
                        std::chrono::seconds(10)),
                    daemon.log());
    CHECK(eventually([&] { return sample_count(daemon.db_path()) > stuck + 8; }, std::chrono::seconds(10)));
    CHECK(daemon.running());
    CHECK(daemon.terminate() == 0);

    creditwatch::storage::Database db(daemon.db_path());
    auto check = db.prepare("PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.text(0) == "ok");
  }

  TEST_CASE("storage.max_size rejects sizes it cannot honour") {
    TempDir dir;
    for (const auto& [value, message] : std::vector<std::pair<std::string, std::string>>{
             {"12 parsecs", "max_size: invalid size \"12 parsecs\""},
             {"1KiB", "max_size must be at least 64KiB"},
             {"99999999999GiB", "max_size: invalid size"}}) {
      CAPTURE(value);
      auto config = dir.write("c.yaml", "storage:\n  max_size: " + value +
                                            "\naccounts:\n  - name: a\n    provider: simulated\n");
      auto r = run_creditwatch({"validate", "-c", config});
      CHECK(r.exit_code == 1);
      CHECK((r.out + r.err).find(config + ":2:13: " + message) != std::string::npos);
    }
  }
}
