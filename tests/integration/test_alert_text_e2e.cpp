// Issue 14, item 1, end to end: the real `creditwatch run` daemon probes two DeepSeek-shaped
// accounts (GET /user/balance, providers.md section 1) behind a gateway that answers 401 and
// 402 with long Chinese messages (four sentences, over 200 bytes of UTF-8) in DeepSeek's error
// envelope, then with the same bodies spoiled by invalid UTF-8, NULs and control characters.
// Slack (sinks.md section 1.1) and the webhook receiver are loopback fakes; each must get the
// key_invalid and exhausted alerts within 25 s, and no probe may fail internally (before the
// fix, a message cut at 200 bytes split a character and the strict JSON dump of the alert
// threw, so no alert was ever sent).
#include "daemon_fixture.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;
using creditwatch::valid_utf8;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_key = "sk-SECRET-t3xte2e0042";
constexpr const char* k_slack_path = "/services/T0001/B0002/XyZsEcReTtOkEn";
constexpr const char* k_webhook_path = "/hooks/creditwatch";

// Four sentences each, as a Chinese gateway in front of DeepSeek answers.
const std::string k_key_rejected =
    "API 密钥无效或已过期，请检查您的密钥是否正确。如果您刚刚创建了新的密钥，请等待几分钟后重试。"
    "您也可以在控制台重新生成一个新的密钥。如有疑问，请联系我们的客服团队获取帮助。";
const std::string k_out_of_balance =
    "您的账户余额不足，无法继续调用接口，所有请求都将被拒绝。请前往控制台充值后继续使用。赠送余额已经全部用完。"
    "如需开具发票，请联系我们的客服团队。";

// DeepSeek's error envelope around `message`, which is put in as raw bytes.
std::string deepseek_error(const std::string& message, const std::string& type) {
  return R"({"error":{"message":")" + message + R"(","type":")" + type +
         R"(","param":null,"code":"invalid_request_error"}})";
}

// The same text spoiled as a broken gateway would: a character cut in half, NULs, a stray
// byte, a terminal escape and a raw line break inside the JSON string.
std::string spoiled(const std::string& text) {
  const char junk[] = "\xE4\xB8\0\xFF\x1B[2J\r\n\0\xC0\xAF";
  return text.substr(0, 40) + std::string(junk, sizeof junk - 1) + text.substr(40);
}

// GET {prefix}/user/balance answering `status` with `body` as given (bytes, not re-encoded).
class DeepSeekGateway {
public:
  void serve(const std::string& prefix, int status, std::string body) {
    m_server.get(prefix + "/user/balance", [status, body](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(body, "application/json");
    });
  }
  void start() { m_server.start(); }
  std::string url(const std::string& prefix) const { return m_server.url() + prefix; }

private:
  FakeHttpServer m_server;
};

// A Slack webhook (answers 200 "ok") or a webhook receiver (answers 200): records each body.
class RecordingSink {
public:
  RecordingSink(std::string path, std::string answer) : m_path(std::move(path)) {
    m_server.post(m_path, [this, answer](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(m_mutex);
        m_bodies.push_back(req.body);
      }
      res.status = 200;
      res.set_content(answer, "text/plain");
    });
    m_server.start();
  }
  std::string url() const { return m_server.url() + m_path; }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(m_mutex);
    return m_bodies;
  }

private:
  std::string m_path;
  mutable std::mutex m_mutex;
  std::vector<std::string> m_bodies;
  FakeHttpServer m_server;  // last: stops before the state its handler uses goes away
};

// The first body that is valid UTF-8 JSON for which `match` holds; null when none.
template <typename Match>
json first_matching(const RecordingSink& sink, Match match) {
  for (const auto& body : sink.bodies()) {
    if (!valid_utf8(body)) continue;
    auto parsed = json::parse(body, nullptr, false);
    if (!parsed.is_discarded() && match(parsed)) return parsed;
  }
  return nullptr;
}

json slack_alert(const RecordingSink& slack, const std::string& account, const std::string& rule) {
  return first_matching(slack, [&](const json& b) {
    const std::string text = b.value("text", "");
    return text.find("[CRITICAL] " + account + " " + rule + ":") != std::string::npos;
  });
}

json webhook_alert(const RecordingSink& hook, const std::string& account, const std::string& rule) {
  return first_matching(hook, [&](const json& b) {
    return b.value("account", "") == account && b.value("rule", "") == rule && b.value("status", "") == "firing";
  });
}

std::string describe(const RecordingSink& sink) {
  std::ostringstream s;
  for (const auto& body : sink.bodies()) {
    s << "  " << body.substr(0, 300) << (valid_utf8(body) ? "" : " [INVALID UTF-8]") << "\n";
  }
  return s.str();
}

// One run: a daemon over a 401 account and a 402 account with the given bodies, Slack and a
// webhook as notifiers; checks both alerts reach both sinks within 25 s of the start.
void check_both_alerts_arrive(const std::string& key_rejected_body, const std::string& out_of_balance_body,
                              const std::string& expected_words_401, const std::string& expected_words_402) {
  TempDir dir;
  DeepSeekGateway gateway;
  gateway.serve("/bad-key", 401, key_rejected_body);
  gateway.serve("/dry", 402, out_of_balance_body);
  gateway.start();
  RecordingSink slack(k_slack_path, "ok");
  RecordingSink hook(k_webhook_path, "");
  DaemonConfig config;
  config.accounts = {{"ds-bad-key", gateway.url("/bad-key")}, {"ds-dry", gateway.url("/dry")}};
  config.notifiers = "  - name: slack-ops\n    type: slack\n    webhook_url: " + slack.url() +
                     "\n  - name: hook-ops\n    type: webhook\n    url: " + hook.url() + "\n";
  dir.write("creditwatch.yaml", daemon_config_yaml(dir, config));
  Daemon daemon(dir, {{k_deepseek_key_env, k_key}});

  const auto started = std::chrono::steady_clock::now();
  daemon.start();
  INFO("daemon log:\n" << daemon.log());
  INFO("slack saw:\n" << describe(slack));
  INFO("webhook saw:\n" << describe(hook));
  const bool arrived = eventually(
      [&] {
        return !slack_alert(slack, "ds-bad-key", "key_invalid").is_null() &&
               !slack_alert(slack, "ds-dry", "exhausted").is_null() &&
               !webhook_alert(hook, "ds-bad-key", "key_invalid").is_null() &&
               !webhook_alert(hook, "ds-dry", "exhausted").is_null();
      },
      25s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  MESSAGE("both alerts in Slack and the webhook after " << took.count() << " ms");
  REQUIRE(arrived);

  // The provider's own words arrive, cut between characters.
  const std::string slack_401 = slack_alert(slack, "ds-bad-key", "key_invalid")["text"];
  const std::string slack_402 = slack_alert(slack, "ds-dry", "exhausted")["text"];
  CHECK(slack_401.find("HTTP 401 key rejected: " + expected_words_401) != std::string::npos);
  CHECK(slack_402.find("HTTP 402 out of balance: " + expected_words_402) != std::string::npos);
  const std::string hook_401 = webhook_alert(hook, "ds-bad-key", "key_invalid")["summary"];
  CHECK(hook_401.find(expected_words_401) != std::string::npos);
  for (const auto& body : slack.bodies()) CHECK(valid_utf8(body));
  for (const auto& body : hook.bodies()) CHECK(valid_utf8(body));

  // The stored probe outcome (what the API and `status` show) is safe text too.
  const auto status = run_creditwatch({"status", "-c", daemon.config_path(), "--json"}, {{k_deepseek_key_env, k_key}});
  INFO("status: " << status.out << status.err);
  CHECK(status.exit_code != -1);
  CHECK(valid_utf8(status.out));
  CHECK_FALSE(json::parse(status.out, nullptr, false).is_discarded());
  CHECK(status.out.find(expected_words_401) != std::string::npos);

  CHECK(daemon.terminate() == 0);
  const auto log = daemon.log();
  CHECK(log.find("probe failed internally") == std::string::npos);
  CHECK(log.find("type_error") == std::string::npos);
  CHECK(log.find(k_key) == std::string::npos);
}

}  // namespace

TEST_SUITE("alert_text_e2e") {
  TEST_CASE("a 401 and a 402 with long Chinese messages each raise their alert in Slack and a webhook within 25 s") {
    REQUIRE(k_key_rejected.size() > 200);
    REQUIRE(k_out_of_balance.size() > 200);
    check_both_alerts_arrive(deepseek_error(k_key_rejected, "authentication_error"),
                             deepseek_error(k_out_of_balance, "unknown_error"), "API 密钥无效或已过期",
                             "您的账户余额不足");
  }

  TEST_CASE("the same answers spoiled with invalid UTF-8 NULs and control characters still raise both alerts") {
    check_both_alerts_arrive(deepseek_error(spoiled(k_key_rejected), "authentication_error"),
                             deepseek_error(spoiled(k_out_of_balance), "unknown_error"), "API 密钥无效或已过期",
                             "您的账户余额不足");
  }

  TEST_CASE("status shows a probe message an older version stored with any bytes as one safe line") {
    TempDir dir;
    DaemonConfig config;
    config.accounts = {{"ds-old", "http://127.0.0.1:9"}};
    dir.write("creditwatch.yaml", daemon_config_yaml(dir, config));
    {
      creditwatch::storage::SqliteStore store(dir.file("creditwatch.db"));
      const char raw[] = "HTTP 401 key rejected: 密钥\xE4\xB8\0\x1B[2J\r\nBcc: x";
      store.add_probe({"ds-old", std::chrono::system_clock::now(), "key_invalid", 401, 0.01,
                       std::string(raw, sizeof raw - 1)});
    }
    const std::map<std::string, std::string> env = {{k_deepseek_key_env, k_key}};
    const auto as_json = run_creditwatch({"status", "-c", dir.file("creditwatch.yaml"), "--json"}, env);
    INFO("status --json: " << as_json.out << as_json.err);
    CHECK(valid_utf8(as_json.out));
    CHECK_FALSE(json::parse(as_json.out, nullptr, false).is_discarded());
    CHECK(as_json.out.find("密钥\xEF\xBF\xBD") != std::string::npos);
    CHECK(as_json.out.find("\\u001b") == std::string::npos);  // no escape sequence in any field
    CHECK(as_json.out.find("\\u0000") == std::string::npos);
    const auto table = run_creditwatch({"status", "-c", dir.file("creditwatch.yaml")}, env);
    INFO("status: " << table.out << table.err);
    CHECK(valid_utf8(table.out));
    CHECK(table.out.find('\x1B') == std::string::npos);
    CHECK(table.out.find("\nBcc: x") == std::string::npos);
  }
}
