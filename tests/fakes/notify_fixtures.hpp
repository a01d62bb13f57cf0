#pragma once

// What every sink test needs: notifier configs as the config layer builds them, a
// notification with every figure set, and a loopback sink whose answer each test picks.
#include "creditwatch/common/text.hpp"
#include "creditwatch/notify/factory.hpp"
#include "creditwatch/notify/notification.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace creditwatch::testing {

// A scalar setting at creditwatch.yaml:LINE:17; `secret` as the config layer marks credentials.
inline config::Setting scalar_setting(const std::string& value, int line, bool secret = false) {
  config::Setting s;
  s.value = value;
  s.is_secret = secret;
  s.where = config::SourceLocation{"creditwatch.yaml", line, 17};
  return s;
}

inline config::Setting secret_setting(const std::string& value, int line) { return scalar_setting(value, line, true); }

inline config::Setting list_setting(std::vector<std::string> items, int line) {
  config::Setting s;
  s.items = std::move(items);
  s.where = config::SourceLocation{"creditwatch.yaml", line, 17};
  return s;
}

inline config::Setting map_setting(std::map<std::string, std::string> entries, int line, bool secret = false) {
  config::Setting s;
  s.entries = std::move(entries);
  s.is_secret = secret;
  s.where = config::SourceLocation{"creditwatch.yaml", line, 17};
  return s;
}

// A notifier declared at creditwatch.yaml:20:5.
inline config::NotifierConfig notifier_config(const std::string& type, config::Settings settings) {
  config::NotifierConfig c;
  c.name = type + "-ops";
  c.type = type;
  c.settings = std::move(settings);
  c.where = config::SourceLocation{"creditwatch.yaml", 20, 5};
  return c;
}

inline std::unique_ptr<notify::Notifier> build_notifier(const config::NotifierConfig& config) {
  std::vector<config::ConfigError> errors;
  auto notifier = notify::make_notifier(config, errors);
  std::string problems;
  for (const auto& e : errors) problems += e.to_string() + "\n";
  INFO(problems);
  REQUIRE(errors.empty());
  REQUIRE(notifier);
  return notifier;
}

// The errors building `config` produces; the notifier must not have been built.
inline std::vector<config::ConfigError> config_errors(const config::NotifierConfig& config) {
  std::vector<config::ConfigError> errors;
  CHECK_FALSE(notify::make_notifier(config, errors));
  return errors;
}

inline notify::Notification critical_runway() {
  using namespace std::chrono_literals;
  notify::Notification n;
  n.dedup_key = "creditwatch-deepseek-prod-runway";
  n.at = from_unix_ms(1'777'593'600'000);  // 2026-05-01T00:00:00Z
  n.account = "deepseek-prod";
  n.provider = "deepseek";
  n.labels = {{"team", "bots"}};
  n.rule = alerts::Rule::runway;
  n.severity = alerts::Severity::critical;
  n.summary = "runway 2.5 days";
  n.balance = *Decimal::parse("12.50");
  n.currency = "USD";
  n.burn_per_day = 5.0;
  n.runway_days = 2.5;
  n.runway_p10_days = 1.75;
  n.exhausted_at = n.at + 60h;
  n.recommended_topup = *Decimal::parse("170");
  return n;
}

// Text from outside at its worst: a provider's long Chinese error (four sentences, as a
// gateway in front of DeepSeek answers 401), emoji, a character cut in half (invalid UTF-8),
// NULs, a terminal escape and line breaks, repeated `times`.
inline std::string hostile_text(std::size_t times) {
  const char piece[] =
      "API 密钥无效或已过期，请检查您的密钥是否正确。如果您刚刚创建了新的密钥，请等待几分钟后重试。"
      "您的账户余额不足，请前往控制台充值后继续使用。如有疑问，请联系我们的客服团队获取帮助。💸🔑"
      "\xE4\xB8\0\x1B[31m\r\nBcc: victim@example.com\xFF\xC0\xAF\xED\xA0\x80\0";
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out.append(piece, sizeof piece - 1);
  return out;
}

// critical_runway() whose account, labels, currency and summary (a provider's message quoted
// in it) are hostile text, the summary far longer than any sink's limit (about 330,000 bytes,
// 100,000 code points).
inline notify::Notification hostile_notification() {
  notify::Notification n = critical_runway();
  n.account = "深度求索-prod-" + hostile_text(1);
  n.labels = {{"团队", hostile_text(3)}, {std::string("team\0\n", 6), "机器人\xE4"}};
  n.currency = std::string("CNY\0", 4);
  n.summary = "key rejected: HTTP 401 key rejected: " + hostile_text(1000);
  return n;
}

// Code points in valid UTF-8 text.
inline std::size_t count_code_points(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

// What a sink may send as text: valid UTF-8 without NULs or control characters (tab and line
// feed allowed), checked on the raw bytes.
inline void check_safe_text(std::string_view text) {
  INFO("text starts: " << text.substr(0, 200));
  CHECK(valid_utf8(text));
  CHECK_MESSAGE(safe_text(text) == text, "not safe text");  // not the values: they can be huge
}

// A request body as a sink receives it: valid UTF-8 JSON (nlohmann's parser refuses invalid
// UTF-8) whose every string value is safe text.
inline nlohmann::json strict_json(const std::string& body) {
  REQUIRE(valid_utf8(body));
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_string()) check_safe_text(j.get<std::string>());
    if (j.is_structured()) {
      for (const auto& item : j.items()) {
        if (j.is_object()) check_safe_text(item.key());
        walk(item.value());
      }
    }
  };
  walk(parsed);
  return parsed;
}

// `n` acknowledged by alice an hour after it fired, with a comment.
inline notify::Notification acknowledged(notify::Notification n, std::string comment = "topping up today") {
  n.reason = alerts::Reason::acknowledged;
  n.ack = notify::Acknowledgement{"alice", n.at + std::chrono::hours(1), std::move(comment)};
  return n;
}
// What every text sink shows of acknowledged(critical_runway()).
inline constexpr const char* k_ack_text = "by alice at 2026-05-01T01:00:00Z: topping up today";

inline notify::Notification resolved(notify::Notification n) {
  n.event = alerts::Event::resolved;
  n.reason = alerts::Reason::resolved;
  return n;
}

// A loopback sink answering POSTs to `pattern` with whatever `answer` does (default: 200,
// empty body).
struct FakeSink {
  FakeHttpServer server;
  std::function<void(const httplib::Request&, httplib::Response&)> answer =
      [](const httplib::Request&, httplib::Response& res) { res.status = 200; };

  explicit FakeSink(const std::string& pattern = ".*") {
    server.post(pattern, [this](const httplib::Request& req, httplib::Response& res) { answer(req, res); });
    server.start();
  }
  std::string url() const { return server.url(); }
  // The server records a request just before answering it, but wait for it anyway.
  std::vector<RecordedRequest> requests(std::size_t expected) const {
    eventually([&] { return server.request_count() >= expected; }, std::chrono::seconds(5));
    return server.requests();
  }
  RecordedRequest only_request() const {
    auto all = requests(1);
    REQUIRE(all.size() == 1);
    return all.front();
  }
  // Answers every request with STATUS, BODY and the given headers.
  void reply(int status, std::string body, std::string content_type = "application/json",
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    answer = [=](const httplib::Request&, httplib::Response& res) {
      for (const auto& [k, v] : headers) res.set_header(k, v);
      res.status = status;
      if (!body.empty()) res.set_content(body, content_type);
    };
  }
};

// None of `secrets` may appear in what the sink reports.
inline void check_no_secrets(const notify::DeliveryResult& result, const std::vector<std::string>& secrets) {
  INFO("message: " << result.message);
  for (const auto& secret : secrets) {
    INFO("secret: " << secret);
    CHECK(result.message.find(secret) == std::string::npos);
  }
}

// The URL of a port nothing listens on any more.
inline std::string closed_url() {
  FakeHttpServer gone;
  gone.start();
  return gone.url();
}

}  // namespace creditwatch::testing
