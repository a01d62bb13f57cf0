// The dead man's switch end to end: `creditwatch run` pings its heartbeat URL while /healthz
// is ok and the fail_url while it is not (another process holding the database's write lock
// past the busy timeout makes it 503), with {replica} replaced, and the URL (a secret) never
// in its log.
#include "http_daemon.hpp"

#include "creditwatch/storage/sqlite/database.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

std::size_t pings_to(const FakeHttpServer& service, const std::string& target) {
  const auto all = service.requests();
  return static_cast<std::size_t>(
      std::count_if(all.begin(), all.end(), [&](const RecordedRequest& r) { return r.target == target; }));
}

bool healthz_is(const HttpDaemon& daemon, int status) {
  auto res = daemon.get("/healthz");
  return res && res->status == status;
}

}  // namespace

TEST_SUITE("daemon_heartbeats") {
  TEST_CASE("the daemon pings its heartbeat while healthy and the fail_url while not, never logging the URL") {
    FakeHttpServer service;
    service.get(".*", [](const httplib::Request&, httplib::Response& res) { res.set_content("OK", "text/plain"); });
    service.start();
    TempDir dir;
    const std::string url = service.url() + "/ping/SECRET-7f3a-{replica}";
    dir.write("creditwatch.yaml", daemon_yaml(dir, simulated_account("sim", "500", "50")) +
                                      "ha:\n  replica_id: web-1\n"
                                      "heartbeats:\n"
                                      "  - name: hc\n"
                                      "    url: " + url + "\n"
                                      "    fail_url: " + url + "/fail\n"
                                      "    interval: 10s\n");
    const std::string ok_target = "/ping/SECRET-7f3a-web-1";
    const std::string fail_target = ok_target + "/fail";
    HttpDaemon daemon(dir, {});
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(eventually([&] { return pings_to(service, ok_target) >= 1; }, 5s));
    // The fake counts the ping before the daemon has read its answer and recorded it.
    REQUIRE(eventually(
        [&] {
          const auto page = daemon.get("/metrics");
          return page && page->body.find("creditwatch_heartbeat_last_success_timestamp_seconds{heartbeat=\"hc\"} ") !=
                             std::string::npos;
        },
        5s));
    const auto metrics = daemon.get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->body.find("creditwatch_heartbeat_failures_total{heartbeat=\"hc\"} 0\n") != std::string::npos);
    CHECK(metrics->body.find("creditwatch_heartbeat_last_success_timestamp_seconds{heartbeat=\"hc\"} ") !=
          std::string::npos);

    {
      creditwatch::storage::Database other(daemon.db_path());
      other.exec("BEGIN IMMEDIATE");
      REQUIRE(eventually([&] { return healthz_is(daemon, 503); }, 15s));
      CHECK(eventually([&] { return pings_to(service, fail_target) >= 1; }, 12s));
      other.exec("ROLLBACK");
    }
    REQUIRE(eventually([&] { return healthz_is(daemon, 200); }, 15s));
    const auto before = pings_to(service, ok_target);
    CHECK(eventually([&] { return pings_to(service, ok_target) > before; }, 12s));
    CHECK(daemon.terminate() == 0);

    const auto log = daemon.log();
    CHECK(log.find("heartbeat hc (127.0.0.1:" + std::to_string(service.port()) + "): pinged") != std::string::npos);
    CHECK(log.find("SECRET-7f3a") == std::string::npos);
  }
}
