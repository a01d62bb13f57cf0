// The email notifier against a real SMTP server (aiosmtpd, tests/fakes/smtp_server.py) on
// loopback: the received message is parsed by Python's email package, so these tests see
// what a mail client would. SMTP reply semantics: shared/reference/sinks.md section 1.3.
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/factory.hpp"

#include "fakes/notify_fixtures.hpp"
#include "fakes/real_peers.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <regex>
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
using creditwatch::notify::make_notifier;
using creditwatch::notify::Notification;
using creditwatch::notify::Notifier;
using creditwatch::testing::free_port;
using creditwatch::testing::SmtpServer;
using creditwatch::testing::SmtpServerOptions;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_password = "pw-SECRET-7f3a";

Setting value(const std::string& text, int line) {
  Setting s;
  s.value = text;
  s.where = SourceLocation{"creditwatch.yaml", line, 5};
  return s;
}

Setting list(std::vector<std::string> items, int line) {
  Setting s;
  s.items = std::move(items);
  s.where = SourceLocation{"creditwatch.yaml", line, 5};
  return s;
}

Settings mail_settings(const std::string& url) {
  Settings s;
  s["smtp_url"] = value(url, 21);
  s["starttls"] = value("off", 22);
  s["username"] = value("alerts", 23);
  s["password"] = value(k_password, 24);
  s["password"].is_secret = true;
  s["from"] = value("creditwatch@example.com", 25);
  s["to"] = list({"oncall@example.com", "boss@example.org"}, 26);
  return s;
}

NotifierConfig mail_config(Settings settings) {
  NotifierConfig c;
  c.name = "ops-mail";
  c.type = "email";
  c.settings = std::move(settings);
  c.where = SourceLocation{"creditwatch.yaml", 20, 5};
  return c;
}

std::unique_ptr<Notifier> build(Settings settings) {
  std::vector<ConfigError> errors;
  auto notifier = make_notifier(mail_config(std::move(settings)), errors);
  std::string problems;
  for (const auto& e : errors) problems += e.to_string() + "\n";
  INFO(problems);
  REQUIRE(errors.empty());
  REQUIRE(notifier);
  return notifier;
}

std::string config_errors(Settings settings) {
  std::vector<ConfigError> errors;
  auto notifier = make_notifier(mail_config(std::move(settings)), errors);
  CHECK_FALSE(notifier);
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

Notification critical_runway() {
  Notification n;
  n.dedup_key = "creditwatch-deepseek-prod-runway";
  n.at = from_unix_ms(1'777'593'600'000);  // 2026-05-01T00:00:00Z
  n.account = "deepseek-prod";
  n.provider = "deepseek";
  n.labels = {{"team", "<b>bots</b> & co"}};
  n.rule = creditwatch::alerts::Rule::runway;
  n.severity = creditwatch::alerts::Severity::critical;
  n.summary = "runway 2.1 days";
  n.balance = *Decimal::parse("12.50");
  n.currency = "USD";
  n.burn_per_day = 5.9;
  n.runway_days = 2.1;
  n.exhausted_at = n.at + 50h;
  n.recommended_topup = *Decimal::parse("170");
  return n;
}

std::string text_of(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

}  // namespace

TEST_SUITE("notify.email") {
  TEST_CASE("email sends one multipart message with text and HTML parts and every figure through AUTH") {
    SmtpServer smtp({"alerts", k_password, {}, {}});
    auto mail = build(mail_settings(smtp.url()));
    CurlClient client;

    auto result = mail->deliver(critical_runway(), client);
    INFO("result: " << result.message << "\nserver log:\n" << smtp.log());
    CHECK(result.outcome == Outcome::delivered);
    CHECK(result.message.find("250") != std::string::npos);
    CHECK(result.message.find("queued as cw1") != std::string::npos);

    auto messages = smtp.messages();
    REQUIRE(messages.size() == 1);
    const auto& m = messages[0];
    CHECK(m["authenticated"] == true);
    CHECK(m["login"] == "alerts");
    CHECK(m["mail_from"] == "creditwatch@example.com");
    CHECK(m["rcpt_tos"] == nlohmann::json::array({"oncall@example.com", "boss@example.org"}));
    const auto& h = m["headers"];
    CHECK(h["Subject"] == "[CRITICAL] deepseek-prod: runway 2.1 days");
    CHECK(h["From"] == "creditwatch@example.com");
    CHECK(h["To"] == "oncall@example.com, boss@example.org");
    CHECK(h["MIME-Version"] == "1.0");
    CHECK(std::regex_match(text_of(h["Date"]),
                           std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000)")));
    CHECK(std::regex_match(text_of(h["Message-ID"]), std::regex(R"(<\d+\.[0-9a-f]{16}@example\.com>)")));
    CHECK(m["content_type"] == "multipart/alternative");

    // Every line the server received ends in CRLF.
    const std::string raw = m["raw"];
    for (std::size_t i = raw.find('\n'); i != std::string::npos; i = raw.find('\n', i + 1)) {
      REQUIRE_MESSAGE(i > 0, "raw message starts with a bare LF");
      REQUIRE_MESSAGE(raw[i - 1] == '\r', "bare LF at byte " << i);
    }

    REQUIRE(m["parts"].contains("text/plain"));
    REQUIRE(m["parts"].contains("text/html"));
    const std::string text = m["parts"]["text/plain"];
    const std::string html = m["parts"]["text/html"];
    for (const auto* figure : {"deepseek-prod", "deepseek", "12.50 USD", "5.90 USD", "2.1 days", "170.00 USD",
                               "2026-05-03T02:00:00Z", "critical"}) {
      CHECK_MESSAGE(text.find(figure) != std::string::npos, figure << " missing from the text part:\n" << text);
      CHECK_MESSAGE(html.find(figure) != std::string::npos, figure << " missing from the HTML part:\n" << html);
    }
    CHECK(text.find("<b>bots</b> & co") != std::string::npos);
    CHECK(html.find("&lt;b&gt;bots&lt;/b&gt; &amp; co") != std::string::npos);
    CHECK(html.find("<b>bots") == std::string::npos);
    CHECK(html.find("<table") != std::string::npos);

    SUBCASE("each message gets its own Message-ID") {
      REQUIRE(mail->deliver(critical_runway(), client).outcome == Outcome::delivered);
      auto both = smtp.messages();
      REQUIRE(both.size() == 2);
      CHECK(both[0]["headers"]["Message-ID"] != both[1]["headers"]["Message-ID"]);
    }
    SUBCASE("a resolve and a test say so in the subject and a line starting with a dot survives") {
      auto n = critical_runway();
      n.event = creditwatch::alerts::Event::resolved;
      n.summary = "runway 40 days";
      n.runway_days = 40;
      // A label line of 75 characters ends in a soft line break, so the next line on the
      // wire starts with the dot (label values are one line each: no "\n" of their own).
      n.labels = {{"note", std::string(63, 'x') + ".leading dot"}};
      REQUIRE(mail->deliver(n, client).outcome == Outcome::delivered);
      n.test = true;
      n.event = creditwatch::alerts::Event::firing;
      n.severity = creditwatch::alerts::Severity::warning;
      n.rule = creditwatch::alerts::Rule::key_invalid;
      n.summary = "key rejected";
      REQUIRE(mail->deliver(n, client).outcome == Outcome::delivered);
      auto all = smtp.messages();
      REQUIRE(all.size() == 3);
      CHECK(all[1]["headers"]["Subject"] == "[RESOLVED] deepseek-prod: runway 40 days");
      CHECK(std::string(all[1]["raw"]).find("=\r\n.") != std::string::npos);
      CHECK(std::string(all[1]["parts"]["text/plain"]).find(std::string(63, 'x') + ".leading dot") != std::string::npos);
      CHECK(all[2]["headers"]["Subject"] == "[TEST] [WARNING] deepseek-prod: key rejected (runway 40.0 days)");
    }
  }

  TEST_CASE("email 550 for a recipient is a permanent failure carrying the server's answer") {
    SmtpServer smtp({"alerts", k_password, {"boss@example.org"}, {}});
    auto mail = build(mail_settings(smtp.url()));
    CurlClient client;
    auto result = mail->deliver(critical_runway(), client);
    INFO("result: " << result.message);
    CHECK(result.outcome == Outcome::permanent);
    CHECK(result.message.find("550") != std::string::npos);
    CHECK(result.message.find("User unknown") != std::string::npos);
    CHECK(result.message.find(k_password) == std::string::npos);
    CHECK(smtp.messages().empty());
  }

  TEST_CASE("email 451 greylisting and a closed port are retried") {
    CurlClient client;
    SUBCASE("451") {
      SmtpServer smtp({"alerts", k_password, {}, {"oncall@example.com"}});
      auto result = build(mail_settings(smtp.url()))->deliver(critical_runway(), client);
      INFO("result: " << result.message);
      CHECK(result.outcome == Outcome::retry);
      CHECK(result.message.find("451") != std::string::npos);
      CHECK(result.message.find("try again later") != std::string::npos);
    }
    SUBCASE("connection refused") {
      auto result = build(mail_settings("smtp://127.0.0.1:" + std::to_string(free_port())))
                        ->deliver(critical_runway(), client);
      INFO("result: " << result.message);
      CHECK(result.outcome == Outcome::retry);
      CHECK(result.message.find("connect") != std::string::npos);
    }
  }

  TEST_CASE("email with a wrong password is permanent and the password never appears") {
    SmtpServer smtp({"alerts", "the-right-one", {}, {}});
    auto mail = build(mail_settings(smtp.url()));
    CurlClient client;
    auto result = mail->deliver(critical_runway(), client);
    INFO("result: " << result.message);
    CHECK(result.outcome == Outcome::permanent);
    CHECK(result.message.find("535") != std::string::npos);
    CHECK(result.message.find(k_password) == std::string::npos);
    CHECK(smtp.messages().empty());
  }

  TEST_CASE("email config errors name the key and its line") {
    SUBCASE("plain text to a remote relay") {
      auto s = mail_settings("smtp://smtp.example.com:587");
      const auto errors = config_errors(s);
      CHECK(errors.find("creditwatch.yaml:22:5") != std::string::npos);
      CHECK(errors.find("starttls: off is only allowed for a relay on loopback") != std::string::npos);
    }
    SUBCASE("smtps and required STARTTLS to a remote relay are fine") {
      auto s = mail_settings("smtps://smtp.example.com:465");
      s["starttls"] = value("required", 22);
      build(s);
      s["smtp_url"] = value("smtp://smtp.example.com:587", 21);
      build(s);
    }
    SUBCASE("bad values") {
      auto s = mail_settings("http://127.0.0.1:25");
      s["starttls"] = value("sometimes", 22);
      s["to"] = list({}, 26);
      s.erase("password");
      s["form"] = value("x@example.com", 27);
      const auto errors = config_errors(s);
      INFO(errors);
      CHECK(errors.find("creditwatch.yaml:21:5: smtp_url must start with smtp:// or smtps://") != std::string::npos);
      CHECK(errors.find("starttls: expected required, opportunistic or off") != std::string::npos);
      CHECK(errors.find("needs to: a list") != std::string::npos);
      CHECK(errors.find("username needs password or password_file") != std::string::npos);
      CHECK(errors.find("did you mean \"from\"") != std::string::npos);
    }
  }

  TEST_CASE("email with hostile text keeps a one-line subject of whole characters in short encoded words") {
    SmtpServer smtp({"alerts", k_password, {}, {}});
    auto mail = build(mail_settings(smtp.url()));
    CurlClient client;
    auto n = creditwatch::testing::hostile_notification();
    REQUIRE(mail->deliver(n, client).outcome == Outcome::delivered);
    auto messages = smtp.messages();
    REQUIRE(messages.size() == 1);
    const auto& m = messages[0];
    CHECK_FALSE(m["headers"].contains("Bcc"));  // the CR LF in the summary injected no header
    const std::string subject = m["headers"]["Subject"];
    INFO("subject: " << subject);
    CHECK(subject.rfind("[CRITICAL] 深度求索-prod-API 密钥无效", 0) == 0);
    CHECK(creditwatch::testing::count_code_points(subject) <= 150);
    creditwatch::testing::check_safe_text(subject);
    CHECK(subject.find_first_of("\r\n") == std::string::npos);

    // The raw header: encoded-words of at most 75 characters (RFC 2047), on folded lines.
    const std::string raw = m["raw"];
    const auto start = raw.find("Subject: ");
    REQUIRE(start != std::string::npos);
    std::size_t end = start;
    do {
      end = raw.find("\r\n", end + 1);
    } while (end != std::string::npos && raw[end + 2] == ' ');
    const std::string header = raw.substr(start + 9, end - start - 9);
    std::size_t words = 0;
    for (std::size_t at = header.find("=?UTF-8?B?"); at != std::string::npos; at = header.find("=?UTF-8?B?", at + 1)) {
      const auto close = header.find("?=", at + 10);
      REQUIRE(close != std::string::npos);
      CHECK(close + 2 - at <= 75);
      ++words;
    }
    CHECK(words > 1);

    std::string text = m["parts"]["text/plain"];
    std::erase(text, '\r');  // the mail's own line ends
    creditwatch::testing::check_safe_text(text);
    CHECK(text.find("请检查您的密钥是否正确") != std::string::npos);
  }
}
