// The PagerDuty Events API v2 notifier against a loopback fake answering with the bodies
// and status codes of shared/reference/sinks.md section 1.2.
#include "creditwatch/config/config.hpp"
#include "creditwatch/http/curl_client.hpp"

#include "fakes/notify_fixtures.hpp"
#include "fakes/temp_dir.hpp"

#include <nlohmann/json.hpp>

using creditwatch::config::Settings;
using creditwatch::http::CurlClient;
using creditwatch::notify::DeliveryResult;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using nlohmann::json;
using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

// Shaped like a real integration key (32 characters); it must never come back in a message.
constexpr const char* k_routing_key = "e93facc04764012d7bfb002500d5d1a6";
constexpr const char* k_accepted =
    R"({"status":"success","message":"Event processed","dedup_key":"creditwatch-deepseek-prod-runway"})";
constexpr const char* k_invalid =
    R"json({"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]})json";

struct FakePagerDuty : FakeSink {
  FakePagerDuty() : FakeSink("/v2/enqueue") { reply(202, k_accepted); }
  std::string enqueue_url() const { return url() + "/v2/enqueue"; }
};

Settings pagerduty_settings(const std::string& url) {
  return {{"routing_key", secret_setting(k_routing_key, 21)},
          {"url", scalar_setting(url, 22)},
          {"source", scalar_setting("creditwatch@test-host", 23)}};
}

std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

TEST_SUITE("notify.pagerduty") {
  TEST_CASE("a firing alert is a trigger event with every figure") {
    FakePagerDuty pd;
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(pd.enqueue_url())));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);
    CHECK(result.http_status == 202);

    const auto request = pd.only_request();
    CHECK(request.method == "POST");
    CHECK(request.path == "/v2/enqueue");
    CHECK(request.header("Content-Type").find("application/json") == 0);
    CHECK(request.header("Authorization").empty());  // the routing key in the body authenticates
    const auto body = json::parse(request.body);
    CHECK(body["routing_key"] == k_routing_key);
    CHECK(body["event_action"] == "trigger");
    CHECK(body["dedup_key"] == "creditwatch-deepseek-prod-runway");
    CHECK(body["client"] == "creditwatch");
    const auto& payload = body["payload"];
    CHECK(payload["summary"] == "[CRITICAL] deepseek-prod runway: runway 2.5 days");
    CHECK(payload["source"] == "creditwatch@test-host");
    CHECK(payload["severity"] == "critical");
    CHECK(payload["timestamp"] == "2026-05-01T00:00:00Z");
    CHECK(payload["component"] == "deepseek");
    CHECK(payload["group"] == "deepseek-prod");
    CHECK(payload["class"] == "runway");
    const auto& details = payload["custom_details"];
    CHECK(details["account"] == "deepseek-prod");
    CHECK(details["provider"] == "deepseek");
    CHECK(details["rule"] == "runway");
    CHECK(details["status"] == "firing");
    CHECK(details["test"] == false);
    CHECK(details["balance"] == "12.50");
    CHECK(details["currency"] == "USD");
    CHECK(details["burn_per_day"] == 5.0);
    CHECK(details["runway_days"] == 2.5);
    CHECK(details["runway_p10_days"] == 1.75);
    CHECK(details["exhausted_at"] == "2026-05-03T12:00:00Z");
    CHECK(details["recommended_topup"] == "170.00");
    CHECK(details["labels"] == json{{"team", "bots"}});
    CHECK(details["summary"] == "runway 2.5 days");
  }

  TEST_CASE("our severities map one to one onto PagerDuty's") {
    FakePagerDuty pd;
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(pd.enqueue_url())));
    CurlClient client;
    auto n = critical_runway();
    std::string expected;
    SUBCASE("warning") {
      n.severity = creditwatch::alerts::Severity::warning;
      expected = "warning";
    }
    SUBCASE("info") {
      n.severity = creditwatch::alerts::Severity::info;
      expected = "info";
    }
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    CHECK(json::parse(pd.only_request().body)["payload"]["severity"] == expected);
  }

  TEST_CASE("a resolution is a resolve event with the same dedup_key and nothing else") {
    FakePagerDuty pd;
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(pd.enqueue_url())));
    CurlClient client;
    CHECK(notifier->deliver(resolved(critical_runway()), client).outcome == Outcome::delivered);
    const auto body = json::parse(pd.only_request().body);
    CHECK(body == json{{"routing_key", k_routing_key},
                       {"dedup_key", "creditwatch-deepseek-prod-runway"},
                       {"event_action", "resolve"}});
  }

  TEST_CASE("a test notification is marked in the summary and the details") {
    FakePagerDuty pd;
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(pd.enqueue_url())));
    CurlClient client;
    auto n = critical_runway();
    n.test = true;
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto body = json::parse(pd.only_request().body);
    CHECK(body["payload"]["summary"].get<std::string>().rfind("[TEST] ", 0) == 0);
    CHECK(body["payload"]["custom_details"]["test"] == true);
  }

  TEST_CASE("the summary is cut to 1024 characters without splitting a character") {
    FakePagerDuty pd;
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(pd.enqueue_url())));
    CurlClient client;
    auto n = critical_runway();
    n.summary.clear();
    for (int i = 0; i < 1200; ++i) n.summary += "\xC3\xA9";  // "é", two bytes each
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto summary = json::parse(pd.only_request().body)["payload"]["summary"].get<std::string>();
    CHECK(code_points(summary) == 1024);
    CHECK(summary.substr(summary.size() - 3) == "\xE2\x80\xA6");  // ends with "…"
  }

  TEST_CASE("PagerDuty's answers are classified") {
    FakePagerDuty pd;
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(pd.enqueue_url())));
    CurlClient client;
    DeliveryResult result;

    SUBCASE("202 success is delivered") {
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
      CHECK(result.message.find("Event processed") != std::string::npos);
    }
    SUBCASE("400 invalid event is a permanent rejection that keeps PagerDuty's explanation") {
      pd.reply(400, k_invalid);
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.http_status == 400);
      CHECK(result.message.find("Event object is invalid") != std::string::npos);
      CHECK(result.message.find("Length of 'routing_key' is incorrect") != std::string::npos);
    }
    SUBCASE("429 without Retry-After is retried after PagerDuty's advised 30 s") {
      pd.reply(429, R"({"status":"throttle event","message":"Requests for this service are arriving too quickly."})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 30s);
    }
    SUBCASE("429 with Retry-After is retried after it") {
      pd.reply(429, "", "application/json", {{"Retry-After", "120"}});
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 120s);
    }
    SUBCASE("500 is retried") {
      pd.reply(500, R"({"status":"error","message":"Internal Server Error"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      CHECK(result.http_status == 500);
    }
    SUBCASE("503 is retried") {
      pd.reply(503, "");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
    }
    SUBCASE("an answer that echoes the routing key does not leak it") {
      pd.reply(400,
               std::string(
                   R"({"status":"invalid event","message":"Event object is invalid","errors":["unknown routing_key )") +
                   k_routing_key + "\"]}");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("unknown routing_key") != std::string::npos);
    }
    SUBCASE("a routing key that straddles the 300-byte cut of the answer leaves no part behind") {
      // "HTTP 400: " plus 280 bytes puts the key across the cut: masked after cutting, its
      // first characters would survive.
      pd.reply(400, std::string(280, 'x') + k_routing_key);
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find(std::string(k_routing_key).substr(0, 8)) == std::string::npos);
    }
    check_no_secrets(result, {k_routing_key});
  }

  TEST_CASE("an unreachable PagerDuty is retried") {
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(closed_url() + "/v2/enqueue")));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::retry);
    check_no_secrets(result, {k_routing_key});
  }

  TEST_CASE("PagerDuty gets at most 120 events a minute") {
    auto notifier = build_notifier(notifier_config("pagerduty", {{"routing_key", secret_setting(k_routing_key, 21)}}));
    CHECK(notifier->min_interval() == 500ms);
  }

  TEST_CASE("routing_key_file is read by the config layer and used as the routing key") {
    TempDir dir;
    const std::string key_file = dir.write("pd-key", std::string(k_routing_key) + "\n");
    FakePagerDuty pd;
    const auto config =
        creditwatch::config::load_config(dir.write("c.yaml",
                                                   "accounts:\n"
                                                   "  - name: sim\n"
                                                   "    provider: simulated\n"
                                                   "notifiers:\n"
                                                   "  - name: pd\n"
                                                   "    type: pagerduty\n"
                                                   "    routing_key_file: " +
                                                       key_file + "\n    url: " + pd.enqueue_url() + "\n"));
    REQUIRE(config.notifiers.size() == 1);
    CHECK(config.notifiers[0].settings.at("routing_key").is_secret);
    auto notifier = build_notifier(config.notifiers[0]);
    CurlClient client;
    CHECK(notifier->deliver(critical_runway(), client).outcome == Outcome::delivered);
    CHECK(json::parse(pd.only_request().body)["routing_key"] == k_routing_key);
  }

  TEST_CASE("pagerduty config problems name their location") {
    SUBCASE("routing_key is required") {
      auto errors = config_errors(notifier_config("pagerduty", {}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 20);
      CHECK(errors[0].message.find("routing_key") != std::string::npos);
    }
    SUBCASE("a routing_key of the wrong length is rejected without repeating it") {
      auto errors =
          config_errors(notifier_config("pagerduty", {{"routing_key", secret_setting("R0123456789abcdef", 21)}}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 21);
      CHECK(errors[0].message.find("32") != std::string::npos);
      CHECK(errors[0].message.find("R0123456789abcdef") == std::string::npos);
    }
    SUBCASE("a url that is not http(s)") {
      auto errors = config_errors(notifier_config("pagerduty", {{"routing_key", secret_setting(k_routing_key, 21)},
                                                                {"url", scalar_setting("events.pagerduty.com", 22)}}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 22);
    }
    SUBCASE("an unknown key gets a hint") {
      auto errors = config_errors(notifier_config(
          "pagerduty", {{"routing_key", secret_setting(k_routing_key, 21)}, {"sevrity", scalar_setting("x", 22)}}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 22);
      CHECK(errors[0].message.find("sevrity") != std::string::npos);
    }
  }

  TEST_CASE("hostile text arrives as valid UTF-8 JSON within PagerDuty's limits") {
    FakePagerDuty pd;
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(pd.enqueue_url())));
    CurlClient client;
    CHECK(notifier->deliver(hostile_notification(), client).outcome == Outcome::delivered);
    const auto raw = pd.only_request().body;
    CHECK(raw.size() <= 512'000);
    const auto body = strict_json(raw);
    CHECK(code_points(body["payload"]["summary"]) <= 1024);
    CHECK(code_points(body["dedup_key"]) <= 255);
    CHECK(body["payload"]["summary"].get<std::string>().find("请检查您的密钥是否正确") != std::string::npos);
  }

  TEST_CASE("an acknowledgement is an acknowledge event with the same dedup_key and nothing else") {
    FakePagerDuty pd;
    auto notifier = build_notifier(notifier_config("pagerduty", pagerduty_settings(pd.enqueue_url())));
    CurlClient client;
    CHECK(notifier->deliver(acknowledged(critical_runway()), client).outcome == Outcome::delivered);
    const auto body = json::parse(pd.only_request().body);
    CHECK(body == json{{"routing_key", k_routing_key},
                       {"dedup_key", "creditwatch-deepseek-prod-runway"},
                       {"event_action", "acknowledge"}});
  }
}
