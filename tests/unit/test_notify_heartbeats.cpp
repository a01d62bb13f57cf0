// The dead man's switch pinger (notify/heartbeats.cpp) against a loopback fake ping service,
// driven by tick() and a FakeClock, plus its own thread once.
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/heartbeats.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/log_capture.hpp"
#include "fakes/notify_fixtures.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

using creditwatch::Secret;
using creditwatch::SystemClock;
using creditwatch::config::Config;
using creditwatch::config::HeartbeatConfig;
using creditwatch::http::CurlClient;
using creditwatch::notify::heartbeat_targets;
using creditwatch::notify::HeartbeatPinger;
using creditwatch::notify::HeartbeatStatus;
using creditwatch::testing::FakeClock;
using creditwatch::testing::FakeHttpServer;
using creditwatch::testing::LogCapture;
using namespace std::chrono_literals;

namespace {

const std::string k_secret_path = "/ping/4f9c-secret-uuid";

// A ping service answering GETs with `status` (200 unless changed).
struct PingService {
  FakeHttpServer server;
  std::atomic<int> status{200};
  PingService() {
    server.get(".*", [this](const httplib::Request&, httplib::Response& res) {
      res.status = status.load();
      res.set_content("OK", "text/plain");
    });
    server.start();
  }
  std::vector<std::string> targets() const {
    std::vector<std::string> out;
    for (const auto& r : server.requests()) out.push_back(r.target);
    return out;
  }
};

Config config_with(HeartbeatConfig heartbeat) {
  Config c;
  c.heartbeats.push_back(std::move(heartbeat));
  return c;
}

HeartbeatConfig heartbeat(const std::string& url, const std::string& fail_url = "") {
  HeartbeatConfig h;
  h.name = "hc";
  h.url = Secret(url);
  if (!fail_url.empty()) h.fail_url = Secret(fail_url);
  h.interval = 1min;
  return h;
}

// The pinger with its health verdict in the test's hands.
struct Fixture {
  FakeClock clock;
  std::atomic<bool> healthy{true};
  HeartbeatPinger pinger{clock, [this] { return healthy.load(); }};
  CurlClient client;

  void tick_after(creditwatch::Duration d) {
    clock.advance(d);
    pinger.tick(client);
  }
  HeartbeatStatus status(const std::string& name = "hc") const {
    for (const auto& s : pinger.statuses()) {
      if (s.name == name) return s;
    }
    FAIL("no status for " << name);
    return {};
  }
};

}  // namespace

TEST_SUITE("notify.heartbeats") {
  TEST_CASE("while healthy the url is pinged at once, then every interval") {
    PingService service;
    Fixture f;
    f.pinger.set_targets(heartbeat_targets(config_with(heartbeat(service.server.url() + k_secret_path)), {}, "web-1"));
    const auto next = f.pinger.tick(f.client);
    CHECK(service.targets() == std::vector<std::string>{k_secret_path});
    CHECK(next == f.clock.monotonic() + 1min);
    CHECK(f.status().last_success == f.clock.now());
    CHECK(f.status().failures == 0);

    f.pinger.tick(f.client);
    f.tick_after(59s);
    CHECK(service.server.request_count() == 1);
    f.tick_after(1s);
    CHECK(service.server.request_count() == 2);
    f.tick_after(1min);
    CHECK(service.targets() == std::vector<std::string>(3, k_secret_path));
    CHECK(f.status().last_success == f.clock.now());
  }

  TEST_CASE("while unhealthy the fail_url is pinged, at once when the verdict changes") {
    PingService service;
    Fixture f;
    const std::string ok = service.server.url() + "/ping/uuid";
    f.pinger.set_targets(heartbeat_targets(config_with(heartbeat(ok, ok + "/fail")), {}, "web-1"));
    f.pinger.tick(f.client);
    f.healthy = false;
    f.tick_after(10s);  // not waiting out the minute
    CHECK(service.targets() == std::vector<std::string>{"/ping/uuid", "/ping/uuid/fail"});
    f.tick_after(59s);
    CHECK(service.server.request_count() == 2);
    f.tick_after(1s);
    CHECK(service.targets().back() == "/ping/uuid/fail");
    CHECK(service.server.request_count() == 3);

    SUBCASE("a recovery is pinged at once too, but not sooner than 10s after the last ping") {
      f.healthy = true;
      f.tick_after(5s);
      CHECK(service.server.request_count() == 3);
      f.tick_after(5s);
      CHECK(service.targets() ==
            std::vector<std::string>{"/ping/uuid", "/ping/uuid/fail", "/ping/uuid/fail", "/ping/uuid"});
    }
  }

  TEST_CASE("without a fail_url nothing is sent while unhealthy: the silence is the signal") {
    PingService service;
    Fixture f;
    f.healthy = false;
    f.pinger.set_targets(heartbeat_targets(config_with(heartbeat(service.server.url() + "/ping/uuid")), {}, "web-1"));
    for (int i = 0; i < 5; ++i) f.tick_after(1min);
    CHECK(service.server.request_count() == 0);
    CHECK(f.status().failures == 0);
    CHECK_FALSE(f.status().last_success);
    f.healthy = true;
    f.tick_after(1s);
    CHECK(service.targets() == std::vector<std::string>{"/ping/uuid"});
  }

  TEST_CASE("{replica} in the URLs is the replica id, percent-encoded") {
    PingService service;
    Fixture f;
    const std::string base = service.server.url() + "/ping/uuid-{replica}";
    f.pinger.set_targets(heartbeat_targets(config_with(heartbeat(base, base + "/fail?r={replica}")), {}, "web 1"));
    f.pinger.tick(f.client);
    f.healthy = false;
    f.tick_after(10s);
    CHECK(service.targets() == std::vector<std::string>{"/ping/uuid-web%201", "/ping/uuid-web%201/fail?r=web%201"});
  }

  TEST_CASE("failures are counted and logged by name and host, rate-limited, never with the URL") {
    PingService service;
    service.status = 500;
    const std::string host = "127.0.0.1:" + std::to_string(service.server.port());
    LogCapture log;
    Fixture f;
    f.pinger.set_targets(heartbeat_targets(config_with(heartbeat(service.server.url() + k_secret_path)), {}, "web-1"));
    f.pinger.tick(f.client);
    f.tick_after(1min);
    f.tick_after(1min);
    CHECK(f.status().failures == 3);
    CHECK_FALSE(f.status().last_success);
    f.tick_after(8min);  // ten minutes after the first logged failure
    CHECK(f.status().failures == 4);
    service.status = 200;
    f.tick_after(1min);
    CHECK(f.status().failures == 4);
    CHECK(f.status().last_success == f.clock.now());

    const auto text = log.text();
    INFO("log:\n" << text);
    CHECK(text.find("[warning] heartbeat hc (" + host + "): ping failed: HTTP 500\n") != std::string::npos);
    CHECK(text.find("[warning] heartbeat hc (" + host + "): ping failed: HTTP 500 (2 more failure(s) not logged)\n") !=
          std::string::npos);
    CHECK(text.find("[info] heartbeat hc (" + host + "): pinged again after 4 failed ping(s)\n") != std::string::npos);
    CHECK(text.find("secret-uuid") == std::string::npos);
    CHECK(text.find("/ping") == std::string::npos);
  }

  TEST_CASE("a ping service that cannot be reached is a failure whose log line holds no URL") {
    const std::string url = creditwatch::testing::closed_url() + k_secret_path;
    LogCapture log;
    Fixture f;
    f.pinger.set_targets(heartbeat_targets(config_with(heartbeat(url)), {}, "web-1"));
    f.pinger.tick(f.client);
    CHECK(f.status().failures == 1);
    const auto text = log.text();
    INFO("log:\n" << text);
    CHECK(text.find("ping failed: connect") != std::string::npos);
    CHECK(text.find("secret-uuid") == std::string::npos);
  }

  TEST_CASE("a reload keeps the counters of a heartbeat it keeps and drops the others") {
    PingService service;
    service.status = 404;
    Fixture f;
    auto config = config_with(heartbeat(service.server.url() + "/ping/a"));
    auto other = heartbeat(service.server.url() + "/ping/b");
    other.name = "other";
    config.heartbeats.push_back(other);
    f.pinger.set_targets(heartbeat_targets(config, {}, "web-1"));
    f.pinger.tick(f.client);
    config.heartbeats.pop_back();
    f.pinger.set_targets(heartbeat_targets(config, {}, "web-1"));
    const auto statuses = f.pinger.statuses();
    REQUIRE(statuses.size() == 1);
    CHECK(statuses[0].name == "hc");
    CHECK(statuses[0].failures == 1);
    f.pinger.tick(f.client);  // due at once after a reload
    CHECK(f.status().failures == 2);
  }

  TEST_CASE("an alertmanager watchdog is posted every refresh_interval while healthy, never while not") {
    creditwatch::testing::FakeSink alertmanager;
    auto settings = creditwatch::config::Settings{};
    settings["urls"] = creditwatch::testing::list_setting({alertmanager.url()}, 21);
    settings["refresh_interval"] = creditwatch::testing::scalar_setting("30s", 22);
    settings["watchdog"] = creditwatch::testing::scalar_setting("true", 23);
    std::map<std::string, std::shared_ptr<creditwatch::notify::Notifier>> notifiers;
    notifiers["am"] = creditwatch::testing::build_notifier(creditwatch::testing::notifier_config("alertmanager", settings));
    Fixture f;
    f.pinger.set_targets(heartbeat_targets(Config{}, notifiers, "web-1"));
    f.pinger.tick(f.client);
    f.tick_after(29s);
    CHECK(alertmanager.server.request_count() == 1);
    f.tick_after(1s);
    CHECK(alertmanager.server.request_count() == 2);
    const auto body = nlohmann::json::parse(alertmanager.requests(2).back().body);
    CHECK(body[0]["labels"]["alertname"] == "CreditwatchWatchdog");
    CHECK(alertmanager.requests(2).back().path == "/api/v2/alerts");
    CHECK(f.status("watchdog:am").last_success == f.clock.now());
    f.healthy = false;
    for (int i = 0; i < 4; ++i) f.tick_after(30s);
    CHECK(alertmanager.server.request_count() == 2);
    CHECK(f.status("watchdog:am").failures == 0);

    SUBCASE("a notifier without watchdog: true has no target") {
      settings.erase("watchdog");
      notifiers["am"] = creditwatch::testing::build_notifier(creditwatch::testing::notifier_config("alertmanager", settings));
      CHECK(heartbeat_targets(Config{}, notifiers, "web-1").empty());
    }
  }

  TEST_CASE("the pinger's own thread pings, and stop() cuts a ping in flight short") {
    std::atomic<int> pings{0};
    std::atomic<bool> released{false};
    FakeHttpServer service;
    service.get(".*", [&](const httplib::Request&, httplib::Response& res) {
      // The second ping hangs until the test is over.
      const bool hang = ++pings > 1;
      for (int waited = 0; hang && !released && waited < 800; ++waited) std::this_thread::sleep_for(10ms);
      res.status = 200;
    });
    service.start();
    SystemClock clock;
    HeartbeatPinger pinger(clock, [] { return true; });
    auto h = heartbeat(service.url() + "/ping/uuid");
    pinger.set_targets(heartbeat_targets(config_with(h), {}, "web-1"));
    pinger.start();
    CHECK(creditwatch::testing::eventually([&] { return pings.load() == 1; }, 5s));
    pinger.set_targets(heartbeat_targets(config_with(h), {}, "web-1"));  // a reload: due at once
    CHECK(creditwatch::testing::eventually([&] { return pings.load() == 2; }, 5s));
    const auto before = std::chrono::steady_clock::now();
    pinger.stop();
    CHECK(std::chrono::steady_clock::now() - before < 3s);
    released = true;
  }
}
