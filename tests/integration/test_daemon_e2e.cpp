// End-to-end: the real `creditwatch run` daemon against loopback fakes of DeepSeek's
// GET /user/balance (shared/reference/providers.md section 1) and a Slack incoming webhook
// (shared/reference/sinks.md section 1.1). Every scenario uses its own temp dir, its own
// fakes on kernel-chosen ports, a 1 s probe interval and bounded waits. The DeepSeek fake,
// the daemon and the outbox helpers are in daemon_fixture.hpp.
#include "daemon_fixture.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/real_peers.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/storage/store.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch::testing;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Distinctive secrets: any leak into the log is unmistakable.
constexpr const char* k_key = "sk-SECRET-deadbeef42";
constexpr const char* k_webhook_path = "/services/T000/B000/XXXXSECRETTOKEN";

// --- Slack fake ----------------------------------------------------------------------------

struct SlackAnswer {
  int status = 200;
  std::string body = "ok";
  std::string retry_after;  // Retry-After header, when set
  bool hang = false;        // hold the request open until released (or 30 s), then answer
};

// Seconds as a number, so a failed time limit prints how long it took.
double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

const SlackAnswer k_slack_ok{200, "ok", ""};
const SlackAnswer k_slack_rollup{500, "rollup_error", ""};
const SlackAnswer k_slack_invalid{400, "invalid_payload", ""};
const SlackAnswer k_slack_rate_limited{429, R"({"retry_after":1,"ok":false,"error":"rate_limited"})", "2"};
const SlackAnswer k_slack_hang{200, "ok", "", true};

struct SlackHit {
  SteadyClock::time_point at;
  json body;  // null when the body was not JSON
  std::string raw;
  std::string content_type;
  int answered = 0;
};

// A Slack incoming webhook at k_webhook_path. Answers with the scripted answers first
// (one each), then with the standing answer.
class SlackFake {
public:
  SlackFake() {
    m_server.post(k_webhook_path, [this](const httplib::Request& req, httplib::Response& res) {
      SlackHit hit{SteadyClock::now(), json::parse(req.body, nullptr, false), req.body,
                   req.get_header_value("Content-Type"), 0};
      if (hit.body.is_discarded()) hit.body = nullptr;
      std::unique_lock lock(m_mutex);
      SlackAnswer answer = m_standing;
      if (!m_script.empty()) {
        answer = m_script.front();
        m_script.pop_front();
      }
      if (answer.hang) {
        ++m_hanging;
        m_release.wait_for(lock, 30s, [&] { return m_released; });
        --m_hanging;
      }
      res.status = answer.status;
      if (!answer.retry_after.empty()) res.set_header("Retry-After", answer.retry_after);
      if (answer.status == 429) {
        res.set_content(answer.body, "application/json; charset=utf-8");
      } else {
        res.set_content(answer.body, "text/html");
      }
      hit.answered = answer.status;
      m_hits.push_back(std::move(hit));
    });
    m_server.start();
  }

  ~SlackFake() { release(); }

  std::string url() const { return m_server.url() + k_webhook_path; }
  void answer(const SlackAnswer& a) {
    std::lock_guard lock(m_mutex);
    m_standing = a;
    m_released = !a.hang;
    m_release.notify_all();
  }
  void release() {
    std::lock_guard lock(m_mutex);
    m_released = true;
    m_release.notify_all();
  }
  int hanging() const {
    std::lock_guard lock(m_mutex);
    return m_hanging;
  }
  void script(std::vector<SlackAnswer> answers) {
    std::lock_guard lock(m_mutex);
    m_script.insert(m_script.end(), answers.begin(), answers.end());
  }
  std::vector<SlackHit> hits() const {
    std::lock_guard lock(m_mutex);
    return m_hits;
  }
  std::size_t count() const {
    std::lock_guard lock(m_mutex);
    return m_hits.size();
  }
  // Requests whose `text` contains every needle.
  std::vector<SlackHit> matching(const std::vector<std::string>& needles, int answered = 0) const {
    std::vector<SlackHit> out;
    for (const auto& h : hits()) {
      if (!h.body.is_object() || !h.body.contains("text") || !h.body["text"].is_string()) continue;
      const auto text = h.body["text"].get<std::string>();
      bool all = true;
      for (const auto& n : needles) all = all && text.find(n) != std::string::npos;
      if (all && (answered == 0 || h.answered == answered)) out.push_back(h);
    }
    return out;
  }
  std::size_t count_matching(const std::vector<std::string>& needles, int answered = 0) const {
    return matching(needles, answered).size();
  }

private:
  mutable std::mutex m_mutex;
  std::condition_variable m_release;
  bool m_released = true;
  int m_hanging = 0;
  SlackAnswer m_standing = k_slack_ok;
  std::deque<SlackAnswer> m_script;
  std::vector<SlackHit> m_hits;
  FakeHttpServer m_server;  // last: stops before the state its handlers use goes away
};

// --- config -------------------------------------------------------------------------------

// The shared daemon config with a Slack notifier first (unless `slack` is false).
struct ConfigSpec {
  std::vector<AccountSpec> accounts;
  bool slack = true;
  std::string min_severity = "warning";
  std::string log_format = "text";
  std::string log_level = "debug";
  std::string extra_defaults;  // more lines under `defaults:`, two-space indented
  std::string extra_notifiers;  // more entries under `notifiers:`, as "  - name: ..." lines
};

ConfigSpec with_accounts(std::vector<AccountSpec> accounts) {
  ConfigSpec spec;
  spec.accounts = std::move(accounts);
  return spec;
}

std::string config_yaml(const TempDir& dir, const ConfigSpec& spec) {
  DaemonConfig config{spec.accounts, spec.log_format, spec.log_level, spec.extra_defaults, ""};
  if (spec.slack) {
    config.notifiers =
        "  - name: slack-ops\n    type: slack\n    webhook_url: ${CW_E2E_SLACK_URL}\n    min_severity: " +
        spec.min_severity + "\n";
  }
  config.notifiers += spec.extra_notifiers;
  return daemon_config_yaml(dir, config);
}

std::map<std::string, std::string> daemon_env(const SlackFake* slack) {
  std::map<std::string, std::string> env = {{k_deepseek_key_env, k_key}};
  env["CW_E2E_SLACK_URL"] = slack ? slack->url() : "http://127.0.0.1:9/unused";
  return env;
}

std::string describe(const std::vector<SlackHit>& hits) {
  std::ostringstream s;
  const auto first = hits.empty() ? SteadyClock::now() : hits.front().at;
  for (const auto& h : hits) {
    s << "  +" << std::chrono::duration_cast<std::chrono::milliseconds>(h.at - first).count() << "ms -> "
      << h.answered << ": "
      << (h.body.is_object() ? h.body.value("text", "").substr(0, 120) : h.raw.substr(0, 120)) << "\n";
  }
  return s.str();
}

}  // namespace

TEST_SUITE("daemon_e2e") {
  TEST_CASE("a falling balance raises a critical runway alert in Slack and a top-up resolves it") {
    TempDir dir;
    DeepSeekFake deepseek;
    SlackFake slack;
    dir.write("creditwatch.yaml", config_yaml(dir, with_accounts({{"ds-main", deepseek.url()}})));
    Daemon daemon(dir, daemon_env(&slack));
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    INFO("slack saw:\n" << describe(slack.hits()));

    REQUIRE(eventually([&] { return slack.count_matching({"[CRITICAL]", "ds-main", "runway"}) >= 1; }, 30s));
    const auto hit = slack.matching({"[CRITICAL]", "ds-main", "runway"}).front();
    CHECK(hit.content_type.find("application/json") != std::string::npos);
    REQUIRE(hit.body.is_object());
    REQUIRE(hit.body.contains("text"));
    REQUIRE(hit.body["text"].is_string());
    REQUIRE(hit.body.contains("blocks"));
    REQUIRE(hit.body["blocks"].is_array());
    CHECK_FALSE(hit.body["blocks"].empty());
    const auto text = hit.body["text"].get<std::string>();
    CHECK(text.find("ds-main") != std::string::npos);
    CHECK(text.find("deepseek") != std::string::npos);
    CHECK(text.find("Runway") != std::string::npos);
    CHECK(text.find("minutes") != std::string::npos);  // about 3 minutes at 0.5 CNY per second
    CHECK(text.find("Balance: ") != std::string::npos);
    CHECK(text.find(" CNY") != std::string::npos);
    CHECK(text.find("critical") != std::string::npos);
    const auto blocks = hit.body["blocks"].dump();
    CHECK(blocks.find("ds-main") != std::string::npos);
    CHECK(blocks.find("Runway") != std::string::npos);
    CHECK(blocks.find("CNY") != std::string::npos);
    CHECK(blocks.find(k_runway_key) != std::string::npos);

    // A large deposit: the runway becomes weeks, so the alert resolves once.
    deepseek.set_mode(DeepSeekFake::Mode::topped_up);
    REQUIRE(eventually([&] { return slack.count_matching({"RESOLVED", "ds-main", "runway"}) >= 1; }, 30s));
    const auto resolved = slack.matching({"RESOLVED", "ds-main", "runway"}).front();
    CHECK(resolved.body.contains("blocks"));
    CHECK(resolved.body["text"].get<std::string>().find("1000000") != std::string::npos);
    // The deposit itself is an info event, below this notifier's min_severity.
    CHECK(slack.count_matching({"topped_up"}) == 0);

    // Nothing more while the state holds.
    REQUIRE(probes_continue(deepseek, 2));
    CHECK(slack.count_matching({"ds-main", "runway"}) == 2);
    CHECK(daemon.terminate() == 0);

    const auto rows = rows_for(daemon.outbox(), k_runway_key);
    INFO("outbox:\n" << describe(rows));
    REQUIRE(rows.size() == 2);
    for (const auto& r : rows) CHECK(r.state == OutboxState::delivered);
    bool found = false;
    for (const auto& a : daemon.alerts()) {
      if (a.account == "ds-main" && a.rule == "runway") {
        found = true;
        CHECK(a.state == "resolved");
      }
    }
    CHECK(found);
  }

  TEST_CASE("an alert raised while Slack answers 500 rollup_error arrives once Slack recovers") {
    TempDir dir;
    DeepSeekFake deepseek;
    SlackFake slack;
    slack.answer(k_slack_rollup);
    dir.write("creditwatch.yaml", config_yaml(dir, with_accounts({{"ds-main", deepseek.url()}})));
    Daemon daemon(dir, daemon_env(&slack));
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    INFO("slack saw:\n" << describe(slack.hits()));

    REQUIRE(eventually([&] { return slack.count_matching({"[CRITICAL]", "runway"}, 500) >= 2; }, 30s));
    // The daemon records an attempt after Slack's answer, a moment after the fake saw it.
    REQUIRE(eventually(
        [&] {
          auto rows = rows_for(daemon.outbox(), k_runway_key);
          return rows.size() == 1 && rows[0].attempts >= 2;
        },
        5s));
    {
      const auto rows = rows_for(daemon.outbox(), k_runway_key);
      INFO("outbox:\n" << describe(rows));
      REQUIRE(rows.size() == 1);
      CHECK(rows[0].state == OutboxState::pending);
      CHECK(rows[0].attempts >= 2);
      CHECK(rows[0].last_error.find("rollup_error") != std::string::npos);
    }
    slack.answer(k_slack_ok);
    // Releasing the hung request records its hit too: the outbox row says the restart delivered.
    REQUIRE(eventually([&] { return slack.count_matching({"[CRITICAL]", "runway"}, 200) >= 1; }, 15s));
    REQUIRE(eventually(
        [&] {
          auto rows = rows_for(daemon.outbox(), k_runway_key);
          return rows.size() == 1 && rows[0].state == OutboxState::delivered;
        },
        15s));
    const auto rows = rows_for(daemon.outbox(), k_runway_key);
    INFO("outbox:\n" << describe(rows));
    CHECK(rows[0].attempts > 1);
    CHECK(rows[0].last_error.empty());
    // Delivered once, not again.
    REQUIRE(probes_continue(deepseek, 2));
    CHECK(slack.count_matching({"[CRITICAL]", "runway"}, 200) == 1);
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("Slack 429 with Retry-After 2 delays the next attempt by at least 2 s") {
    TempDir dir;
    DeepSeekFake deepseek;
    SlackFake slack;
    slack.script({k_slack_rate_limited});
    dir.write("creditwatch.yaml", config_yaml(dir, with_accounts({{"ds-main", deepseek.url()}})));
    Daemon daemon(dir, daemon_env(&slack));
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    INFO("slack saw:\n" << describe(slack.hits()));

    REQUIRE(eventually([&] { return slack.count_matching({"[CRITICAL]", "runway"}, 200) >= 1; }, 30s));
    const auto hits = slack.matching({"[CRITICAL]", "runway"});
    REQUIRE(hits.size() == 2);
    CHECK(hits[0].answered == 429);
    CHECK(hits[1].answered == 200);
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(hits[1].at - hits[0].at);
    CHECK(gap >= 1900ms);
    CHECK(gap < 6s);
    REQUIRE(eventually(
        [&] {
          auto rows = rows_for(daemon.outbox(), k_runway_key);
          return rows.size() == 1 && rows[0].state == OutboxState::delivered;
        },
        5s));
    const auto rows = rows_for(daemon.outbox(), k_runway_key);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].state == OutboxState::delivered);
    CHECK(rows[0].attempts == 2);
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("Slack 400 invalid_payload makes a dead letter while the daemon keeps running and probing") {
    TempDir dir;
    DeepSeekFake deepseek;
    SlackFake slack;
    slack.answer(k_slack_invalid);
    dir.write("creditwatch.yaml", config_yaml(dir, with_accounts({{"ds-main", deepseek.url()}})));
    Daemon daemon(dir, daemon_env(&slack));
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    INFO("slack saw:\n" << describe(slack.hits()));

    REQUIRE(eventually([&] { return slack.count_matching({"[CRITICAL]", "runway"}, 400) >= 1; }, 30s));
    REQUIRE(eventually(
        [&] {
          auto rows = rows_for(daemon.outbox(), k_runway_key);
          return rows.size() == 1 && rows[0].state == OutboxState::dead;
        },
        5s));
    {
      const auto rows = rows_for(daemon.outbox(), k_runway_key);
      INFO("outbox:\n" << describe(rows));
      CHECK(rows[0].attempts == 1);
      CHECK(rows[0].last_error.find("invalid_payload") != std::string::npos);
      CHECK(rows[0].last_error.find("400") != std::string::npos);
    }
    // Still alive, still probing, and the dead letter is not retried.
    REQUIRE(probes_continue(deepseek, 3));
    CHECK(daemon.running());
    CHECK(slack.count_matching({"[CRITICAL]", "runway"}) == 1);
    const auto rows = rows_for(daemon.outbox(), k_runway_key);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].state == OutboxState::dead);  // kept, not deleted
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("SIGTERM exits 0 and a restart sends no firing alert twice and delivers what was left pending") {
    TempDir dir;
    DeepSeekFake deepseek;
    SlackFake slack;
    dir.write("creditwatch.yaml", config_yaml(dir, with_accounts({{"ds-main", deepseek.url()}})));
    Daemon daemon(dir, daemon_env(&slack));
    INFO("daemon log:\n" << daemon.log());
    INFO("slack saw:\n" << describe(slack.hits()));

    // First life: the critical alert goes out once.
    daemon.start();
    REQUIRE(eventually([&] { return slack.count_matching({"[CRITICAL]", "runway"}, 200) >= 1; }, 30s));
    auto started = SteadyClock::now();
    CHECK(daemon.terminate() == 0);
    CHECK(seconds_since(started) < 10.0);

    // Second life, same state: no second firing notification.
    daemon.start();
    REQUIRE(probes_continue(deepseek, 3));
    CHECK(slack.count_matching({"runway"}) == 1);

    // The state changes while Slack is down: the resolution is stuck in the outbox at SIGTERM.
    slack.answer(k_slack_rollup);
    deepseek.set_mode(DeepSeekFake::Mode::topped_up);
    REQUIRE(eventually([&] { return slack.count_matching({"RESOLVED", "runway"}, 500) >= 1; }, 30s));
    started = SteadyClock::now();
    CHECK(daemon.terminate() == 0);
    CHECK(seconds_since(started) < 10.0);
    {
      const auto rows = rows_for(daemon.outbox(), k_runway_key);
      INFO("outbox:\n" << describe(rows));
      REQUIRE(rows.size() == 2);
      CHECK(rows[0].state == OutboxState::delivered);
      CHECK(status_of(json::parse(rows[1].payload_json)) == "resolved");
      CHECK(rows[1].state == OutboxState::pending);
    }

    // Third life with Slack back: the pending resolution is delivered, nothing is repeated.
    slack.answer(k_slack_ok);
    daemon.start();
    REQUIRE(eventually([&] { return slack.count_matching({"RESOLVED", "runway"}, 200) >= 1; }, 15s));
    REQUIRE(eventually(
        [&] {
          auto rows = rows_for(daemon.outbox(), k_runway_key);
          return rows.size() == 2 && rows[1].state == OutboxState::delivered;
        },
        5s));
    REQUIRE(probes_continue(deepseek, 2));
    CHECK(slack.count_matching({"[CRITICAL]", "runway"}) == 1);
    CHECK(slack.count_matching({"RESOLVED", "runway"}, 200) == 1);
    started = SteadyClock::now();
    CHECK(daemon.terminate() == 0);
    CHECK(seconds_since(started) < 10.0);
  }

  TEST_CASE("SIGTERM during a hanging Slack delivery and a hanging probe exits 0 within 10 s and loses nothing") {
    TempDir dir;
    DeepSeekFake deepseek;
    SlackFake slack;
    slack.answer(k_slack_hang);
    dir.write("creditwatch.yaml", config_yaml(dir, with_accounts({{"ds-main", deepseek.url()}})));
    Daemon daemon(dir, daemon_env(&slack));
    INFO("daemon log:\n" << daemon.log());
    INFO("slack saw:\n" << describe(slack.hits()));

    daemon.start();
    REQUIRE(eventually([&] { return slack.hanging() >= 1; }, 30s));
    deepseek.set_mode(DeepSeekFake::Mode::hang);
    REQUIRE(eventually([&] { return deepseek.hanging() >= 1; }, 10s));
    const auto started = SteadyClock::now();
    CHECK(daemon.terminate() == 0);
    CHECK(seconds_since(started) < 10.0);
    {
      const auto all = daemon.outbox();
      INFO("outbox:\n" << describe(all));
      const auto rows = rows_for(all, k_runway_key);
      REQUIRE(rows.size() == 1);
      CHECK(rows[0].state == OutboxState::pending);  // the interrupted delivery is kept for later
      // The probe we aborted ourselves is no evidence against the provider: no alert from it.
      CHECK(all.size() == 1);
      CHECK(daemon.log().find("stale firing") == std::string::npos);
    }

    // Restart with both fakes answering: the notification goes out (at least once).
    deepseek.set_mode(DeepSeekFake::Mode::falling);
    slack.answer(k_slack_ok);
    daemon.start();
    // Releasing the hung request records its hit too: the outbox row says the restart delivered.
    REQUIRE(eventually([&] { return slack.count_matching({"[CRITICAL]", "runway"}, 200) >= 1; }, 15s));
    REQUIRE(eventually(
        [&] {
          auto rows = rows_for(daemon.outbox(), k_runway_key);
          return rows.size() == 1 && rows[0].state == OutboxState::delivered;
        },
        15s));
    REQUIRE(probes_continue(deepseek, 2));
    CHECK(slack.count_matching({"stale"}) == 0);
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("the API key and the webhook token never reach the log in text or JSON format") {
    for (const char* format_name : {"text", "json"}) {
      const std::string format = format_name;
      CAPTURE(format);
      TempDir dir;
      DeepSeekFake deepseek;
      SlackFake slack;
      // Exercise the error paths too: a rejected key first, a Slack failure on the first try.
      deepseek.set_mode(DeepSeekFake::Mode::unauthorized);
      slack.script({k_slack_rollup});
      ConfigSpec spec = with_accounts({{"ds-main", deepseek.url()}});
      spec.log_format = format;
      spec.log_level = "debug";
      spec.min_severity = "info";
      dir.write("creditwatch.yaml", config_yaml(dir, spec));
      Daemon daemon(dir, daemon_env(&slack));
      daemon.start();
      INFO("daemon log:\n" << daemon.log());
      INFO("slack saw:\n" << describe(slack.hits()));

      REQUIRE(eventually([&] { return slack.count_matching({"key_invalid"}, 200) >= 1; }, 30s));
      deepseek.set_mode(DeepSeekFake::Mode::falling);
      REQUIRE(eventually([&] { return slack.count_matching({"[CRITICAL]", "runway"}, 200) >= 1; }, 30s));
      // A reload re-reads the secrets.
      daemon.signal(SIGHUP);
      REQUIRE(eventually([&] { return daemon.count_in_log("reloaded") >= 1; }, 10s));
      REQUIRE(probes_continue(deepseek, 1));
      CHECK(daemon.terminate() == 0);

      const auto log = daemon.log();
      CHECK(log.find("slack-ops") != std::string::npos);  // the log did talk about deliveries
      for (const auto& piece : {std::string(k_key), std::string("SECRET-deadbeef"), std::string("deadbeef42"),
                                      std::string("XXXXSECRETTOKEN"), std::string("/services/T000"),
                                      std::string("B000/XXXX")}) {
        CHECK_MESSAGE(log.find(piece) == std::string::npos, "the log leaks " << piece);
      }
      // The secrets did travel where they belong.
      bool bearer = false;
      for (const auto& r : deepseek.requests()) bearer = bearer || r.header("Authorization") == std::string("Bearer ") + k_key;
      CHECK(bearer);

      if (format == "json") {
        std::istringstream lines(log);
        std::string line;
        std::size_t parsed = 0;
        while (std::getline(lines, line)) {
          if (line.empty()) continue;
          const auto j = json::parse(line, nullptr, false);
          CHECK_MESSAGE((!j.is_discarded() && j.is_object()), "not a JSON object: " << line);
          if (!j.is_discarded() && j.is_object()) {
            ++parsed;
            CHECK(j.contains("level"));
            CHECK(j.contains("msg"));
          }
        }
        CHECK(parsed >= 5);
      }
    }
  }

  TEST_CASE("SIGHUP with a broken config keeps the old one and a valid one adds an account") {
    TempDir dir;
    DeepSeekFake deepseek({"", "/second"});
    SlackFake slack;
    const ConfigSpec good = with_accounts({{"ds-main", deepseek.url()}});
    dir.write("creditwatch.yaml", config_yaml(dir, good));
    Daemon daemon(dir, daemon_env(&slack));
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(probes_continue(deepseek, 2));

    // A misspelt key under defaults.
    ConfigSpec broken = good;
    broken.extra_defaults = "  intervall: 2s\n";
    const auto broken_yaml = config_yaml(dir, broken);
    dir.write("creditwatch.yaml", broken_yaml);
    std::size_t line = 1;
    for (std::size_t i = 0; i < broken_yaml.find("intervall"); ++i) line += broken_yaml[i] == '\n' ? 1 : 0;
    const std::string where = daemon.config_path() + ":" + std::to_string(line) + ":3:";
    daemon.signal(SIGHUP);
    REQUIRE(eventually([&] { return daemon.count_in_log("keeping the previous configuration") >= 1; }, 10s));
    const auto log = daemon.log();
    CHECK(log.find(where) != std::string::npos);
    CHECK(log.find("intervall") != std::string::npos);
    CHECK(log.find("did you mean \"interval\"") != std::string::npos);
    REQUIRE(daemon.running());
    CHECK(probes_continue(deepseek, 3));

    // Garbage that is not YAML at all.
    dir.write("creditwatch.yaml", "accounts: [ {name: x\n  : : ]\n");
    daemon.signal(SIGHUP);
    REQUIRE(eventually([&] { return daemon.count_in_log("keeping the previous configuration") >= 2; }, 10s));
    CHECK(daemon.log().find(daemon.config_path() + ":") != std::string::npos);
    CHECK(probes_continue(deepseek, 2));

    // A valid change: a second account on another path.
    ConfigSpec two = good;
    two.accounts.push_back({"ds-second", deepseek.url("/second")});
    dir.write("creditwatch.yaml", config_yaml(dir, two));
    CHECK(deepseek.count("/second") == 0);
    daemon.signal(SIGHUP);
    REQUIRE(eventually([&] { return daemon.count_in_log("reloaded") >= 1; }, 10s));
    CHECK(probes_continue(deepseek, 2, "/second"));
    CHECK(probes_continue(deepseek, 2));  // the first account keeps going too
    const auto started = SteadyClock::now();
    CHECK(daemon.terminate() == 0);
    CHECK(seconds_since(started) < 10.0);
  }

  TEST_CASE("DeepSeek 401 raises key_invalid and 402 Insufficient Balance raises exhausted and both are critical") {
    TempDir dir;
    DeepSeekFake deepseek({"/bad-key", "/dry"});
    deepseek.set_mode(DeepSeekFake::Mode::unauthorized, "/bad-key");
    deepseek.set_mode(DeepSeekFake::Mode::insufficient, "/dry");
    SlackFake slack;
    dir.write("creditwatch.yaml",
              config_yaml(dir, with_accounts({{"ds-bad-key", deepseek.url("/bad-key")}, {"ds-dry", deepseek.url("/dry")}})));
    Daemon daemon(dir, daemon_env(&slack));
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    INFO("slack saw:\n" << describe(slack.hits()));

    REQUIRE(eventually(
        [&] {
          return slack.count_matching({"[CRITICAL]", "ds-bad-key", "key_invalid"}, 200) >= 1 &&
                 slack.count_matching({"[CRITICAL]", "ds-dry", "exhausted"}, 200) >= 1;
        },
        30s));
    const auto key = slack.matching({"[CRITICAL]", "ds-bad-key", "key_invalid"}).front();
    CHECK(key.body.contains("blocks"));
    CHECK(key.body["text"].get<std::string>().find("401") != std::string::npos);
    CHECK(key.body.dump().find(k_key) == std::string::npos);
    const auto dry = slack.matching({"[CRITICAL]", "ds-dry", "exhausted"}).front();
    CHECK(dry.body.contains("blocks"));
    CHECK(dry.body["text"].get<std::string>().find("Insufficient Balance") != std::string::npos);

    // Each fires once while nothing changes.
    REQUIRE(probes_continue(deepseek, 2, "/dry"));
    CHECK(slack.count_matching({"ds-bad-key", "key_invalid"}) == 1);
    CHECK(slack.count_matching({"ds-dry", "exhausted"}) == 1);
    daemon.signal(SIGINT);  // SIGINT is a clean shutdown too
    CHECK(daemon.wait(10s) == 0);
  }

  TEST_CASE("SIGKILL with notifications pending loses none and a restart delivers each exactly once") {
    TempDir dir;
    DeepSeekFake deepseek({"/a", "/b"});
    SlackFake slack;
    slack.answer(k_slack_rollup);
    dir.write("creditwatch.yaml",
              config_yaml(dir, with_accounts({{"ds-a", deepseek.url("/a")}, {"ds-b", deepseek.url("/b")}})));
    Daemon daemon(dir, daemon_env(&slack));
    INFO("daemon log:\n" << daemon.log());
    INFO("slack saw:\n" << describe(slack.hits()));
    const std::vector<std::string> keys = {"creditwatch-ds-a-runway", "creditwatch-ds-b-runway"};

    daemon.start();
    REQUIRE(eventually(
        [&] {
          return slack.count_matching({"[CRITICAL]", "ds-a", "runway"}, 500) >= 1 &&
                 slack.count_matching({"[CRITICAL]", "ds-b", "runway"}, 500) >= 1;
        },
        30s));
    // The fake records a request before it answers, and the daemon records the failed
    // attempt only after the answer: wait for both records so the kill cannot fall between.
    REQUIRE(eventually(
        [&] {
          const auto rows = daemon.outbox();
          for (const auto& key : keys) {
            const auto mine = rows_for(rows, key);
            if (mine.size() != 1 || mine[0].attempts < 1) return false;
          }
          return true;
        },
        30s));
    daemon.signal(SIGKILL);
    CHECK(daemon.wait(5s) == -1);
    {
      const auto rows = daemon.outbox();
      INFO("outbox after SIGKILL:\n" << describe(rows));
      for (const auto& key : keys) {
        const auto mine = rows_for(rows, key);
        REQUIRE(mine.size() == 1);
        CHECK(mine[0].state == OutboxState::pending);
        CHECK(mine[0].attempts >= 1);
      }
    }

    slack.answer(k_slack_ok);
    daemon.start();
    REQUIRE(eventually(
        [&] {
          for (const auto& row : daemon.outbox()) {
            if (row.state != OutboxState::delivered) return false;
          }
          return true;
        },
        20s));
    REQUIRE(probes_continue(deepseek, 2, "/a"));
    const auto rows = daemon.outbox();
    INFO("outbox after restart:\n" << describe(rows));
    for (const auto& key : keys) CHECK(rows_for(rows, key).size() == 1);  // the restart queued nothing new
    CHECK(slack.count_matching({"[CRITICAL]", "ds-a", "runway"}, 200) == 1);
    CHECK(slack.count_matching({"[CRITICAL]", "ds-b", "runway"}, 200) == 1);
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("a firing alert stays active in a real Alertmanager through refreshes and resolves there") {
    TempDir dir;
    DeepSeekFake deepseek;
    AlertmanagerServer am;
    auto spec = with_accounts({{"ds-main", deepseek.url()}});
    spec.slack = false;
    spec.extra_notifiers =
        "  - name: am\n    type: alertmanager\n    urls: [" + am.url() + "]\n    refresh_interval: 2s\n    min_severity: warning\n";
    dir.write("creditwatch.yaml", config_yaml(dir, spec));
    Daemon daemon(dir, daemon_env(nullptr));
    INFO("daemon log:\n" << daemon.log());
    auto runway_alert = [&]() -> json {
      const auto alerts = am.alerts();
      if (!alerts.is_array()) return nullptr;
      for (const auto& a : alerts) {
        if (a["labels"].value("alertname", "") == "CreditwatchRunway" && a["labels"].value("account", "") == "ds-main") {
          return a;
        }
      }
      return nullptr;
    };

    daemon.start();
    REQUIRE(eventually([&] { return !runway_alert().is_null(); }, 30s));
    const auto first = runway_alert();
    INFO("first: " << first.dump());
    CHECK(first["labels"]["severity"] == "critical");
    CHECK(first["labels"]["provider"] == "deepseek");
    CHECK(std::string(first["annotations"]["balance"]).find(" CNY") != std::string::npos);
    const std::string first_end = first["endsAt"];
    // Refreshed every 2 s with endsAt = now + 6 s: still active well past the first endsAt.
    std::this_thread::sleep_for(8s);
    const auto later = runway_alert();
    REQUIRE_FALSE(later.is_null());
    CHECK(std::string(later["endsAt"]) > first_end);
    CHECK(later["startsAt"] == first["startsAt"]);
    {
      std::size_t repeats = 0;
      std::size_t pending = 0;
      for (const auto& row : daemon.outbox()) {
        if (json::parse(row.payload_json).value("reason", "") == "repeat") ++repeats;
        if (row.state == OutboxState::pending) ++pending;
      }
      CHECK(repeats >= 2);
      CHECK(pending <= 1);
    }

    deepseek.set_mode(DeepSeekFake::Mode::topped_up);
    REQUIRE(eventually([&] { return runway_alert().is_null(); }, 30s));
    const auto rows = daemon.outbox().size();
    std::this_thread::sleep_for(4s);
    CHECK(runway_alert().is_null());
    CHECK(daemon.outbox().size() == rows);  // no refreshes once resolved
    CHECK(daemon.terminate() == 0);
  }
}
