// The Microsoft Teams Workflows notifier: the Adaptive Card message of
// shared/reference/sinks.md section 1.7, 202-with-empty-body success, 429/5xx retried.
#include "creditwatch/http/curl_client.hpp"

#include "fakes/notify_fixtures.hpp"

#include <nlohmann/json.hpp>

using creditwatch::config::Settings;
using creditwatch::http::CurlClient;
using creditwatch::notify::DeliveryResult;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using nlohmann::json;
using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

// Shaped like a Workflows trigger URL: the `sig` query parameter is the credential.
constexpr const char* k_path = "/workflows/0a1b2c3d/triggers/manual/paths/invoke";
constexpr const char* k_query = "?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SiGsEcReT0123456789";
constexpr const char* k_sig = "SiGsEcReT0123456789";

struct FakeTeams : FakeSink {
  FakeTeams() : FakeSink("/workflows/.*") { reply(202, ""); }
  std::string webhook_url() const { return url() + k_path + k_query; }
};

Settings teams_settings(const std::string& url) { return {{"webhook_url", secret_setting(url, 21)}}; }

std::map<std::string, std::string> facts_of(const json& fact_set) {
  std::map<std::string, std::string> out;
  for (const auto& fact : fact_set["facts"]) out[fact["title"]] = fact["value"];
  return out;
}

}  // namespace

TEST_SUITE("notify.msteams") {
  TEST_CASE("the message is an Adaptive Card attachment with every figure") {
    FakeTeams teams;
    auto notifier = build_notifier(notifier_config("msteams", teams_settings(teams.webhook_url())));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);
    CHECK(result.http_status == 202);

    const auto request = teams.only_request();
    CHECK(request.method == "POST");
    CHECK(request.path == k_path);
    CHECK(request.target == std::string(k_path) + k_query);
    CHECK(request.header("Content-Type").find("application/json") == 0);
    const auto body = json::parse(request.body);
    CHECK(body["type"] == "message");
    REQUIRE(body["attachments"].size() == 1);
    const auto& attachment = body["attachments"][0];
    CHECK(attachment["contentType"] == "application/vnd.microsoft.card.adaptive");
    CHECK(attachment.contains("contentUrl"));
    CHECK(attachment["contentUrl"].is_null());
    const auto& card = attachment["content"];
    CHECK(card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json");
    CHECK(card["type"] == "AdaptiveCard");
    CHECK(card["version"] == "1.2");
    CHECK(card["msteams"] == json{{"width", "full"}});
    REQUIRE(card["body"].size() == 3);
    const auto& heading = card["body"][0];
    CHECK(heading["type"] == "TextBlock");
    CHECK(heading["text"] == "[CRITICAL] deepseek-prod runway: runway 2.5 days");
    CHECK(heading["weight"] == "Bolder");
    CHECK(heading["size"] == "Medium");
    CHECK(heading["wrap"] == true);
    CHECK(heading["style"] == "heading");
    CHECK(heading["color"] == "Attention");
    CHECK(card["body"][1]["type"] == "TextBlock");
    CHECK(card["body"][1]["text"] == "runway 2.5 days");
    CHECK(card["body"][2]["type"] == "FactSet");
    const auto facts = facts_of(card["body"][2]);
    CHECK(facts.at("account") == "deepseek-prod");
    CHECK(facts.at("provider") == "deepseek");
    CHECK(facts.at("severity") == "critical");
    CHECK(facts.at("balance") == "12.50 USD");
    CHECK(facts.at("burn_per_day") == "5.00 USD");
    CHECK(facts.at("runway") == "2.5 days");
    CHECK(facts.at("runway_p10").find("1.") == 0);
    CHECK(facts.at("exhausted_at") == "2026-05-03T12:00:00Z");
    CHECK(facts.at("recommended_topup") == "170.00 USD");
    CHECK(facts.at("dedup_key") == "creditwatch-deepseek-prod-runway");
    CHECK(facts.at("label.team") == "bots");
  }

  TEST_CASE("colours follow Alertmanager: Good resolved and Warning below critical") {
    FakeTeams teams;
    auto notifier = build_notifier(notifier_config("msteams", teams_settings(teams.webhook_url())));
    CurlClient client;
    auto n = critical_runway();
    std::string expected;
    SUBCASE("resolved") {
      n = resolved(n);
      expected = "Good";
    }
    SUBCASE("warning") {
      n.severity = creditwatch::alerts::Severity::warning;
      expected = "Warning";
    }
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto body = json::parse(teams.only_request().body);
    CHECK(body["attachments"][0]["content"]["body"][0]["color"] == expected);
  }

  TEST_CASE("a huge summary keeps the card far below Teams' 28 KB") {
    FakeTeams teams;
    auto notifier = build_notifier(notifier_config("msteams", teams_settings(teams.webhook_url())));
    CurlClient client;
    auto n = critical_runway();
    n.summary = std::string(50'000, 'x');
    for (int i = 0; i < 100; ++i) n.labels["label" + std::to_string(i)] = std::string(1000, 'v');
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    CHECK(teams.only_request().body.size() < 28'000);
  }

  TEST_CASE("Teams' answers are classified") {
    FakeTeams teams;
    auto notifier = build_notifier(notifier_config("msteams", teams_settings(teams.webhook_url())));
    CurlClient client;
    DeliveryResult result;

    SUBCASE("200 is delivered too") {
      teams.reply(200, "");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
    }
    SUBCASE("429 is retried after Retry-After") {
      teams.reply(429, R"({"error":{"code":"TooManyRequests","message":"Rate limit is exceeded."}})",
                  "application/json", {{"Retry-After", "12"}});
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 12s);
    }
    SUBCASE("502 is retried") {
      teams.reply(502, "");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
    }
    SUBCASE("413 request entity too large is permanent") {
      teams.reply(413, "request entity too large", "text/plain");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
    }
    SUBCASE("an answer that echoes the trigger URL does not leak its signature") {
      teams.reply(401, std::string(R"({"error":{"code":"DirectApiAuthorizationRequired","message":"bad sig for )") +
                           teams.webhook_url() + "\"}}");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("DirectApiAuthorizationRequired") != std::string::npos);
    }
    check_no_secrets(result, {teams.webhook_url(), k_path, k_query, k_sig});
  }

  TEST_CASE("an unreachable Teams is retried and the message holds no URL") {
    const std::string url = closed_url() + k_path + k_query;
    auto notifier = build_notifier(notifier_config("msteams", teams_settings(url)));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::retry);
    check_no_secrets(result, {url, k_sig});
  }

  TEST_CASE("Teams gets at most four messages a second") {
    auto notifier = build_notifier(notifier_config("msteams", teams_settings("https://example.logic.azure.com/x")));
    CHECK(notifier->min_interval() == 250ms);
  }

  TEST_CASE("msteams config problems name their location") {
    auto errors = config_errors(notifier_config("msteams", {}));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].where.line == 20);
    CHECK(errors[0].message.find("webhook_url") != std::string::npos);
  }

  TEST_CASE("hostile text arrives as valid UTF-8 JSON within Teams' limits") {
    FakeTeams teams;
    auto notifier = build_notifier(notifier_config("msteams", teams_settings(teams.webhook_url())));
    CurlClient client;
    CHECK(notifier->deliver(hostile_notification(), client).outcome == Outcome::delivered);
    const auto raw = teams.only_request().body;
    CHECK(raw.size() < 28'000);
    const auto body = strict_json(raw);
    const auto& card = body["attachments"][0]["content"]["body"];
    CHECK(count_code_points(card[0]["text"].get<std::string>()) <= 512);
    CHECK(count_code_points(card[1]["text"].get<std::string>()) <= 4000);
    CHECK(card[1]["text"].get<std::string>().find("请检查您的密钥是否正确") != std::string::npos);
    for (const auto& fact : card[2]["facts"]) CHECK(count_code_points(fact["value"].get<std::string>()) <= 512);
  }

  TEST_CASE("four-byte characters and quotes in every figure still keep the message below 28 KB") {
    FakeTeams teams;
    auto notifier = build_notifier(notifier_config("msteams", teams_settings(teams.webhook_url())));
    CurlClient client;
    auto n = hostile_notification();
    n.summary = std::string(20'000, '"');  // each one is two bytes once escaped
    std::string emoji;
    for (int i = 0; i < 1000; ++i) emoji += "\xF0\x9F\x92\xB8";  // 💸
    for (int i = 0; i < 100; ++i) n.labels["标签" + std::to_string(i)] = emoji;
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto raw = teams.only_request().body;
    CHECK(raw.size() < 28'000);
    const auto body = strict_json(raw);
    const auto& card = body["attachments"][0]["content"]["body"];
    CHECK_FALSE(card[1]["text"].get<std::string>().empty());
    CHECK(card[2]["facts"].size() == 40);
  }

  TEST_CASE("an acknowledgement is a fact with who, when and why") {
    FakeTeams teams;
    auto notifier = build_notifier(notifier_config("msteams", teams_settings(teams.webhook_url())));
    CurlClient client;
    CHECK(notifier->deliver(acknowledged(critical_runway()), client).outcome == Outcome::delivered);
    const std::string body = teams.only_request().body;
    CHECK(body.find(std::string(R"({"title":"acknowledged","value":")") + k_ack_text + "\"}") != std::string::npos);
  }
}
