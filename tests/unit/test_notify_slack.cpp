// The Slack and console notifiers, built through the factory as the daemon builds them.
// Slack answers follow shared/reference/sinks.md section 1.1.
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/factory.hpp"
#include "creditwatch/notify/notification.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/notify_fixtures.hpp"
#include "fakes/process.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::config::ConfigError;
using creditwatch::config::NotifierConfig;
using creditwatch::config::Setting;
using creditwatch::config::Settings;
using creditwatch::config::SourceLocation;
using creditwatch::http::CurlClient;
using creditwatch::notify::DeliveryResult;
using creditwatch::notify::make_notifier;
using creditwatch::notify::Notification;
using creditwatch::notify::Notifier;
using creditwatch::testing::FakeHttpServer;
using creditwatch::testing::reply_json;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The secret part of a webhook URL: it must never come back in a result message.
constexpr const char* k_path = "/services/T0001/B0002/XyZsEcReTtOkEn123";

Setting setting(const std::string& value, int line) {
  Setting s;
  s.value = value;
  s.is_secret = true;
  s.where = SourceLocation{"creditwatch.yaml", line, 17};
  return s;
}

NotifierConfig slack_config(Settings settings) {
  NotifierConfig c;
  c.name = "slack-ops";
  c.type = "slack";
  c.settings = std::move(settings);
  c.where = SourceLocation{"creditwatch.yaml", 20, 5};
  return c;
}

std::unique_ptr<Notifier> build(const NotifierConfig& config) {
  std::vector<ConfigError> errors;
  auto notifier = make_notifier(config, errors);
  std::string problems;
  for (const auto& e : errors) problems += e.to_string() + "\n";
  INFO(problems);
  REQUIRE(errors.empty());
  REQUIRE(notifier);
  return notifier;
}

Notification critical_runway() {
  Notification n;
  n.dedup_key = "creditwatch-deepseek-prod-runway";
  n.at = from_unix_ms(1'777'593'600'000);  // 2026-05-01T00:00:00Z
  n.account = "deepseek-prod";
  n.provider = "deepseek";
  n.labels = {{"team", "bots"}};
  n.rule = creditwatch::alerts::Rule::runway;
  n.severity = creditwatch::alerts::Severity::critical;
  n.summary = "runway 2.5 days";
  n.balance = *Decimal::parse("12.50");
  n.currency = "USD";
  n.burn_per_day = 5.0;
  n.runway_days = 2.5;
  n.exhausted_at = n.at + 60h;
  n.recommended_topup = *Decimal::parse("170");
  return n;
}

// A fake Slack whose answer each test chooses.
struct FakeSlack {
  FakeHttpServer server;
  std::function<void(httplib::Response&)> answer = [](httplib::Response& res) {
    res.status = 200;
    res.set_content("ok", "text/html");
  };

  FakeSlack() {
    server.post("/services/.*", [this](const httplib::Request&, httplib::Response& res) { answer(res); });
    server.start();
  }
  std::string url() const { return server.url() + k_path; }
  // The server records a request just after answering it, so wait for the record.
  std::vector<creditwatch::testing::RecordedRequest> requests(std::size_t expected) const {
    creditwatch::testing::eventually([&] { return server.request_count() >= expected; }, 5s);
    return server.requests();
  }
};

void reply_text(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "text/plain");
}

void check_no_secret(const DeliveryResult& result, const std::string& url) {
  INFO("message: " << result.message);
  CHECK(result.message.find(url) == std::string::npos);
  CHECK(result.message.find("XyZsEcReTtOkEn123") == std::string::npos);
}

std::string all_text(const json& j) {
  std::string out;
  if (j.is_string()) return j.get<std::string>() + "\n";
  if (j.is_structured()) {
    for (const auto& item : j) out += all_text(item);
  }
  return out;
}

}  // namespace

TEST_SUITE("notify.slack") {
  TEST_CASE("the posted message carries text and Block Kit blocks with every figure") {
    FakeSlack slack;
    auto notifier = build(slack_config({{"webhook_url", setting(slack.url(), 21)}}));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);

    auto requests = slack.requests(1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Content-Type").find("application/json") == 0);
    auto body = json::parse(requests[0].body);
    REQUIRE(body.contains("text"));
    REQUIRE(body["text"].is_string());
    REQUIRE(body.contains("blocks"));
    REQUIRE(body["blocks"].is_array());
    REQUIRE(body["blocks"].size() == 3);
    CHECK(body["blocks"][0]["type"] == "header");
    CHECK(body["blocks"][0]["text"]["type"] == "plain_text");
    CHECK(body["blocks"][1]["type"] == "section");
    REQUIRE(body["blocks"][1]["fields"].is_array());
    CHECK(body["blocks"][1]["fields"].size() >= 5);
    CHECK(body["blocks"][2]["type"] == "context");

    const std::string exhaustion = creditwatch::format_rfc3339(critical_runway().exhausted_at.value());
    const std::string fields = all_text(body["blocks"][1]["fields"]);
    const std::string text = body["text"].get<std::string>();
    for (const std::string& figure :
         {std::string("deepseek-prod"), std::string("critical"), std::string("12.50 USD"), std::string("5.00 USD"),
          std::string("2.5 days"), exhaustion, std::string("170.00 USD")}) {
      INFO("figure: " << figure);
      CHECK(fields.find(figure) != std::string::npos);
      CHECK(text.find(figure) != std::string::npos);  // the fallback has them too
    }
    CHECK(all_text(body["blocks"][0]).find("deepseek-prod") != std::string::npos);
    CHECK(all_text(body["blocks"][2]).find("creditwatch-deepseek-prod-runway") != std::string::npos);
  }

  TEST_CASE("a resolved notification says so") {
    FakeSlack slack;
    auto notifier = build(slack_config({{"webhook_url", setting(slack.url(), 21)}}));
    CurlClient client;
    auto n = critical_runway();
    n.event = creditwatch::alerts::Event::resolved;
    n.reason = creditwatch::alerts::Reason::resolved;
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    auto body = json::parse(slack.requests(1).at(0).body);
    CHECK(all_text(body["blocks"][0]).find("RESOLVED") != std::string::npos);
  }

  TEST_CASE("Slack's answers are classified") {
    FakeSlack slack;
    auto notifier = build(slack_config({{"webhook_url", setting(slack.url(), 21)}}));
    CurlClient client;
    DeliveryResult result;

    SUBCASE("200 ok is delivered") {
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
      CHECK(result.http_status == 200);
    }
    SUBCASE("200 with another body is a permanent rejection") {
      slack.answer = [](httplib::Response& res) { reply_json(res, 200, R"({"ok":false,"error":"invalid_blocks"})"); };
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("invalid_blocks") != std::string::npos);
    }
    SUBCASE("500 rollup_error is retried") {
      slack.answer = [](httplib::Response& res) { reply_text(res, 500, "rollup_error"); };
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      CHECK(result.http_status == 500);
      CHECK(result.message.find("rollup_error") != std::string::npos);
    }
    SUBCASE("429 with a Retry-After header is retried after it") {
      slack.answer = [](httplib::Response& res) {
        res.set_header("Retry-After", "7");
        reply_json(res, 429, R"({"retry_after":7,"ok":false,"error":"rate_limited"})");
      };
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 7s);
    }
    SUBCASE("429 with retry_after only in the body") {
      slack.answer = [](httplib::Response& res) {
        reply_json(res, 429, R"({"retry_after":1,"ok":false,"error":"rate_limited"})");
      };
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 1s);
    }
    SUBCASE("400 invalid_payload is permanent") {
      slack.answer = [](httplib::Response& res) { reply_text(res, 400, "invalid_payload"); };
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.http_status == 400);
      CHECK(result.message.find("invalid_payload") != std::string::npos);
    }
    SUBCASE("a revoked webhook (404 no_service) is permanent") {
      slack.answer = [](httplib::Response& res) { reply_text(res, 404, "no_service"); };
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
    }
    SUBCASE("an answer that echoes the webhook URL does not leak it") {
      const std::string url = slack.url();
      slack.answer = [url](httplib::Response& res) { reply_text(res, 403, "invalid_token for " + url); };
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("invalid_token") != std::string::npos);
    }
    check_no_secret(result, slack.url());
  }

  TEST_CASE("an unreachable webhook is retried and the message holds no URL") {
    // Bind a port, then close the server so nothing listens there.
    std::string url;
    {
      FakeSlack gone;
      url = gone.url();
    }
    auto notifier = build(slack_config({{"webhook_url", setting(url, 21)}}));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::retry);
    check_no_secret(result, url);
  }

  TEST_CASE("Slack takes at most one message per second") {
    auto notifier = build(slack_config({{"webhook_url", setting("https://hooks.slack.com/services/T/B/x", 21)}}));
    CHECK(notifier->min_interval() == 1s);
  }

  TEST_CASE("config problems name their location") {
    std::vector<ConfigError> errors;

    SUBCASE("webhook_url is required") {
      CHECK_FALSE(make_notifier(slack_config({}), errors));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.file == "creditwatch.yaml");
      CHECK(errors[0].where.line == 20);
      CHECK(errors[0].where.column == 5);
      CHECK(errors[0].message.find("webhook_url") != std::string::npos);
    }
    SUBCASE("an unknown key gets a did-you-mean hint at its own line") {
      CHECK_FALSE(make_notifier(slack_config({{"webhook_url", setting("https://hooks.slack.com/services/T/B/x", 21)},
                                              {"webhook_ulr", setting("https://example.com", 22)}}),
                                errors));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 22);
      CHECK(errors[0].where.column == 17);
      CHECK(errors[0].message.find("webhook_ulr") != std::string::npos);
      CHECK(errors[0].message.find("did you mean \"webhook_url\"") != std::string::npos);
    }
    SUBCASE("a webhook_url that is not http(s)") {
      CHECK_FALSE(make_notifier(slack_config({{"webhook_url", setting("hooks.slack.com/services/T/B/x", 21)}}), errors));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 21);
      // The message must not repeat the secret it rejects.
      CHECK(errors[0].message.find("hooks.slack.com/services") == std::string::npos);
    }
    SUBCASE("an unknown notifier type") {
      auto config = slack_config({});
      config.type = "slak";
      CHECK_FALSE(make_notifier(config, errors));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 20);
      CHECK(errors[0].message.find("did you mean \"slack\"") != std::string::npos);
    }
  }

  TEST_CASE("hostile text arrives as valid UTF-8 JSON within Block Kit's limits") {
    using creditwatch::testing::count_code_points;
    FakeSlack slack;
    auto notifier = build(slack_config({{"webhook_url", setting(slack.url(), 21)}}));
    CurlClient client;
    // The header is cut at 150 characters: before, at 147 bytes, which split a character
    // and made the payload unserialisable.
    CHECK(notifier->deliver(creditwatch::testing::hostile_notification(), client).outcome == Outcome::delivered);
    const auto body = creditwatch::testing::strict_json(slack.requests(1).at(0).body);
    const auto& blocks = body["blocks"];
    CHECK(count_code_points(blocks[0]["text"]["text"].get<std::string>()) <= 150);
    CHECK(count_code_points(blocks[1]["text"]["text"].get<std::string>()) <= 3000);
    for (const auto& field : blocks[1]["fields"]) CHECK(count_code_points(field["text"].get<std::string>()) <= 2000);
    CHECK(count_code_points(blocks[2]["elements"][0]["text"].get<std::string>()) <= 3000);
    CHECK(count_code_points(body["text"].get<std::string>()) <= 40000);
    CHECK(blocks[1]["text"]["text"].get<std::string>().find("请检查您的密钥是否正确") != std::string::npos);
  }

  TEST_CASE("a hostile answer from Slack comes back as one line of safe text") {
    FakeSlack slack;
    const std::string hostile = creditwatch::testing::hostile_text(100);
    slack.answer = [&](httplib::Response& res) { reply_text(res, 400, hostile); };
    auto notifier = build(slack_config({{"webhook_url", setting(slack.url(), 21)}}));
    CurlClient client;
    const auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::permanent);
    CHECK(result.message.size() <= 320);
    creditwatch::testing::check_safe_text(result.message);
    CHECK(result.message.find('\n') == std::string::npos);
    CHECK(result.message.find("API 密钥无效") != std::string::npos);
  }
}

TEST_SUITE("notify.console") {
  TEST_CASE("the console notifier delivers to the log") {
    NotifierConfig config;
    config.name = "log";
    config.type = "console";
    auto notifier = build(config);
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);
    CHECK_FALSE(result.retry_after);
    CHECK(notifier->min_interval() == 0ms);

    SUBCASE("and rejects keys it does not know") {
      config.settings = {{"webhook_url", setting("https://example.com", 31)}};
      std::vector<ConfigError> errors;
      CHECK_FALSE(make_notifier(config, errors));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 31);
    }
  }

  TEST_CASE("an acknowledgement shows who, when and why in the text and in a field") {
    FakeSlack slack;
    auto notifier = build(slack_config({{"webhook_url", setting(slack.url(), 21)}}));
    CurlClient client;
    CHECK(notifier->deliver(creditwatch::testing::acknowledged(critical_runway()), client).outcome == Outcome::delivered);
    auto requests = slack.requests(1);
    REQUIRE(requests.size() == 1);
    const auto body = json::parse(requests[0].body);
    const std::string text = body["text"];
    CHECK(text.find("[ACK]") != std::string::npos);
    CHECK(text.find(std::string("Acknowledged: ") + creditwatch::testing::k_ack_text) != std::string::npos);
    CHECK(body["blocks"][1]["fields"].back()["text"] == std::string("*Acknowledged*\n") + creditwatch::testing::k_ack_text);
  }
}
