#pragma once
// Shared by test_daemon_e2e.cpp and test_daemon_sinks_e2e.cpp: a loopback fake of DeepSeek's
// GET /user/balance (shared/reference/providers.md section 1) whose balance falls fast and
// can be topped up, a config builder for 1 s probes, the real `creditwatch run` daemon
// (restartable, with its outbox and alerts read back from the database), and outbox helpers.

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace creditwatch::testing {

// The environment variable the accounts' api_key comes from; each test picks the value.
inline constexpr const char* k_deepseek_key_env = "CW_E2E_DEEPSEEK_KEY";

// Documented DeepSeek error bodies (providers.md section 1). The 401 body echoes the key's
// last four characters, as DeepSeek does.
inline constexpr const char* k_deepseek_auth_failed =
    R"({"error":{"message":"Authentication Fails, Your api key: ****ef42 is invalid","type":"authentication_error","param":null,"code":"invalid_request_error"}})";
inline constexpr const char* k_deepseek_insufficient =
    R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}})";

// The dedup key of the runway alert of the account most tests call ds-main.
inline const std::string k_runway_key = "creditwatch-ds-main-runway";

inline std::string deepseek_balance_body(const std::string& total) {
  return R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":")" + total +
         R"(","granted_balance":"0.00","topped_up_balance":")" + total + R"("}]})";
}

inline std::string two_decimals(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

// --- DeepSeek fake -------------------------------------------------------------------------

// Serves {prefix}/user/balance for each prefix given. Each prefix has a mode; the
// falling balance loses 0.5 per second since the fake was created (a runway of minutes:
// critical), the topped-up one is 1000000.00 (a runway of weeks).
class DeepSeekFake {
public:
  enum class Mode { falling, topped_up, unauthorized, insufficient, hang };

  explicit DeepSeekFake(std::vector<std::string> prefixes = {""}) {
    for (const auto& prefix : prefixes) {
      m_modes[prefix] = Mode::falling;
      m_server.get(prefix + "/user/balance",
                   [this, prefix](const httplib::Request&, httplib::Response& res) { answer(prefix, res); });
    }
    m_server.start();
  }

  ~DeepSeekFake() {
    std::lock_guard lock(m_mutex);
    m_closing = true;
    m_release.notify_all();
  }

  void set_mode(Mode mode, const std::string& prefix = "") {
    std::lock_guard lock(m_mutex);
    m_modes[prefix] = mode;
    m_release.notify_all();
  }
  int hanging() const {
    std::lock_guard lock(m_mutex);
    return m_hanging;
  }
  std::string url(const std::string& prefix = "") const { return m_server.url() + prefix; }
  std::size_t count(const std::string& prefix = "") const {
    std::size_t n = 0;
    for (const auto& r : m_server.requests()) {
      if (r.path == prefix + "/user/balance") ++n;
    }
    return n;
  }
  std::vector<RecordedRequest> requests() const { return m_server.requests(); }

private:
  void answer(const std::string& prefix, httplib::Response& res) {
    Mode mode;
    {
      std::unique_lock lock(m_mutex);
      mode = m_modes[prefix];
      if (mode == Mode::hang) {
        ++m_hanging;
        m_release.wait_for(lock, std::chrono::seconds(30), [&] { return m_modes[prefix] != Mode::hang || m_closing; });
        --m_hanging;
        mode = Mode::falling;
      }
    }
    switch (mode) {
      case Mode::falling: {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
        reply_json(res, 200, deepseek_balance_body(two_decimals(100.0 - 0.5 * elapsed)));
        return;
      }
      case Mode::topped_up: reply_json(res, 200, deepseek_balance_body("1000000.00")); return;
      case Mode::unauthorized: reply_json(res, 401, k_deepseek_auth_failed); return;
      case Mode::insufficient: reply_json(res, 402, k_deepseek_insufficient); return;
      case Mode::hang: return;
    }
  }

  const std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
  mutable std::mutex m_mutex;
  std::condition_variable m_release;
  bool m_closing = false;
  int m_hanging = 0;
  std::map<std::string, Mode> m_modes;
  FakeHttpServer m_server;  // last: stops before the state its handlers use goes away
};

// Waits until the DeepSeek fake has seen `more` requests beyond what it has now.
inline bool probes_continue(const DeepSeekFake& fake, std::size_t more, const std::string& prefix = "",
                            std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto start = fake.count(prefix);
  return eventually([&] { return fake.count(prefix) >= start + more; }, timeout);
}

// --- config --------------------------------------------------------------------------------

struct AccountSpec {
  std::string name;
  std::string base_url;
};

struct DaemonConfig {
  std::vector<AccountSpec> accounts;  // deepseek accounts, the key from k_deepseek_key_env
  std::string log_format = "text";
  std::string log_level = "debug";
  std::string extra_defaults;  // more lines under `defaults:`, two-space indented
  std::string notifiers;       // entries under `notifiers:`, as "  - name: ..." lines
};

// HTTP off, 1 s probes, a 30 s burn window (critical under 3 days of runway), resolutions
// sent, retries after 200 ms growing to 1 s.
inline std::string daemon_config_yaml(const TempDir& dir, const DaemonConfig& c) {
  std::ostringstream y;
  y << "storage:\n  path: " << dir.file("creditwatch.db") << "\n";
  y << "http:\n  listen: \"off\"\n";
  y << "defaults:\n  interval: 1s\n  timeout: 5s\n  burn_window: 30s\n  warn_days: 14\n  critical_days: 3\n"
    << c.extra_defaults;
  y << "alerting:\n  repeat_interval: 24h\n  send_resolved: true\n  retry_initial: 200ms\n  retry_max: 1s\n";
  y << "logging:\n  level: " << c.log_level << "\n  format: " << c.log_format << "\n";
  y << "accounts:\n";
  for (const auto& a : c.accounts) {
    y << "  - name: " << a.name << "\n    provider: deepseek\n    api_key: ${" << k_deepseek_key_env
      << "}\n    base_url: " << a.base_url << "\n";
  }
  if (!c.notifiers.empty()) y << "notifiers:\n" << c.notifiers;
  return y.str();
}

// --- the daemon ----------------------------------------------------------------------------

// One daemon process over DIR/creditwatch.yaml and DIR/creditwatch.db, logging to
// DIR/daemon.log; restartable, killed on destruction.
class Daemon {
public:
  Daemon(const TempDir& dir, std::map<std::string, std::string> env)
      : m_config(dir.file("creditwatch.yaml")),
        m_db(dir.file("creditwatch.db")),
        m_log(dir.file("daemon.log")),
        m_env(std::move(env)) {}

  void start() {
    m_process = std::make_unique<BackgroundProcess>(std::vector<std::string>{CREDITWATCH_BINARY, "run", "-c", m_config},
                                                    m_env, m_log);
    // The database exists and is migrated once the start line is logged.
    REQUIRE_MESSAGE(eventually([&] { return count_in_log(" watching ") > m_starts_ready; }, std::chrono::seconds(15)),
                    "the daemon did not start:\n"
                        << log());
    m_starts_ready = count_in_log(" watching ");
  }

  // SIGTERM; returns the exit code (-2: still running after `timeout`).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    m_process->signal(SIGTERM);
    return m_process->wait(timeout);
  }
  void signal(int sig) { m_process->signal(sig); }
  int wait(std::chrono::milliseconds timeout) { return m_process->wait(timeout); }
  bool running() { return m_process && m_process->running(); }

  std::string log() const { return read_file(m_log); }
  std::size_t count_in_log(const std::string& needle) const { return count_occurrences(log(), needle); }
  const std::string& config_path() const { return m_config; }
  const std::string& db_path() const { return m_db; }
  const std::string& log_path() const { return m_log; }

  std::vector<storage::OutboxRow> outbox() const {
    storage::SqliteStore store(m_db);
    return store.notifications();
  }
  std::vector<storage::AlertRow> alerts() const {
    storage::SqliteStore store(m_db);
    return store.alerts();
  }

private:
  std::string m_config;
  std::string m_db;
  std::string m_log;
  std::map<std::string, std::string> m_env;
  std::unique_ptr<BackgroundProcess> m_process;
  std::size_t m_starts_ready = 0;
};

// --- the outbox ----------------------------------------------------------------------------

inline std::vector<storage::OutboxRow> rows_for(const std::vector<storage::OutboxRow>& rows,
                                                const std::string& dedup_key) {
  std::vector<storage::OutboxRow> out;
  for (const auto& r : rows) {
    if (r.dedup_key == dedup_key) out.push_back(r);
  }
  return out;
}

// "firing" or "resolved" for an outbox payload; "" when it is not one.
inline std::string status_of(const nlohmann::json& payload) {
  return payload.is_object() ? payload.value("status", "") : "";
}

// One line per row, for INFO messages.
inline std::string describe(const std::vector<storage::OutboxRow>& rows) {
  std::ostringstream s;
  for (const auto& r : rows) {
    s << "  #" << r.id << " " << r.notifier << " " << r.dedup_key << " "
      << status_of(nlohmann::json::parse(r.payload_json, nullptr, false)) << " state=" << storage::to_string(r.state)
      << " attempts=" << r.attempts << " last_error=" << r.last_error << "\n";
  }
  return s.str();
}

}  // namespace creditwatch::testing
