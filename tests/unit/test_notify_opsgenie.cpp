// The Opsgenie notifier against a loopback fake answering as shared/reference/sinks.md
// section 1.8 describes: create and close by alias, 202 "Request will be processed".
#include "creditwatch/http/curl_client.hpp"

#include "fakes/notify_fixtures.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

using creditwatch::config::Settings;
using creditwatch::http::CurlClient;
using creditwatch::notify::DeliveryResult;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using nlohmann::json;
using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_api_key = "eb243592-faa2-4ba2-a551q-1afdf565c889";
constexpr const char* k_accepted =
    R"({"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"})";

struct FakeOpsgenie : FakeSink {
  FakeOpsgenie() : FakeSink("/v2/alerts.*") { reply(202, k_accepted); }
};

Settings opsgenie_settings(const std::string& url) {
  return {{"api_key", secret_setting(k_api_key, 21)}, {"url", scalar_setting(url, 22)}};
}

std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

TEST_SUITE("notify.opsgenie") {
  TEST_CASE("a firing alert creates an Opsgenie alert aliased by the dedup key") {
    FakeOpsgenie opsgenie;
    auto settings = opsgenie_settings(opsgenie.url() + "/");  // a trailing slash must not double
    settings["tags"] = list_setting({"billing", "team-bots"}, 23);
    auto notifier = build_notifier(notifier_config("opsgenie", settings));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);
    CHECK(result.http_status == 202);

    const auto request = opsgenie.only_request();
    CHECK(request.method == "POST");
    CHECK(request.target == "/v2/alerts");
    CHECK(request.header("Authorization") == std::string("GenieKey ") + k_api_key);
    CHECK(request.header("Content-Type").find("application/json") == 0);
    const auto body = json::parse(request.body);
    CHECK(body["message"] == "[CRITICAL] deepseek-prod runway: runway 2.5 days");
    CHECK(body["alias"] == "creditwatch-deepseek-prod-runway");
    CHECK(body["priority"] == "P1");
    CHECK(body["entity"] == "deepseek-prod");
    CHECK(body["source"] == "creditwatch");
    CHECK(body["tags"] == json{"creditwatch", "runway", "critical", "deepseek", "billing", "team-bots"});
    const auto description = body["description"].get<std::string>();
    CHECK(description.find("12.50 USD") != std::string::npos);
    CHECK(description.find("2026-05-03T12:00:00Z") != std::string::npos);
    const auto& details = body["details"];
    for (const auto& [key, value] : details.items()) {
      INFO(key);
      CHECK(value.is_string());  // Opsgenie's details are a string map
    }
    CHECK(details["account"] == "deepseek-prod");
    CHECK(details["provider"] == "deepseek");
    CHECK(details["rule"] == "runway");
    CHECK(details["balance"] == "12.50 USD");
    CHECK(details["burn_per_day"] == "5.00 USD");
    CHECK(details["runway"] == "2.5 days");
    CHECK(details["exhausted_at"] == "2026-05-03T12:00:00Z");
    CHECK(details["recommended_topup"] == "170.00 USD");
    CHECK(details["label.team"] == "bots");
  }

  TEST_CASE("priorities map critical to P1 and info to P5") {
    FakeOpsgenie opsgenie;
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(opsgenie.url())));
    CurlClient client;
    auto n = critical_runway();
    std::string expected;
    SUBCASE("warning") {
      n.severity = creditwatch::alerts::Severity::warning;
      expected = "P3";
    }
    SUBCASE("info") {
      n.severity = creditwatch::alerts::Severity::info;
      expected = "P5";
    }
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    CHECK(json::parse(opsgenie.only_request().body)["priority"] == expected);
  }

  TEST_CASE("a resolution closes the alert by its alias") {
    FakeOpsgenie opsgenie;
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(opsgenie.url())));
    CurlClient client;
    auto n = resolved(critical_runway());
    n.dedup_key = "creditwatch-acct a/b-runway";  // must be escaped in the path
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto request = opsgenie.only_request();
    CHECK(request.method == "POST");
    CHECK(request.target == "/v2/alerts/creditwatch-acct%20a%2Fb-runway/close?identifierType=alias");
    CHECK(request.header("Authorization") == std::string("GenieKey ") + k_api_key);
    const auto body = json::parse(request.body);
    CHECK(body["source"] == "creditwatch");
    CHECK(body["note"].get<std::string>().find("[RESOLVED]") != std::string::npos);
  }

  TEST_CASE("the message is cut to 130 characters") {
    FakeOpsgenie opsgenie;
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(opsgenie.url())));
    CurlClient client;
    auto n = critical_runway();
    n.summary = std::string(400, 'z');
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto body = json::parse(opsgenie.only_request().body);
    CHECK(code_points(body["message"]) == 130);
    CHECK(body["description"].get<std::string>().find(std::string(400, 'z')) != std::string::npos);
  }

  TEST_CASE("a test notification is tagged test") {
    FakeOpsgenie opsgenie;
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(opsgenie.url())));
    CurlClient client;
    auto n = critical_runway();
    n.test = true;
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto body = json::parse(opsgenie.only_request().body);
    CHECK(body["message"].get<std::string>().rfind("[TEST] ", 0) == 0);
    CHECK(std::find(body["tags"].begin(), body["tags"].end(), "test") != body["tags"].end());
  }

  TEST_CASE("Opsgenie's answers are classified") {
    FakeOpsgenie opsgenie;
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(opsgenie.url())));
    CurlClient client;
    DeliveryResult result;

    SUBCASE("429 is retried") {
      opsgenie.reply(429, R"({"message":"Request rejected due to rate limiting","took":0.001,"requestId":"r1"})",
                     "application/json", {{"X-RateLimit-State", "THROTTLED"}});
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      CHECK(result.http_status == 429);
    }
    SUBCASE("500 is retried") {
      opsgenie.reply(500, R"({"message":"Internal Server Error","took":0.0,"requestId":"r2"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
    }
    SUBCASE("422 is permanent and keeps Opsgenie's explanation") {
      opsgenie.reply(
          422,
          R"({"message":"Request body is not processable. Please check the errors.","errors":{"message":"Message can not be empty."},"took":0.0,"requestId":"r3"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("Message can not be empty.") != std::string::npos);
    }
    SUBCASE("401 is permanent and the key it rejected is not repeated") {
      opsgenie.reply(401, std::string(R"({"message":"Could not authenticate with GenieKey )") + k_api_key +
                              R"(","took":0.0,"requestId":"r4"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("Could not authenticate") != std::string::npos);
    }
    check_no_secrets(result, {k_api_key});
  }

  TEST_CASE("an unreachable Opsgenie is retried") {
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(closed_url())));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::retry);
    check_no_secrets(result, {k_api_key});
  }

  TEST_CASE("opsgenie config problems name their location") {
    SUBCASE("api_key is required") {
      auto errors = config_errors(notifier_config("opsgenie", {}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 20);
      CHECK(errors[0].message.find("api_key") != std::string::npos);
    }
    SUBCASE("tags must be a list") {
      auto settings = opsgenie_settings("https://api.eu.opsgenie.com");
      settings["tags"] = scalar_setting("billing", 23);
      auto errors = config_errors(notifier_config("opsgenie", settings));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 23);
    }
  }

  TEST_CASE("hostile text arrives as valid UTF-8 JSON within Opsgenie's limits") {
    FakeOpsgenie opsgenie;
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(opsgenie.url())));
    CurlClient client;
    CHECK(notifier->deliver(hostile_notification(), client).outcome == Outcome::delivered);
    const auto body = strict_json(opsgenie.only_request().body);
    CHECK(code_points(body["message"]) <= 130);
    CHECK(code_points(body["alias"]) <= 512);
    CHECK(code_points(body["description"]) <= 15000);
    CHECK(code_points(body["entity"]) <= 512);
    for (const auto& tag : body["tags"]) CHECK(code_points(tag) <= 50);
    CHECK(body["description"].get<std::string>().find("请检查您的密钥是否正确") != std::string::npos);
  }

  TEST_CASE("an acknowledgement acknowledges the alert by its alias, with who and why") {
    FakeOpsgenie opsgenie;
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(opsgenie.url())));
    CurlClient client;
    CHECK(notifier->deliver(acknowledged(critical_runway()), client).outcome == Outcome::delivered);
    const auto request = opsgenie.only_request();
    CHECK(request.method == "POST");
    CHECK(request.target == "/v2/alerts/creditwatch-deepseek-prod-runway/acknowledge?identifierType=alias");
    CHECK(request.header("Authorization") == std::string("GenieKey ") + k_api_key);
    CHECK(json::parse(request.body) ==
          json{{"user", "alice"}, {"note", "topping up today"}, {"source", "creditwatch"}});
  }

  TEST_CASE("an acknowledgement without a comment sends no note") {
    FakeOpsgenie opsgenie;
    auto notifier = build_notifier(notifier_config("opsgenie", opsgenie_settings(opsgenie.url())));
    CurlClient client;
    CHECK(notifier->deliver(acknowledged(critical_runway(), ""), client).outcome == Outcome::delivered);
    CHECK(json::parse(opsgenie.only_request().body) == json{{"user", "alice"}, {"source", "creditwatch"}});
  }
}
