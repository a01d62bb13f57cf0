// The ntfy notifier against a loopback fake answering as shared/reference/sinks.md
// section 1.9 describes: 200 with the stored message, JSON errors with ntfy's codes.
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

constexpr const char* k_topic = "creditwatch-alerts-x7q";
constexpr const char* k_token = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2";
constexpr const char* k_password = "ntfy-pa55word";
constexpr const char* k_stored =
    R"({"id":"sPs71M8A2T","time":1777593600,"expires":1777636800,"event":"message","topic":"creditwatch-alerts-x7q","title":"[CRITICAL] deepseek-prod runway: runway 2.5 days","message":"runway 2.5 days","priority":5,"tags":["rotating_light","creditwatch","runway"]})";

struct FakeNtfy : FakeSink {
  FakeNtfy() : FakeSink("/.*") { reply(200, k_stored); }
};

Settings ntfy_settings(const std::string& url) {
  return {{"url", scalar_setting(url, 21)}, {"topic", scalar_setting(k_topic, 22)}};
}

}  // namespace

TEST_SUITE("notify.ntfy") {
  TEST_CASE("a message is the text body with Title Priority and Tags headers") {
    FakeNtfy ntfy;
    auto settings = ntfy_settings(ntfy.url());
    settings["token"] = secret_setting(k_token, 23);
    auto notifier = build_notifier(notifier_config("ntfy", settings));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);
    CHECK(result.http_status == 200);

    const auto request = ntfy.only_request();
    CHECK(request.method == "POST");
    CHECK(request.target == std::string("/") + k_topic);
    CHECK(request.header("Content-Type").find("text/plain") == 0);
    CHECK(request.header("Title") == "[CRITICAL] deepseek-prod runway: runway 2.5 days");
    CHECK(request.header("Priority") == "5");
    CHECK(request.header("Tags") == "rotating_light,creditwatch,runway");
    CHECK(request.header("Markdown") == "no");
    CHECK(request.header("Authorization") == std::string("Bearer ") + k_token);
    CHECK(request.body.rfind("runway 2.5 days\n\n", 0) == 0);
    for (const std::string figure :
         {"12.50 USD", "5.00 USD", "2.5 days", "2026-05-03T12:00:00Z", "170.00 USD", "bots"}) {
      INFO(figure);
      CHECK(request.body.find(figure) != std::string::npos);
    }
  }

  TEST_CASE("priorities and tags follow severity and resolution") {
    FakeNtfy ntfy;
    auto notifier = build_notifier(notifier_config("ntfy", ntfy_settings(ntfy.url())));
    CurlClient client;
    auto n = critical_runway();
    std::string priority;
    std::string tags;
    SUBCASE("warning") {
      n.severity = creditwatch::alerts::Severity::warning;
      priority = "4";
      tags = "warning,creditwatch,runway";
    }
    SUBCASE("info") {
      n.severity = creditwatch::alerts::Severity::info;
      priority = "3";
      tags = "information_source,creditwatch,runway";
    }
    SUBCASE("resolved") {
      n = resolved(n);
      priority = "2";
      tags = "white_check_mark,creditwatch,runway";
    }
    SUBCASE("a test notification") {
      n.test = true;
      priority = "5";
      tags = "rotating_light,creditwatch,runway,test";
    }
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto request = ntfy.only_request();
    CHECK(request.header("Priority") == priority);
    CHECK(request.header("Tags") == tags);
    CHECK(request.header("Authorization").empty());
  }

  TEST_CASE("basic auth with username and password") {
    FakeNtfy ntfy;
    auto settings = ntfy_settings(ntfy.url() + "/");
    settings["username"] = scalar_setting("alerts", 23);
    settings["password"] = secret_setting(k_password, 24);
    auto notifier = build_notifier(notifier_config("ntfy", settings));
    CurlClient client;
    CHECK(notifier->deliver(critical_runway(), client).outcome == Outcome::delivered);
    const auto request = ntfy.only_request();
    CHECK(request.target == std::string("/") + k_topic);
    // "alerts:ntfy-pa55word" in base64.
    CHECK(request.header("Authorization") == "Basic YWxlcnRzOm50ZnktcGE1NXdvcmQ=");
  }

  TEST_CASE("a non-ASCII title is RFC 2047-encoded") {
    FakeNtfy ntfy;
    auto notifier = build_notifier(notifier_config("ntfy", ntfy_settings(ntfy.url())));
    CurlClient client;
    auto n = critical_runway();
    n.summary = "Laufzeit über";
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    // base64("[CRITICAL] deepseek-prod runway: Laufzeit über")
    CHECK(ntfy.only_request().header("Title") ==
          "=?UTF-8?B?W0NSSVRJQ0FMXSBkZWVwc2Vlay1wcm9kIHJ1bndheTogTGF1ZnplaXQgw7xiZXI=?=");
  }

  TEST_CASE("the message is cut to 4096 bytes") {
    FakeNtfy ntfy;
    auto notifier = build_notifier(notifier_config("ntfy", ntfy_settings(ntfy.url())));
    CurlClient client;
    auto n = critical_runway();
    n.summary.clear();
    for (int i = 0; i < 3000; ++i) n.summary += "\xC3\xA9";  // 6000 bytes of "é"
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto body = ntfy.only_request().body;
    CHECK(body.size() <= 4096);
    CHECK(body.size() >= 4090);
    CHECK(json(body).dump().size() > 0);  // still valid UTF-8: nlohmann throws otherwise
  }

  TEST_CASE("ntfy's answers are classified") {
    FakeNtfy ntfy;
    auto settings = ntfy_settings(ntfy.url());
    settings["token"] = secret_setting(k_token, 23);
    auto notifier = build_notifier(notifier_config("ntfy", settings));
    CurlClient client;
    DeliveryResult result;

    SUBCASE("429 too many requests is retried") {
      ntfy.reply(
          429,
          R"({"code":42901,"http":429,"error":"limit reached: too many requests","link":"https://ntfy.sh/docs/publish/#limitations"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      CHECK(result.message.find("42901") != std::string::npos);
    }
    SUBCASE("429 daily quota is retried") {
      ntfy.reply(
          429,
          R"({"code":42908,"http":429,"error":"limit reached: daily message quota reached","link":"https://ntfy.sh/docs/publish/#limitations"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
    }
    SUBCASE("403 is permanent") {
      ntfy.reply(
          403,
          R"({"code":40301,"http":403,"error":"forbidden","link":"https://ntfy.sh/docs/publish/#authentication"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("forbidden") != std::string::npos);
    }
    SUBCASE("413 is permanent") {
      ntfy.reply(413, R"({"code":41303,"http":413,"error":"JSON body too large"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
    }
    SUBCASE("500 is retried") {
      ntfy.reply(500, R"({"code":50001,"http":500,"error":"internal server error"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
    }
    SUBCASE("the stored message echoes the topic but the result does not") {
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
    }
    SUBCASE("an error that echoes the token does not leak it") {
      ntfy.reply(401, std::string(R"({"code":40101,"http":401,"error":"unauthorized: )") + k_token + "\"}");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("unauthorized") != std::string::npos);
    }
    check_no_secrets(result, {k_token, k_topic});
  }

  TEST_CASE("an unreachable ntfy is retried") {
    auto notifier = build_notifier(notifier_config("ntfy", ntfy_settings(closed_url())));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::retry);
    check_no_secrets(result, {k_topic});
  }

  TEST_CASE("ntfy gets one message every 5 s which is its default refill rate") {
    auto notifier = build_notifier(notifier_config("ntfy", {{"topic", scalar_setting(k_topic, 22)}}));
    CHECK(notifier->min_interval() == 5s);
  }

  TEST_CASE("ntfy config problems name their location") {
    SUBCASE("topic is required") {
      auto errors = config_errors(notifier_config("ntfy", {}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 20);
      CHECK(errors[0].message.find("topic") != std::string::npos);
    }
    SUBCASE("a topic ntfy would refuse") {
      auto errors = config_errors(notifier_config("ntfy", {{"topic", scalar_setting("alerts/prod", 22)}}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 22);
    }
    SUBCASE("token and basic auth together") {
      auto settings = ntfy_settings("https://ntfy.example.com");
      settings["token"] = secret_setting(k_token, 23);
      settings["username"] = scalar_setting("alerts", 24);
      settings["password"] = secret_setting(k_password, 25);
      auto errors = config_errors(notifier_config("ntfy", settings));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 23);
    }
    SUBCASE("a username without a password") {
      auto settings = ntfy_settings("https://ntfy.example.com");
      settings["username"] = scalar_setting("alerts", 24);
      auto errors = config_errors(notifier_config("ntfy", settings));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 24);
    }
  }

  TEST_CASE("hostile text arrives as safe text within ntfy's 4096 bytes and a one-line ASCII title") {
    FakeNtfy ntfy;
    auto notifier = build_notifier(notifier_config("ntfy", ntfy_settings(ntfy.url())));
    CurlClient client;
    CHECK(notifier->deliver(hostile_notification(), client).outcome == Outcome::delivered);
    const auto request = ntfy.only_request();
    CHECK(request.body.size() <= 4096);
    check_safe_text(request.body);
    CHECK(request.body.find("请检查您的密钥是否正确") != std::string::npos);
    const auto title = request.header("Title");
    CHECK(title.rfind("=?UTF-8?B?", 0) == 0);
    CHECK(std::all_of(title.begin(), title.end(), [](char c) { return c > 0x20 && c < 0x7F; }));
  }

  TEST_CASE("an acknowledgement shows who, when and why in the message") {
    FakeNtfy ntfy;
    auto notifier = build_notifier(notifier_config("ntfy", ntfy_settings(ntfy.url())));
    CurlClient client;
    CHECK(notifier->deliver(acknowledged(critical_runway()), client).outcome == Outcome::delivered);
    const auto request = ntfy.only_request();
    CHECK(request.body.find(std::string("Acknowledged: ") + k_ack_text) != std::string::npos);
    CHECK(request.header("Title").find("[ACK]") != std::string::npos);
  }
}
