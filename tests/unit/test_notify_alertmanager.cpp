// The alertmanager notifier against a real Alertmanager (Debian prometheus-alertmanager 0.25,
// clustering off) on loopback, plus a fake for the answers a healthy one never gives.
// API shapes: shared/reference/sinks.md section 1.5.
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/factory.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/notify_fixtures.hpp"
#include "fakes/real_peers.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::config::ConfigError;
using creditwatch::config::NotifierConfig;
using creditwatch::config::Setting;
using creditwatch::config::Settings;
using creditwatch::config::SourceLocation;
using creditwatch::http::CurlClient;
using creditwatch::notify::make_notifier;
using creditwatch::notify::Notification;
using creditwatch::notify::Notifier;
using creditwatch::testing::AlertmanagerServer;
using creditwatch::testing::eventually;
using creditwatch::testing::FakeHttpServer;
using creditwatch::testing::free_port;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

Setting value(const std::string& text, int line) {
  Setting s;
  s.value = text;
  s.where = SourceLocation{"creditwatch.yaml", line, 5};
  return s;
}

Settings am_settings(std::vector<std::string> urls) {
  Settings s;
  s["urls"].items = std::move(urls);
  s["urls"].where = SourceLocation{"creditwatch.yaml", 31, 5};
  s["refresh_interval"] = value("1m", 32);
  s["generator_url"] = value("http://creditwatch.example:9477/", 33);
  return s;
}

std::unique_ptr<Notifier> build(Settings settings, std::vector<ConfigError>* errors_out = nullptr) {
  NotifierConfig c;
  c.name = "am";
  c.type = "alertmanager";
  c.settings = std::move(settings);
  c.where = SourceLocation{"creditwatch.yaml", 30, 5};
  std::vector<ConfigError> errors;
  auto notifier = make_notifier(c, errors);
  if (errors_out) {
    *errors_out = errors;
    return notifier;
  }
  std::string problems;
  for (const auto& e : errors) problems += e.to_string() + "\n";
  INFO(problems);
  REQUIRE(errors.empty());
  REQUIRE(notifier);
  return notifier;
}

Notification runway(creditwatch::alerts::Severity severity) {
  Notification n;
  n.dedup_key = "creditwatch-deepseek-prod-runway";
  n.at = std::chrono::system_clock::now();
  n.account = "deepseek-prod";
  n.provider = "deepseek";
  n.labels = {{"team", "bots"}, {"cost-center", "42"}, {"account", "must-not-win"}};
  n.rule = creditwatch::alerts::Rule::runway;
  n.severity = severity;
  n.summary = "runway 2.1 days";
  n.balance = *Decimal::parse("12.50");
  n.currency = "USD";
  n.burn_per_day = 5.9;
  n.runway_days = 2.1;
  n.exhausted_at = n.at + 50h;
  n.recommended_topup = *Decimal::parse("170");
  return n;
}

// The alerts Alertmanager holds (not ended) for our account.
std::vector<json> ours(const AlertmanagerServer& am) {
  std::vector<json> out;
  const auto all = am.alerts();
  if (!all.is_array()) return out;
  for (const auto& a : all) {
    if (a["labels"].value("account", "") == "deepseek-prod") out.push_back(a);
  }
  return out;
}

}  // namespace

TEST_SUITE("notify.alertmanager") {
  TEST_CASE("alertmanager shows a firing alert with its labels and annotations and a resolve ends it") {
    AlertmanagerServer am;
    auto sink = build(am_settings({am.url() + "/"}));
    CHECK(sink->refresh_interval() == std::optional<creditwatch::Duration>(1min));
    CurlClient client;

    const auto before = std::chrono::system_clock::now();
    auto result = sink->deliver(runway(creditwatch::alerts::Severity::critical), client);
    INFO("result: " << result.message << "\nalertmanager log:\n" << am.log());
    REQUIRE(result.outcome == Outcome::delivered);
    CHECK(result.http_status == 200);

    REQUIRE(eventually([&] { return ours(am).size() == 1; }, 10s));
    const auto alert = ours(am)[0];
    INFO("alert: " << alert.dump(2));
    CHECK(alert["status"]["state"] == "active");
    const auto& labels = alert["labels"];
    CHECK(labels["alertname"] == "CreditwatchRunway");
    CHECK(labels["account"] == "deepseek-prod");
    CHECK(labels["provider"] == "deepseek");
    CHECK(labels["rule"] == "runway");
    CHECK(labels["severity"] == "critical");
    CHECK(labels["team"] == "bots");
    CHECK(labels["cost_center"] == "42");
    const auto& annotations = alert["annotations"];
    CHECK(annotations["summary"] == "deepseek-prod: runway 2.1 days");
    CHECK(annotations["runway"] == "2.1 days");
    CHECK(annotations["balance"] == "12.50 USD");
    CHECK(annotations["recommended_topup"] == "170.00 USD");
    CHECK(annotations["burn_per_day"] == "5.90 USD");
    CHECK(annotations["dedup_key"] == "creditwatch-deepseek-prod-runway");
    CHECK(std::string(annotations["description"]).find("Recommended top-up: 170.00 USD") != std::string::npos);
    CHECK(alert["generatorURL"] == "http://creditwatch.example:9477/");
    // endsAt = now + 3 x refresh_interval, so it expires if creditwatch stops refreshing.
    const auto ends = creditwatch::parse_rfc3339(std::string(alert["endsAt"]));
    REQUIRE(ends);
    CHECK(*ends >= before + 179s);
    CHECK(*ends <= std::chrono::system_clock::now() + 181s);

    SUBCASE("a severity change moves the alert instead of adding one") {
      REQUIRE(sink->deliver(runway(creditwatch::alerts::Severity::warning), client).outcome == Outcome::delivered);
      REQUIRE(eventually([&] { auto a = ours(am); return a.size() == 1 && a[0]["labels"]["severity"] == "warning"; },
                         10s));
    }
    SUBCASE("resolved") {
      auto resolved = runway(creditwatch::alerts::Severity::critical);
      resolved.event = creditwatch::alerts::Event::resolved;
      resolved.at = std::chrono::system_clock::now();
      resolved.summary = "runway 40.0 days";
      REQUIRE(sink->deliver(resolved, client).outcome == Outcome::delivered);
      CHECK(eventually([&] { return ours(am).empty(); }, 10s));
    }
  }

  TEST_CASE("alertmanager HA posts to every URL and one accepting is enough") {
    AlertmanagerServer am;
    CurlClient client;
    const std::string down = "http://127.0.0.1:" + std::to_string(free_port());

    SUBCASE("one of two down") {
      auto result = build(am_settings({down, am.url()}))->deliver(runway(creditwatch::alerts::Severity::critical), client);
      INFO("result: " << result.message);
      CHECK(result.outcome == Outcome::delivered);
      CHECK(result.message.find(down + ": connect") != std::string::npos);
      CHECK(result.message.find(am.url() + ": HTTP 200") != std::string::npos);
      CHECK(eventually([&] { return ours(am).size() == 1; }, 10s));
    }
    SUBCASE("all down is retried") {
      auto result = build(am_settings({down, down}))->deliver(runway(creditwatch::alerts::Severity::critical), client);
      INFO("result: " << result.message);
      CHECK(result.outcome == Outcome::retry);
    }
  }

  TEST_CASE("alertmanager sends its credentials and a 400 is permanent without echoing them") {
    FakeHttpServer fake;
    fake.post("/api/v2/alerts", [](const httplib::Request&, httplib::Response& res) {
      res.status = 400;
      res.set_content("maxFailures: invalid label set", "text/plain");
    });
    fake.start();
    CurlClient client;

    SUBCASE("bearer token") {
      auto s = am_settings({fake.url()});
      s["token"] = value("tok-SECRET-99", 34);
      auto result = build(s)->deliver(runway(creditwatch::alerts::Severity::warning), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.http_status == 400);
      CHECK(result.message.find("invalid label set") != std::string::npos);
      CHECK(result.message.find("tok-SECRET-99") == std::string::npos);
      REQUIRE(fake.requests().size() == 1);
      CHECK(fake.requests()[0].header("Authorization") == "Bearer tok-SECRET-99");
      const auto body = json::parse(fake.requests()[0].body);
      REQUIRE(body.is_array());
      CHECK(body.size() == 3);  // the warning firing, the other two severities resolved
    }
    SUBCASE("basic auth") {
      auto s = am_settings({fake.url()});
      s["username"] = value("cw", 34);
      s["password"] = value("pw-SECRET", 35);
      build(s)->deliver(runway(creditwatch::alerts::Severity::warning), client);
      REQUIRE(fake.requests().size() == 1);
      CHECK(fake.requests()[0].header("Authorization") == "Basic Y3c6cHctU0VDUkVU");
    }
  }

  TEST_CASE("alertmanager gets hostile text as valid UTF-8 JSON of one-line labels and annotations") {
    FakeHttpServer fake;
    fake.post("/api/v2/alerts", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
    fake.start();
    CurlClient client;
    auto result = build(am_settings({fake.url()}))->deliver(creditwatch::testing::hostile_notification(), client);
    CHECK(result.outcome == Outcome::delivered);
    REQUIRE(fake.requests().size() == 1);
    const auto body = creditwatch::testing::strict_json(fake.requests()[0].body);
    REQUIRE(body.is_array());
    for (const auto& alert : body) {
      for (const auto& label : alert["labels"].items()) {
        CHECK(label.value().get<std::string>().find('\n') == std::string::npos);
      }
    }
    CHECK(body[2]["annotations"]["summary"].get<std::string>().find("请检查您的密钥是否正确") != std::string::npos);
  }

  TEST_CASE("alertmanager watchdog: true keeps an always-firing CreditwatchWatchdog alert") {
    AlertmanagerServer am;
    auto settings = am_settings({am.url()});
    settings["watchdog"] = value("true", 34);
    auto sink = build(settings);
    CHECK(sink->watchdog_interval() == std::optional<creditwatch::Duration>(1min));
    CurlClient client;
    const auto before = std::chrono::system_clock::now();
    const auto result = sink->post_watchdog(client);
    INFO("result: " << result.message << "\nalertmanager log:\n" << am.log());
    REQUIRE(result.outcome == Outcome::delivered);
    auto watchdogs = [&] {
      std::vector<json> out;
      const auto all = am.alerts();
      for (const auto& a : all) {
        if (a["labels"].value("alertname", "") == "CreditwatchWatchdog") out.push_back(a);
      }
      return out;
    };
    REQUIRE(eventually([&] { return watchdogs().size() == 1; }, 10s));
    const auto alert = watchdogs()[0];
    INFO("alert: " << alert.dump(2));
    CHECK(alert["status"]["state"] == "active");
    CHECK(alert["labels"] == json{{"alertname", "CreditwatchWatchdog"}, {"severity", "none"}});
    CHECK(alert["annotations"]["summary"] == "creditwatch is running and healthy");
    CHECK(alert["generatorURL"] == "http://creditwatch.example:9477/");
    // It stays active only while re-posted: it ends three refresh intervals on.
    const auto ends = creditwatch::parse_rfc3339(std::string(alert["endsAt"]));
    REQUIRE(ends);
    CHECK(*ends >= before + 179s);
    CHECK(*ends <= std::chrono::system_clock::now() + 181s);

    SUBCASE("a repost keeps one alert") {
      REQUIRE(sink->post_watchdog(client).outcome == Outcome::delivered);
      CHECK(watchdogs().size() == 1);
    }
    SUBCASE("without watchdog there is none") {
      CHECK_FALSE(build(am_settings({am.url()}))->watchdog_interval());
    }
  }

  TEST_CASE("alertmanager config errors") {
    auto s = am_settings({"ftp://am.example.com", "http://am.example.com/api/v2/alerts"});
    s["refresh_interval"] = value("0s", 32);
    s["username"] = value("cw", 34);
    s["watchdog"] = value("always", 36);
    std::vector<ConfigError> errors;
    CHECK_FALSE(build(s, &errors));
    std::string text;
    for (const auto& e : errors) text += e.to_string() + "\n";
    INFO(text);
    CHECK(text.find("creditwatch.yaml:31:5: urls: \"ftp://am.example.com\" is not an http(s) URL") != std::string::npos);
    CHECK(text.find("without /api/v2/alerts") != std::string::npos);
    CHECK(text.find("refresh_interval must be at least 1s") != std::string::npos);
    CHECK(text.find("basic auth needs both username and password") != std::string::npos);
    CHECK(text.find("creditwatch.yaml:36:5: watchdog: expected true or false, got \"always\"") != std::string::npos);
  }
}
