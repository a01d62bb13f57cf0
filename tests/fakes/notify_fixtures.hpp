#pragma once

// What every sink test needs: notifier configs as the config layer builds them, a
// notification with every figure set, and a loopback sink whose answer each test picks.
#include "creditwatch/notify/factory.hpp"
#include "creditwatch/notify/notification.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

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
