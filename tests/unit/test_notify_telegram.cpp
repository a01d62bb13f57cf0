// The Telegram notifier against a loopback fake Bot API answering with the envelopes of
// shared/reference/sinks.md section 1.10. The bot token is in the URL path, so every
// result is checked for it.
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

constexpr const char* k_token = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
constexpr const char* k_token_secret_part = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
constexpr const char* k_sent =
    R"({"ok":true,"result":{"message_id":42,"date":1777593600,"chat":{"id":-1001234567890,"type":"supergroup","title":"ops"},"text":"[CRITICAL] deepseek-prod runway: runway 2.5 days"}})";

struct FakeTelegram : FakeSink {
  FakeTelegram() : FakeSink("/bot.*/sendMessage") { reply(200, k_sent); }
};

Settings telegram_settings(const std::string& api_url, const std::string& chat_id = "-1001234567890") {
  return {{"bot_token", secret_setting(k_token, 21)},
          {"chat_id", scalar_setting(chat_id, 22)},
          {"api_url", scalar_setting(api_url, 23)}};
}

std::size_t utf16_units(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

// What Telegram counts: the text after HTML entities are parsed.
std::string without_html(std::string text) {
  for (const std::string tag : {"<b>", "</b>"}) {
    for (auto pos = text.find(tag); pos != std::string::npos; pos = text.find(tag)) text.erase(pos, tag.size());
  }
  for (const auto& [entity, plain] :
       std::vector<std::pair<std::string, std::string>>{{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
    for (auto pos = text.find(entity); pos != std::string::npos; pos = text.find(entity, pos + 1)) {
      text.replace(pos, entity.size(), plain);
    }
  }
  return text;
}

}  // namespace

TEST_SUITE("notify.telegram") {
  TEST_CASE("sendMessage gets the chat an HTML text with every figure") {
    FakeTelegram telegram;
    auto notifier = build_notifier(notifier_config("telegram", telegram_settings(telegram.url())));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);
    CHECK(result.http_status == 200);

    const auto request = telegram.only_request();
    CHECK(request.method == "POST");
    CHECK(request.target == std::string("/bot") + k_token + "/sendMessage");
    CHECK(request.header("Content-Type").find("application/json") == 0);
    const auto body = json::parse(request.body);
    CHECK(body["chat_id"] == -1001234567890LL);  // numeric ids go as numbers
    CHECK(body["parse_mode"] == "HTML");
    CHECK(body["link_preview_options"] == json{{"is_disabled", true}});
    CHECK_FALSE(body.contains("message_thread_id"));
    const auto text = body["text"].get<std::string>();
    CHECK(text.rfind("<b>[CRITICAL] deepseek-prod runway: runway 2.5 days</b>\n", 0) == 0);
    for (const std::string figure :
         {"12.50 USD", "5.00 USD", "2.5 days", "2026-05-03T12:00:00Z", "170.00 USD", "bots"}) {
      INFO(figure);
      CHECK(text.find(figure) != std::string::npos);
    }
  }

  TEST_CASE("text we did not write is escaped for HTML") {
    FakeTelegram telegram;
    auto notifier = build_notifier(notifier_config("telegram", telegram_settings(telegram.url())));
    CurlClient client;
    auto n = critical_runway();
    n.summary = "runway <2 days & falling";
    n.labels = {{"owner", "<a href=\"x\">me</a>"}};
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto text = json::parse(telegram.only_request().body)["text"].get<std::string>();
    CHECK(text.find("runway &lt;2 days &amp; falling") != std::string::npos);
    // Quotes as entities too: Telegram's HTML mode reads &quot; and numeric entities.
    CHECK(text.find("&lt;a href=&quot;x&quot;&gt;me&lt;/a&gt;") != std::string::npos);
    CHECK(text.find("<a") == std::string::npos);
  }

  TEST_CASE("a channel name goes as a string and a thread id is passed on") {
    FakeTelegram telegram;
    auto settings = telegram_settings(telegram.url(), "@creditwatch_ops");
    settings["message_thread_id"] = scalar_setting("17", 24);
    auto notifier = build_notifier(notifier_config("telegram", settings));
    CurlClient client;
    CHECK(notifier->deliver(critical_runway(), client).outcome == Outcome::delivered);
    const auto body = json::parse(telegram.only_request().body);
    CHECK(body["chat_id"] == "@creditwatch_ops");
    CHECK(body["message_thread_id"] == 17);
  }

  TEST_CASE("the text stays within 4096 characters after entity parsing") {
    FakeTelegram telegram;
    auto notifier = build_notifier(notifier_config("telegram", telegram_settings(telegram.url())));
    CurlClient client;
    auto n = critical_runway();
    n.summary.clear();
    for (int i = 0; i < 1000; ++i) n.summary += "<&>";  // escaping triples what is sent, not what counts
    for (int i = 0; i < 20; ++i) n.labels["l" + std::to_string(i)] = std::string(300, 'x') + "\xF0\x9F\x94\xA5";
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto text = json::parse(telegram.only_request().body)["text"].get<std::string>();
    const auto counted = utf16_units(without_html(text));
    CHECK(counted <= 4096);
    CHECK(counted >= 4000);
  }

  TEST_CASE("Telegram's answers are classified") {
    FakeTelegram telegram;
    auto notifier = build_notifier(notifier_config("telegram", telegram_settings(telegram.url())));
    CurlClient client;
    DeliveryResult result;

    SUBCASE("429 is retried after parameters.retry_after") {
      telegram.reply(
          429,
          R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      CHECK(result.http_status == 429);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 35s);
    }
    SUBCASE("400 chat not found is permanent") {
      telegram.reply(400, R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("chat not found") != std::string::npos);
      CHECK(telegram.requests(1).size() == 1);  // no plain-text second try for this one
    }
    SUBCASE("403 bot blocked is permanent") {
      telegram.reply(403, R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
    }
    SUBCASE("401 is permanent and does not repeat the token") {
      telegram.reply(401,
                     std::string(R"({"ok":false,"error_code":401,"description":"Unauthorized: )") + k_token + "\"}");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("Unauthorized") != std::string::npos);
    }
    SUBCASE("500 is retried") {
      telegram.reply(502, R"({"ok":false,"error_code":502,"description":"Bad Gateway"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
    }
    SUBCASE("200 without ok true is not a delivery") {
      telegram.reply(200, R"({"ok":false,"error_code":400,"description":"Bad Request: message text is empty"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
    }
    SUBCASE("markup Telegram cannot parse is sent again once as plain text") {
      int calls = 0;
      telegram.answer = [&calls](const httplib::Request&, httplib::Response& res) {
        if (calls++ == 0) {
          reply_json(
              res, 400,
              R"({"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3"})");
        } else {
          reply_json(res, 200, k_sent);
        }
      };
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
      const auto requests = telegram.requests(2);
      REQUIRE(requests.size() == 2);
      CHECK(json::parse(requests[0].body)["parse_mode"] == "HTML");
      const auto retry_body = json::parse(requests[1].body);
      CHECK_FALSE(retry_body.contains("parse_mode"));
      CHECK(retry_body["text"].get<std::string>().rfind("[CRITICAL] deepseek-prod", 0) == 0);
    }
    check_no_secrets(result, {k_token, k_token_secret_part});
  }

  TEST_CASE("an unreachable Bot API is retried and the message holds no token") {
    auto notifier = build_notifier(notifier_config("telegram", telegram_settings(closed_url())));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::retry);
    check_no_secrets(result, {k_token, k_token_secret_part});
  }

  TEST_CASE("the pace is one message a second in a private chat and 20 a minute in a group") {
    CHECK(build_notifier(notifier_config("telegram", telegram_settings("https://api.telegram.org", "123456789")))
              ->min_interval() == 1s);
    CHECK(build_notifier(notifier_config("telegram", telegram_settings("https://api.telegram.org", "-1001234567890")))
              ->min_interval() == 3s);
    CHECK(build_notifier(notifier_config("telegram", telegram_settings("https://api.telegram.org", "@ops_channel")))
              ->min_interval() == 3s);
  }

  TEST_CASE("telegram config problems name their location") {
    SUBCASE("bot_token and chat_id are required") {
      auto errors = config_errors(notifier_config("telegram", {}));
      REQUIRE(errors.size() == 2);
      CHECK(errors[0].message.find("bot_token") != std::string::npos);
      CHECK(errors[1].message.find("chat_id") != std::string::npos);
    }
    SUBCASE("a bot_token that is not one is rejected without repeating it") {
      auto settings = telegram_settings("https://api.telegram.org");
      settings["bot_token"] = secret_setting("https://api.telegram.org/bot123:abc/sendMessage", 21);
      auto errors = config_errors(notifier_config("telegram", settings));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 21);
      CHECK(errors[0].message.find("123:abc") == std::string::npos);
    }
    SUBCASE("a chat_id that is neither a number nor @name") {
      auto errors = config_errors(notifier_config("telegram", telegram_settings("https://api.telegram.org", "ops")));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 22);
    }
    SUBCASE("a message_thread_id that is not a number") {
      auto settings = telegram_settings("https://api.telegram.org");
      settings["message_thread_id"] = scalar_setting("general", 24);
      auto errors = config_errors(notifier_config("telegram", settings));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 24);
    }
  }

  TEST_CASE("hostile text arrives as valid UTF-8 JSON within 4096 characters") {
    FakeTelegram telegram;
    auto notifier = build_notifier(notifier_config("telegram", telegram_settings(telegram.url())));
    CurlClient client;
    CHECK(notifier->deliver(hostile_notification(), client).outcome == Outcome::delivered);
    const auto body = strict_json(telegram.only_request().body);
    const std::string text = body["text"];
    CHECK(utf16_units(without_html(text)) <= 4096);
    CHECK(text.find("请检查您的密钥是否正确") != std::string::npos);
  }

  TEST_CASE("an acknowledgement shows who, when and why in the message") {
    FakeTelegram telegram;
    auto notifier = build_notifier(notifier_config("telegram", telegram_settings(telegram.url())));
    CurlClient client;
    CHECK(notifier->deliver(acknowledged(critical_runway()), client).outcome == Outcome::delivered);
    const std::string text = json::parse(telegram.only_request().body)["text"];
    CHECK(text.find(std::string("Acknowledged: ") + k_ack_text) != std::string::npos);
  }
}
