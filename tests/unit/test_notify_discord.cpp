// The Discord webhook notifier against a loopback fake answering as
// shared/reference/sinks.md section 1.6 describes: 200 with wait=true, 429 with a
// fractional retry_after and X-RateLimit-* headers, 404 for a deleted webhook.
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

constexpr const char* k_path = "/api/webhooks/1234567890/wHtOkEnSeCrEt-abcdef";
constexpr const char* k_token = "wHtOkEnSeCrEt-abcdef";
constexpr const char* k_message =
    R"({"id":"1180000000000000000","type":0,"content":"[CRITICAL] deepseek-prod runway: runway 2.5 days","channel_id":"1100000000000000000","webhook_id":"1234567890"})";
constexpr const char* k_rate_limited =
    R"({"message":"You are being rate limited.","retry_after":64.57,"global":false})";

struct FakeDiscord : FakeSink {
  FakeDiscord() : FakeSink("/api/webhooks/.*") { reply(200, k_message); }
  std::string webhook_url() const { return url() + k_path; }
};

Settings discord_settings(const std::string& url) { return {{"webhook_url", secret_setting(url, 21)}}; }

std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

TEST_SUITE("notify.discord") {
  TEST_CASE("the message has content for the push and an embed with every figure") {
    FakeDiscord discord;
    auto settings = discord_settings(discord.webhook_url());
    settings["username"] = scalar_setting("creditwatch", 22);
    auto notifier = build_notifier(notifier_config("discord", settings));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);
    CHECK(result.http_status == 200);
    CHECK_FALSE(result.retry_after);

    const auto request = discord.only_request();
    CHECK(request.method == "POST");
    CHECK(request.path == k_path);
    CHECK(request.target == std::string(k_path) + "?wait=true");
    CHECK(request.header("Content-Type").find("application/json") == 0);
    const auto body = json::parse(request.body);
    CHECK(body["content"] == "[CRITICAL] deepseek-prod runway: runway 2.5 days");
    CHECK(body["username"] == "creditwatch");
    CHECK(body["allowed_mentions"] == json{{"parse", json::array()}});
    REQUIRE(body["embeds"].size() == 1);
    const auto& embed = body["embeds"][0];
    CHECK(embed["title"] == "deepseek-prod (deepseek)");
    CHECK(embed["color"] == 0x992D22);
    CHECK(embed["footer"]["text"].get<std::string>().find("creditwatch-deepseek-prod-runway") != std::string::npos);
    const auto description = embed["description"].get<std::string>();
    for (const std::string figure : {"runway 2.5 days", "12.50 USD", "5.00 USD", "2.5 days", "2026-05-03T12:00:00Z",
                                     "170.00 USD", "team: bots", "critical"}) {
      INFO(figure);
      CHECK(description.find(figure) != std::string::npos);
    }
  }

  TEST_CASE("a webhook URL with a query keeps it and adds wait=true") {
    FakeDiscord discord;
    auto notifier =
        build_notifier(notifier_config("discord", discord_settings(discord.webhook_url() + "?thread_id=42")));
    CurlClient client;
    CHECK(notifier->deliver(critical_runway(), client).outcome == Outcome::delivered);
    CHECK(discord.only_request().target == std::string(k_path) + "?thread_id=42&wait=true");
  }

  TEST_CASE("a resolution is green") {
    FakeDiscord discord;
    auto notifier = build_notifier(notifier_config("discord", discord_settings(discord.webhook_url())));
    CurlClient client;
    CHECK(notifier->deliver(resolved(critical_runway()), client).outcome == Outcome::delivered);
    const auto body = json::parse(discord.only_request().body);
    CHECK(body["content"].get<std::string>().find("[RESOLVED]") != std::string::npos);
    CHECK(body["embeds"][0]["color"] == 0x2ECC71);
  }

  TEST_CASE("content and embed stay within Discord's limits") {
    FakeDiscord discord;
    auto notifier = build_notifier(notifier_config("discord", discord_settings(discord.webhook_url())));
    CurlClient client;
    auto n = critical_runway();
    n.summary = std::string(5000, 's');
    n.account = std::string(300, 'a');
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto body = json::parse(discord.only_request().body);
    CHECK(code_points(body["content"]) == 2000);
    const auto& embed = body["embeds"][0];
    CHECK(code_points(embed["title"]) == 256);
    CHECK(code_points(embed["description"]) <= 4096);
    CHECK(code_points(embed["title"]) + code_points(embed["description"]) + code_points(embed["footer"]["text"]) <=
          6000);
  }

  TEST_CASE("Discord's answers are classified") {
    FakeDiscord discord;
    auto notifier = build_notifier(notifier_config("discord", discord_settings(discord.webhook_url())));
    CurlClient client;
    DeliveryResult result;

    SUBCASE("204 without wait is delivered too") {
      discord.reply(204, "");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
      CHECK(result.http_status == 204);
    }
    SUBCASE("429 is retried after the body's fractional retry_after") {
      discord.reply(429, k_rate_limited, "application/json",
                    {{"Retry-After", "65"},
                     {"X-RateLimit-Limit", "5"},
                     {"X-RateLimit-Remaining", "0"},
                     {"X-RateLimit-Reset", "1777593664.570"},
                     {"X-RateLimit-Reset-After", "64.57"},
                     {"X-RateLimit-Bucket", "abcd1234"},
                     {"X-RateLimit-Scope", "user"}});
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      CHECK(result.http_status == 429);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 65s);  // the Retry-After header rounds 64.57 up: the longest wins
    }
    SUBCASE("429 with only the body's retry_after keeps its precision") {
      discord.reply(429, R"({"message":"You are being rate limited.","retry_after":0.376,"global":false})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 376ms);
    }
    SUBCASE("a success that spends the bucket asks for a pause until it resets") {
      discord.reply(200, k_message, "application/json",
                    {{"X-RateLimit-Limit", "5"}, {"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset-After", "1.5"}});
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 1500ms);
    }
    SUBCASE("a success with requests left asks for no pause") {
      discord.reply(200, k_message, "application/json",
                    {{"X-RateLimit-Limit", "5"}, {"X-RateLimit-Remaining", "4"}, {"X-RateLimit-Reset-After", "1.5"}});
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
      CHECK_FALSE(result.retry_after);
    }
    SUBCASE("400 is permanent and keeps Discord's explanation") {
      discord.reply(400, R"({"message":"Cannot send an empty message","code":50006})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("Cannot send an empty message") != std::string::npos);
    }
    SUBCASE("500 is retried") {
      discord.reply(502, "Bad Gateway", "text/plain");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
    }
    SUBCASE("404 means the webhook is gone: permanent and never called again") {
      discord.reply(404, R"({"message":"Unknown Webhook","code":10015})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("Unknown Webhook") != std::string::npos);
      discord.reply(200, k_message);
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("webhook_url") != std::string::npos);
      CHECK(discord.requests(1).size() == 1);
    }
    SUBCASE("an answer that echoes the webhook URL does not leak it") {
      discord.reply(401, std::string(R"({"message":"Invalid Webhook Token for )") + discord.webhook_url() + "\"}");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("Invalid Webhook Token") != std::string::npos);
    }
    check_no_secrets(result, {discord.webhook_url(), k_path, k_token});
  }

  TEST_CASE("an unreachable Discord is retried and the message holds no token") {
    const std::string url = closed_url() + k_path;
    auto notifier = build_notifier(notifier_config("discord", discord_settings(url)));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::retry);
    check_no_secrets(result, {url, k_token});
  }

  TEST_CASE("Discord's pace comes from its headers and not from a fixed gap") {
    auto notifier =
        build_notifier(notifier_config("discord", discord_settings("https://discord.com/api/webhooks/1/x")));
    CHECK(notifier->min_interval() == 0ms);
  }

  TEST_CASE("discord config problems name their location") {
    SUBCASE("webhook_url is required") {
      auto errors = config_errors(notifier_config("discord", {}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 20);
      CHECK(errors[0].message.find("webhook_url") != std::string::npos);
    }
    SUBCASE("a webhook_url that is not http(s) is rejected without repeating it") {
      auto errors = config_errors(notifier_config("discord", discord_settings("discord.com/api/webhooks/1/x")));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 21);
      CHECK(errors[0].message.find("discord.com") == std::string::npos);
    }
  }

  TEST_CASE("hostile text arrives as valid UTF-8 JSON within Discord's limits") {
    FakeDiscord discord;
    auto notifier = build_notifier(notifier_config("discord", discord_settings(discord.webhook_url())));
    CurlClient client;
    CHECK(notifier->deliver(hostile_notification(), client).outcome == Outcome::delivered);
    const auto body = strict_json(discord.only_request().body);
    CHECK(code_points(body["content"]) <= 2000);
    const auto& embed = body["embeds"][0];
    const std::string title = embed["title"];
    const std::string description = embed["description"];
    const std::string footer = embed["footer"]["text"];
    CHECK(code_points(title) <= 256);
    CHECK(code_points(description) <= 4096);
    CHECK(code_points(title) + code_points(description) + code_points(footer) <= 6000);
    CHECK(description.find("请检查您的密钥是否正确") != std::string::npos);  // the provider's words arrive
  }

  TEST_CASE("an acknowledgement shows who, when and why in the embed") {
    FakeDiscord discord;
    auto notifier = build_notifier(notifier_config("discord", discord_settings(discord.webhook_url())));
    CurlClient client;
    CHECK(notifier->deliver(acknowledged(critical_runway()), client).outcome == Outcome::delivered);
    const auto body = json::parse(discord.only_request().body);
    const std::string description = body["embeds"][0]["description"];
    CHECK(description.find(std::string("Acknowledged: ") + k_ack_text) != std::string::npos);
  }
}
