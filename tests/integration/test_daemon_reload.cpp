// SIGHUP end to end against the real daemon (SPEC "Configuration": SIGHUP reloads; an
// invalid new config is logged and the old one kept): an account added, a threshold
// changed and an account removed, each seen through the HTTP API and the fake provider;
// broken configs rejected with FILE:LINE:COL while the daemon stays healthy; and the
// sd_notify conversation systemd sees (READY, RELOADING/READY around SIGHUP, WATCHDOG,
// STOPPING) on a NOTIFY_SOCKET of our own.
#include "http_daemon.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

// 100000 USD a day out of a million: a runway of about ten days, between the thresholds
// used below (warn 14 -> WARNING, warn 5 -> OK).
const std::string k_steady = simulated_account("sim-steady", "1000000", "100000");

// The config with these accounts, warn_days and more `defaults:` lines.
std::string config_of(const TempDir& dir, const std::string& accounts, const std::string& warn_days = "14",
                      const std::string& extra_defaults = "") {
  return daemon_yaml(dir, accounts, "", "  warn_days: " + warn_days + "\n  critical_days: 3\n" + extra_defaults);
}

std::string state_of(const HttpDaemon& daemon, const std::string& account) {
  auto a = daemon.account(account);
  return a ? (*a)["state"].get<std::string>() : "";
}

std::size_t firing_alerts(const HttpDaemon& daemon, const std::string& account) {
  auto a = daemon.account(account);
  return a ? (*a)["alerts"].size() : 0;
}

// Waits until the fake has seen `more` requests on `prefix` beyond what it has now.
bool probes_continue(const DeepSeekBalanceFake& fake, const std::string& prefix, std::size_t more = 2) {
  const auto start = fake.count(prefix);
  return eventually([&] { return fake.count(prefix) >= start + more; }, 15s);
}

// 1-based line of the first `needle` in `text`.
std::size_t line_of(const std::string& text, const std::string& needle) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.find(needle); ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

void reload(HttpDaemon& daemon, const std::string& expect_in_log, std::size_t times) {
  daemon.signal(SIGHUP);
  REQUIRE_MESSAGE(eventually([&] { return daemon.count_in_log(expect_in_log) >= times; }, 10s),
                  "no \"" << expect_in_log << "\" after SIGHUP");
}

// A NOTIFY_SOCKET: collects every datagram the daemon sends to systemd.
class NotifySocket {
public:
  explicit NotifySocket(const std::string& path) : m_path(path) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof address.sun_path);
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    timeval timeout{0, 100'000};
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    m_thread = std::thread([this] { receive(); });
  }
  ~NotifySocket() {
    m_stop = true;
    m_thread.join();
    ::close(m_fd);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  std::vector<std::string> messages() const {
    std::lock_guard lock(m_mutex);
    return m_messages;
  }
  // Index of the first message at or after `from` containing the line `line`, or -1.
  int find(const std::string& line, int from = 0) const {
    const auto all = messages();
    for (int i = std::max(from, 0); i < static_cast<int>(all.size()); ++i) {
      if (("\n" + all[i] + "\n").find("\n" + line + "\n") != std::string::npos) return i;
    }
    return -1;
  }

private:
  void receive() {
    char buffer[4096];
    while (!m_stop) {
      const auto n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      std::lock_guard lock(m_mutex);
      m_messages.emplace_back(buffer, static_cast<std::size_t>(n));
    }
  }

  std::string m_path;
  int m_fd = -1;
  std::atomic<bool> m_stop{false};
  mutable std::mutex m_mutex;
  std::vector<std::string> m_messages;
  std::thread m_thread;
};

// GET path on 127.0.0.1:port with an optional bearer token; the status, 0 when no answer.
int status_on(int port, const std::string& path, const std::string& token = "") {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  auto res = client.Get(path, headers);
  return res ? res->status : 0;
}

// A port nothing listens on right now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// The config with `listen` and the token file, plus `storage_extra` under storage:.
std::string http_config(const TempDir& dir, const std::string& listen, const std::string& token_file,
                        const std::string& storage_extra = "") {
  auto yaml = daemon_yaml(dir, k_steady, "  auth_token_file: " + token_file + "\n");
  yaml.replace(yaml.find("listen: 127.0.0.1:0"), 19, "listen: " + listen);
  yaml.insert(yaml.find("http:\n"), storage_extra);
  return yaml;
}

std::string describe(const std::vector<std::string>& messages) {
  std::string out;
  for (const auto& m : messages) out += "  [" + m + "]\n";
  return out;
}

}  // namespace

TEST_SUITE("daemon_reload") {
  TEST_CASE("SIGHUP adds an account, changes a threshold and removes an account, and rejects broken configs") {
    TempDir dir;
    DeepSeekBalanceFake deepseek({"/a", "/b"});
    const auto account_a = deepseek_account("ds-a", deepseek.url("/a"));
    const auto account_b = deepseek_account("ds-b", deepseek.url("/b"));
    dir.write("creditwatch.yaml", config_of(dir, k_steady + account_a));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(daemon.wait_for_burn({"sim-steady", "ds-a"}, 20s));
    REQUIRE(eventually([&] { return state_of(daemon, "sim-steady") == "WARNING"; }, 15s));
    REQUIRE(eventually([&] { return firing_alerts(daemon, "sim-steady") == 1; }, 15s));
    CHECK(deepseek.count("/b") == 0);
    CHECK_FALSE(daemon.account("ds-b"));

    // 1. Add an account: it is probed and listed.
    dir.write("creditwatch.yaml", config_of(dir, k_steady + account_a + account_b));
    reload(daemon, "reloaded", 1);
    CHECK(probes_continue(deepseek, "/b"));
    REQUIRE(daemon.wait_for_burn({"ds-b"}, 15s));
    CHECK(daemon.get("/api/v1/accounts/ds-b/samples")->status == 200);
    CHECK(probes_continue(deepseek, "/a"));  // the others keep going

    // 2. Change a threshold: ten days of runway is no longer below warn_days, the alert resolves.
    dir.write("creditwatch.yaml", config_of(dir, k_steady + account_a + account_b, "5"));
    reload(daemon, "reloaded", 2);
    CHECK(eventually([&] { return state_of(daemon, "sim-steady") == "OK"; }, 15s));
    CHECK(eventually([&] { return firing_alerts(daemon, "sim-steady") == 0; }, 15s));
    CHECK(daemon.get("/metrics")->body.find("creditwatch_alerts_firing{account=\"sim-steady\"") == std::string::npos);

    // 3. Remove an account: it leaves the API and the metrics, and is no longer probed.
    const auto without_a = k_steady + account_b;
    dir.write("creditwatch.yaml", config_of(dir, without_a, "5"));
    reload(daemon, "reloaded", 3);
    CHECK(eventually([&] { return !daemon.account("ds-a"); }, 10s));
    CHECK(daemon.get("/api/v1/accounts/ds-a/samples")->status == 404);
    const auto metrics = daemon.get("/metrics")->body;
    CHECK_MESSAGE(metrics.find("account=\"ds-a\"") == std::string::npos, "metrics:\n" << metrics);
    std::this_thread::sleep_for(1500ms);  // a probe already in flight may still land
    const auto a_count = deepseek.count("/a");
    CHECK(probes_continue(deepseek, "/b", 3));
    CHECK(deepseek.count("/a") == a_count);

    // 4. A misspelt key: rejected with FILE:LINE:COL, the previous configuration kept.
    const auto broken = config_of(dir, without_a, "5", "  warn_dayz: 1\n");
    dir.write("creditwatch.yaml", broken);
    reload(daemon, "keeping the previous configuration", 1);
    const auto where = daemon.config_path() + ":" + std::to_string(line_of(broken, "warn_dayz")) + ":3:";
    CHECK_MESSAGE(daemon.log().find(where) != std::string::npos, "no " << where << " in the log");
    CHECK(daemon.log().find("warn_dayz") != std::string::npos);
    CHECK(daemon.get("/healthz")->status == 200);
    CHECK(probes_continue(deepseek, "/b"));
    CHECK(state_of(daemon, "sim-steady") == "OK");  // still warn_days 5
    CHECK(daemon.account("ds-b"));
    CHECK_FALSE(daemon.account("ds-a"));

    // 5. An unset ${VAR} and a file that is not YAML: rejected the same way.
    auto text = config_of(dir, without_a + deepseek_account("ds-c", deepseek.url("/a")), "5");
    const auto last_key = text.rfind("${" + std::string(k_ops_key_env) + "}");
    text.replace(last_key, std::strlen(k_ops_key_env) + 3, "${CW_OPS_NOT_SET_ANYWHERE}");
    dir.write("creditwatch.yaml", text);
    reload(daemon, "keeping the previous configuration", 2);
    CHECK(daemon.log().find("CW_OPS_NOT_SET_ANYWHERE") != std::string::npos);
    CHECK_FALSE(daemon.account("ds-c"));
    dir.write("creditwatch.yaml", "accounts: [ {name: x\n  : : ]\n");
    reload(daemon, "keeping the previous configuration", 3);
    CHECK(daemon.log().find(daemon.config_path() + ":") != std::string::npos);
    CHECK(daemon.get("/healthz")->status == 200);
    CHECK(probes_continue(deepseek, "/b"));

    // 6. A valid config is taken again after the rejections.
    dir.write("creditwatch.yaml", config_of(dir, k_steady + account_a + account_b, "5"));
    reload(daemon, "reloaded", 4);
    CHECK(probes_continue(deepseek, "/a"));
    CHECK(eventually([&] { return daemon.account("ds-a").has_value(); }, 10s));
    CHECK(daemon.running());
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("sd_notify: READY once serving, RELOADING then READY around SIGHUP, WATCHDOG, STOPPING") {
    TempDir dir;
    NotifySocket systemd(dir.file("notify.sock"));
    dir.write("creditwatch.yaml", config_of(dir, k_steady));
    HttpDaemon daemon(dir, {{"NOTIFY_SOCKET", dir.file("notify.sock")}});
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    INFO("notifications:\n" << describe(systemd.messages()));

    REQUIRE(eventually([&] { return systemd.find("READY=1") >= 0; }, 10s));
    CHECK(daemon.get("/healthz")->status == 200);  // READY came after the listener was up
    CHECK(systemd.messages()[static_cast<std::size_t>(systemd.find("READY=1"))].find("STATUS=") != std::string::npos);
    CHECK(eventually([&] { return systemd.find("WATCHDOG=1") >= 0; }, 5s));

    daemon.signal(SIGHUP);
    REQUIRE(eventually([&] { return systemd.find("RELOADING=1") >= 0; }, 10s));
    const int reloading = systemd.find("RELOADING=1");
    CHECK(eventually([&] { return systemd.find("READY=1", reloading + 1) > reloading; }, 10s));

    CHECK(daemon.terminate() == 0);
    CHECK(eventually([&] { return systemd.find("STOPPING=1") >= 0; }, 5s));
    CHECK(systemd.find("STOPPING=1") > reloading);
  }

  TEST_CASE("SIGHUP swaps http.auth_token, rebinds http.listen or keeps the old one, and names what needs a restart") {
    TempDir dir;
    const std::string old_token = "tok-old-5ecret-1";
    const std::string new_token = "tok-new-5ecret-2";
    const auto token_file = dir.write("http-token", old_token + "\n");
    dir.write("creditwatch.yaml", http_config(dir, "127.0.0.1:0", token_file));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    const int first_port = daemon.port();
    REQUIRE(status_on(first_port, "/metrics", old_token) == 200);

    // 1. A leaked token is revoked by a reload: the old one stops working at once.
    dir.write("http-token", new_token + "\n");
    reload(daemon, "reloaded", 1);
    CHECK(daemon.count_in_log("http.auth_token changed; applied") == 1);
    CHECK(status_on(first_port, "/metrics", old_token) == 401);
    CHECK(status_on(first_port, "/api/v1/accounts", old_token) == 401);
    CHECK(status_on(first_port, "/metrics", new_token) == 200);
    CHECK(status_on(first_port, "/healthz") == 200);

    // 2. A new listen address: bound first, then the old one is let go.
    const int second_port = free_port();
    const auto second = "127.0.0.1:" + std::to_string(second_port);
    dir.write("creditwatch.yaml", http_config(dir, second, token_file));
    reload(daemon, "reloaded", 2);
    CHECK(daemon.count_in_log("http.listen changed from 127.0.0.1:0 to " + second + "; applied") == 1);
    CHECK(daemon.count_in_log("serving HTTP on http://127.0.0.1:" + std::to_string(second_port) + "/") == 1);
    CHECK(status_on(second_port, "/metrics", new_token) == 200);
    CHECK(eventually([&] { return status_on(first_port, "/healthz") == 0; }, 5s));

    // 3. An address that cannot be bound: said so clearly, the old listener kept.
    const int third_port = free_port();
    const int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(third_port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(blocker, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(blocker, 1) == 0);
    const auto third = "127.0.0.1:" + std::to_string(third_port);
    dir.write("creditwatch.yaml", http_config(dir, third, token_file));
    reload(daemon, "reloaded", 3);
    CHECK(daemon.count_in_log("http.listen changed to " + third + " but it cannot be used") == 1);
    CHECK(daemon.count_in_log("still serving on " + second) == 1);
    CHECK(status_on(second_port, "/metrics", new_token) == 200);
    ::close(blocker);

    // 4. Once it is free, the next reload binds it (the failed change was not forgotten).
    reload(daemon, "reloaded", 4);
    CHECK(daemon.count_in_log("http.listen changed from " + second + " to " + third + "; applied") == 1);
    CHECK(status_on(third_port, "/metrics", new_token) == 200);

    // 5. What cannot change live is named, never silently ignored.
    dir.write("creditwatch.yaml", http_config(dir, third, token_file, "  retention: 30d\n"));
    reload(daemon, "reloaded", 5);
    CHECK(daemon.count_in_log("storage.retention changed; applied") == 1);
    auto moved = http_config(dir, third, token_file);
    moved.replace(moved.find("creditwatch.db"), 14, "elsewhere.db");
    dir.write("creditwatch.yaml", moved);
    reload(daemon, "reloaded", 6);
    CHECK(daemon.count_in_log("storage.path changed; takes effect after restart") == 1);
    CHECK(daemon.count_in_log("storage.retention changed; applied") == 2);  // back to the default
    CHECK(status_on(third_port, "/healthz") == 200);

    CHECK(daemon.terminate() == 0);
    const auto log = daemon.log();
    CHECK_MESSAGE(log.find(old_token) == std::string::npos, "the log leaks the old HTTP token");
    CHECK_MESSAGE(log.find(new_token) == std::string::npos, "the log leaks the new HTTP token");
  }
}
