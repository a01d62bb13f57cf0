#pragma once
// Shared by test_server_http.cpp, test_status_page.cpp and test_daemon_reload.cpp: a
// loopback fake of DeepSeek's GET /user/balance (shared/reference/providers.md section 1),
// config builders, and the real `creditwatch run` daemon serving HTTP on a port the kernel
// picks (`http.listen: 127.0.0.1:0`), read back from its "serving HTTP on" log line.

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace creditwatch::testing {

// A distinctive key: any leak into a response body or the log is unmistakable.
inline constexpr const char* k_ops_deepseek_key = "sk-SECRET-0ps7c0ffee99";
inline constexpr const char* k_ops_key_env = "CW_OPS_DEEPSEEK_KEY";

// GET {prefix}/user/balance with the documented body: one CNY entry, amounts as strings,
// granted 10.00 and the rest topped up. The total starts at 110.00 (the documented figure)
// and falls by `per_second` every second, so the daemon sees a burn rate and a runway (fast
// enough that rounding to cents barely moves the estimate).
class DeepSeekBalanceFake {
public:
  explicit DeepSeekBalanceFake(std::vector<std::string> prefixes = {""}, double per_second = 0.25) {
    for (const auto& prefix : prefixes) {
      m_server.get(prefix + "/user/balance", [this, per_second](const httplib::Request&, httplib::Response& res) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
        reply_json(res, 200, body(110.0 - per_second * elapsed));
      });
    }
    m_server.start();
  }

  std::string url(const std::string& prefix = "") const { return m_server.url() + prefix; }
  // Requests seen on {prefix}/user/balance.
  std::size_t count(const std::string& prefix = "") const {
    std::size_t n = 0;
    for (const auto& r : m_server.requests()) n += r.path == prefix + "/user/balance" ? 1 : 0;
    return n;
  }
  std::vector<RecordedRequest> requests() const { return m_server.requests(); }

private:
  static std::string money(double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
    return buffer;
  }
  static std::string body(double total) {
    return R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":")" + money(total) +
           R"(","granted_balance":"10.00","topped_up_balance":")" + money(total - 10.0) + R"("}]})";
  }

  const std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
  FakeHttpServer m_server;  // last: stops before the state its handlers use goes away
};

// --- config --------------------------------------------------------------------------------

// A `simulated` account (no network): `start` falling by `spend_per_day`.
inline std::string simulated_account(const std::string& name, const std::string& start,
                                     const std::string& spend_per_day, const std::string& extra = "") {
  return "  - name: " + name + "\n    provider: simulated\n    currency: USD\n    start: " + start +
         "\n    spend_per_day: " + spend_per_day + "\n" + extra;
}

// A `deepseek` account whose key comes from the environment (k_ops_key_env).
inline std::string deepseek_account(const std::string& name, const std::string& base_url,
                                    const std::string& extra = "") {
  return "  - name: " + name + "\n    provider: deepseek\n    api_key: ${" + k_ops_key_env +
         "}\n    base_url: " + base_url + "\n" + extra;
}

// One-second probes, a one-hour burn window, loopback HTTP on a kernel-chosen port.
// `accounts`: list items under `accounts:` (see the *_account helpers); `http_extra` and
// `defaults_extra`: more lines under `http:` and `defaults:`, two-space indented.
inline std::string daemon_yaml(const TempDir& dir, const std::string& accounts, const std::string& http_extra = "",
                               const std::string& defaults_extra = "") {
  std::ostringstream y;
  y << "storage:\n  path: " << dir.file("creditwatch.db") << "\n";
  y << "http:\n  listen: 127.0.0.1:0\n" << http_extra;
  y << "defaults:\n  interval: 1s\n  timeout: 5s\n  burn_window: 1h\n" << defaults_extra;
  y << "logging:\n  level: debug\n  format: text\n";
  y << "accounts:\n" << accounts;
  return y.str();
}

// --- the daemon ----------------------------------------------------------------------------

// `creditwatch run` over DIR/creditwatch.yaml, logging to DIR/daemon.log; killed on
// destruction.
class HttpDaemon {
public:
  explicit HttpDaemon(const TempDir& dir,
                      std::map<std::string, std::string> env = {{k_ops_key_env, k_ops_deepseek_key}})
      : m_config(dir.file("creditwatch.yaml")),
        m_db(dir.file("creditwatch.db")),
        m_log(dir.file("daemon.log")),
        m_env(std::move(env)) {}

  // Starts the daemon and waits for its HTTP listener.
  void start() {
    m_process = std::make_unique<BackgroundProcess>(std::vector<std::string>{CREDITWATCH_BINARY, "run", "-c", m_config},
                                                    m_env, m_log);
    static const std::regex serving(R"(serving HTTP on http://127\.0\.0\.1:(\d+)/)");
    std::smatch match;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                          const auto text = log();
                          if (!std::regex_search(text, match, serving)) return false;
                          m_port = std::stoi(match[1].str());
                          return true;
                        },
                        std::chrono::seconds(15)),
                    "the daemon did not start serving HTTP:\n"
                        << log());
  }

  int port() const { return m_port; }
  int pid() const { return m_process ? m_process->pid() : -1; }
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(m_port) + path; }

  // GET path; `token` adds `Authorization: Bearer TOKEN`, `authorization` sets the header as is.
  httplib::Result get(const std::string& path, const std::string& token = "",
                      const std::string& authorization = "") const {
    httplib::Client client("127.0.0.1", m_port);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(10, 0);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    return client.Get(path, headers);
  }

  // GET path, requiring a 200 JSON answer.
  nlohmann::json get_json(const std::string& path, const std::string& token = "") const {
    auto res = get(path, token);
    REQUIRE_MESSAGE(res, "GET " << path << " failed: " << httplib::to_string(res.error()));
    REQUIRE_MESSAGE(res->status == 200, "GET " << path << " -> " << res->status << ": " << res->body);
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), "GET " << path << " is not JSON: " << res->body);
    return j;
  }

  // The account object of /api/v1/accounts, if listed (on its largest page).
  std::optional<nlohmann::json> account(const std::string& name, const std::string& token = "") const {
    auto res = get("/api/v1/accounts?limit=1000", token);
    if (!res || res->status != 200) return std::nullopt;
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_discarded() || !j.contains("accounts")) return std::nullopt;
    for (const auto& a : j["accounts"]) {
      if (a.value("account", "") == name) return a;
    }
    return std::nullopt;
  }

  // Waits until every named account shows a burn rate (so at least two samples exist).
  bool wait_for_burn(const std::vector<std::string>& names, std::chrono::milliseconds timeout,
                     const std::string& token = "") const {
    return eventually(
        [&] {
          for (const auto& n : names) {
            auto a = account(n, token);
            if (!a || !(*a)["burn_per_day"].is_number()) return false;
          }
          return true;
        },
        timeout);
  }

  void signal(int sig) { m_process->signal(sig); }
  bool running() { return m_process && m_process->running(); }
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    m_process->signal(SIGTERM);
    return m_process->wait(timeout);
  }

  std::string log() const { return read_file(m_log); }
  std::size_t count_in_log(const std::string& needle) const { return count_occurrences(log(), needle); }
  const std::string& config_path() const { return m_config; }
  const std::string& db_path() const { return m_db; }

private:
  std::string m_config;
  std::string m_db;
  std::string m_log;
  std::map<std::string, std::string> m_env;
  std::unique_ptr<BackgroundProcess> m_process;
  int m_port = 0;
};

// The first executable called `name` on $PATH (or an absolute path that exists).
inline std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? std::optional<std::string>(name) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// Where test artefacts (screenshots) go: $CREDITWATCH_ARTIFACTS_DIR, else `artifacts/`
// beside the test binary (BUILD/tests/artifacts).
inline std::string artifacts_dir() {
  std::filesystem::path dir;
  if (const char* env = std::getenv("CREDITWATCH_ARTIFACTS_DIR"); env && *env) {
    dir = env;
  } else {
    dir = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "artifacts";
  }
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace creditwatch::testing
