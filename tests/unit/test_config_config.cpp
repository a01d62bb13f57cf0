#include "creditwatch/app/loaded_config.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/forecast/ledger.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::config::ConfigErrors;
using creditwatch::config::load_config;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

// Shows both lists of errors when a comparison fails.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& lines) {
    std::string out = "{";
    for (const auto& line : lines) out += "\n  " + line;
    return (out + "\n}").c_str();
  }
};
}  // namespace doctest

namespace {

// Sets (or unsets) an environment variable for the lifetime of the guard.
class ScopedEnv {
public:
  ScopedEnv(std::string name, std::optional<std::string> value) : m_name(std::move(name)) {
    if (const char* old = std::getenv(m_name.c_str())) m_old = old;
    if (value) {
      setenv(m_name.c_str(), value->c_str(), 1);
    } else {
      unsetenv(m_name.c_str());
    }
  }
  ~ScopedEnv() {
    if (m_old) {
      setenv(m_name.c_str(), m_old->c_str(), 1);
    } else {
      unsetenv(m_name.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  std::string m_name;
  std::optional<std::string> m_old;
};

// Each problem as "FILE:LINE:COL: message", or an empty list when the config loaded.
std::vector<std::string> load_errors(const std::string& path) {
  std::vector<std::string> out;
  try {
    load_config(path);
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) out.push_back(error.to_string());
  }
  return out;
}

constexpr uid_t k_nobody = 65534;

// load_errors() in a child process that has dropped to uid and gid nobody (the caller is
// root): how an unprivileged daemon sees a file root may read. The child sends its lines
// back through a pipe, one per line.
std::vector<std::string> load_errors_as_nobody(const std::string& path) {
  int pipe_ends[2];
  REQUIRE(::pipe(pipe_ends) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_ends[0]);
    std::string out;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(k_nobody, k_nobody, k_nobody) != 0 ||
        ::setresuid(k_nobody, k_nobody, k_nobody) != 0) {
      out = "could not drop to nobody\n";
    } else {
      for (const auto& line : load_errors(path)) out += line + "\n";
    }
    for (std::size_t sent = 0; sent < out.size();) {
      const ssize_t wrote = ::write(pipe_ends[1], out.data() + sent, out.size() - sent);
      if (wrote <= 0) break;
      sent += static_cast<std::size_t>(wrote);
    }
    ::_exit(0);
  }
  ::close(pipe_ends[1]);
  std::string received;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_ends[0], buffer, sizeof buffer)) > 0;) {
    received.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_ends[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  std::vector<std::string> lines;
  std::istringstream in(received);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> validated_errors(const std::string& path) {
  creditwatch::testing::FakeClock clock;
  std::vector<std::string> out;
  try {
    creditwatch::app::load_validated_config(path, clock);
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) out.push_back(error.to_string());
  }
  return out;
}

// A minimal valid account section, appended to configs that test something else.
const std::string k_one_account =
    "accounts:\n"
    "  - name: sim\n"
    "    provider: simulated\n";

}  // namespace

TEST_SUITE("config_config") {
  TEST_CASE("a complete config loads with every value typed") {
    const std::string path = std::string(CREDITWATCH_SOURCE_DIR) + "/tests/data/configs/valid.yaml";
    const auto c = load_config(path);
    CHECK(c.source_file == path);
    CHECK(c.storage.path == "/tmp/creditwatch-test.db");
    CHECK(c.storage.retention == std::chrono::hours(24 * 30));
    CHECK(c.http.listen == "127.0.0.1:19477");
    CHECK(c.defaults.interval == 1min);
    CHECK(c.defaults.timeout == 5s);
    CHECK(c.defaults.burn_window == std::chrono::hours(72));
    CHECK(c.defaults.stale_after == 1h);
    CHECK(c.defaults.warn_days == 10);
    CHECK(c.defaults.critical_days == 2.5);
    CHECK(c.defaults.target_days == 20);
    CHECK(c.defaults.topup_lead_time == 24h);
    CHECK(c.alerting.repeat_interval == 12h);
    CHECK_FALSE(c.alerting.send_resolved);
    CHECK(c.alerting.retry_initial == 2s);
    CHECK(c.alerting.retry_max == 10min);
    CHECK(c.alerting.dead_after == 48h);
    CHECK(c.logging.level == "debug");
    CHECK(c.logging.format == "json");

    REQUIRE(c.accounts.size() == 2);
    const auto& main = c.accounts[0];
    CHECK(main.name == "sim-main");
    CHECK(main.provider == "simulated");
    CHECK(main.currency == "EUR");
    CHECK(main.min_balance == Decimal::from_micros(2'500'000));
    CHECK(main.labels == std::map<std::string, std::string>{{"env", "prod"}, {"team", "bots"}});
    CHECK(main.notify == std::vector<std::string>{"ops", "pager"});
    SUBCASE("an account overrides one default and inherits the rest") {
      CHECK(main.tuning.interval == 30s);
      CHECK(main.tuning.timeout == 5s);
      CHECK(main.tuning.warn_days == 10);
      CHECK(c.accounts[1].tuning.interval == 1min);
    }
    SUBCASE("provider-specific keys are kept with their location") {
      REQUIRE(main.settings.count("spend_per_day") == 1);
      const auto& s = main.settings.at("spend_per_day");
      CHECK(s.value == "4");
      CHECK_FALSE(s.is_secret);
      CHECK(s.where.line == 34);
      CHECK(s.where.column == 5);
      CHECK(main.settings.size() == 1);
    }
    CHECK(main.where.line == 27);
    CHECK(main.where.column == 5);
    CHECK(c.accounts[1].name == "sim.backup_2");
    CHECK_FALSE(c.accounts[1].min_balance.has_value());
    CHECK(c.accounts[1].notify.empty());
    CHECK(c.find_account("sim.backup_2") == &c.accounts[1]);
    CHECK(c.find_account("nope") == nullptr);

    REQUIRE(c.notifiers.size() == 2);
    CHECK(c.notifiers[0].name == "ops");
    CHECK(c.notifiers[0].type == "console");
    CHECK(c.notifiers[0].min_severity == "info");
    CHECK(c.notifiers[1].min_severity == "critical");
    CHECK(c.notifiers[1].settings.at("url").value == "https://hooks.example.com/cw");
  }

  TEST_CASE("built-in defaults apply when a section is absent") {
    TempDir dir;
    ScopedEnv state("STATE_DIRECTORY", std::nullopt);
    const auto c = load_config(dir.write("c.yaml", k_one_account));
    CHECK(c.storage.path == "creditwatch.db");
    CHECK(c.storage.retention == std::chrono::hours(24 * 400));
    CHECK(c.http.listen == "127.0.0.1:9477");
    CHECK(c.defaults.interval == 5min);
    CHECK(c.defaults.warn_days == 14);
    CHECK(c.defaults.critical_days == 3);
    CHECK(c.defaults.target_days == 30);
    CHECK(c.alerting.repeat_interval == 24h);
    CHECK(c.alerting.send_resolved);
    SUBCASE("the storage path follows $STATE_DIRECTORY") {
      ScopedEnv set("STATE_DIRECTORY", std::string("/var/lib/creditwatch:/var/lib/other"));
      CHECK(load_config(dir.file("c.yaml")).storage.path == "/var/lib/creditwatch/creditwatch.db");
    }
  }

  TEST_CASE("unknown keys name their location with a hint") {
    TempDir dir;
    SUBCASE("top level") {
      auto path = dir.write("c.yaml",
                            "storag:\n"          // 1
                            "  path: x.db\n" +   // 2
                                k_one_account);  // 3..5
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":1:1: unknown key \"storag\" (did you mean \"storage\"?)"});
    }
    SUBCASE("top level, with no plausible match") {
      auto path = dir.write("c.yaml", k_one_account + "zzzzzzzz: 1\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":4:1: unknown key \"zzzzzzzz\""});
    }
    SUBCASE("defaults") {
      auto path = dir.write("c.yaml",
                            "defaults:\n"          // 1
                            "  intervall: 5m\n" +  // 2
                                k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":2:3: unknown key \"intervall\" (did you mean \"interval\"?)"});
    }
    SUBCASE("storage") {
      auto path = dir.write("c.yaml",
                            "storage:\n"            // 1
                            "  path: x.db\n"        // 2
                            "  retension: 30d\n" +  // 3
                                k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":3:3: unknown key \"retension\" (did you mean \"retention\"?)"});
    }
    SUBCASE("alerting") {
      auto path = dir.write("c.yaml", k_one_account +                 // 1..3
                                          "alerting:\n"               // 4
                                          "    send_resolve: no\n");  // 5
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":5:5: unknown key \"send_resolve\" (did you mean \"send_resolved\"?)"});
    }
    SUBCASE("http and logging") {
      auto path = dir.write("c.yaml",
                            "http:\n"             // 1
                            "  listne: off\n"     // 2
                            "logging:\n"          // 3
                            "  levle: debug\n" +  // 4
                                k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":2:3: unknown key \"listne\" (did you mean \"listen\"?)",
                                     path + ":4:3: unknown key \"levle\" (did you mean \"level\"?)"});
    }
    SUBCASE("the same key twice") {
      auto path = dir.write("c.yaml",
                            "defaults:\n"         // 1
                            "  interval: 1m\n"    // 2
                            "  interval: 2m\n" +  // 3
                                k_one_account);
      CHECK(load_errors(path) == std::vector<std::string>{path + ":3:3: duplicate key \"interval\""});
    }
    SUBCASE("the same key twice in an account") {
      auto path = dir.write("c.yaml", k_one_account +          // 1..3
                                          "    start: 10\n"    // 4
                                          "    start: 20\n");  // 5
      CHECK(load_errors(path) == std::vector<std::string>{path + ":5:5: duplicate key \"start\""});
    }
  }

  TEST_CASE("min_balance levels and percentage thresholds") {
    TempDir dir;
    SUBCASE("a warning and a critical level, and a percentage of percent_of") {
      auto path = dir.write("c.yaml", k_one_account +
                                          "    min_balance: {warning: 10, critical: 2.5}\n"
                                          "    percent_of: 200\n"
                                          "    warn_percent_left: 20\n");
      const auto c = load_config(path);
      REQUIRE(c.accounts.size() == 1);
      CHECK(c.accounts[0].min_balance == Decimal::from_micros(2'500'000));
      CHECK(c.accounts[0].min_balance_warning == Decimal::from_micros(10'000'000));
      CHECK(c.accounts[0].tuning.warn_percent_left == 20);
      CHECK_FALSE(c.accounts[0].tuning.critical_percent_left);
      CHECK(creditwatch::config::percent_reference(c.accounts[0]) == Decimal::from_micros(200'000'000));
    }
    SUBCASE("a percentage from defaults applies only where there is something to take it of") {
      auto path = dir.write("c.yaml", "defaults:\n"
                                      "  critical_percent_left: 5\n" +
                                          k_one_account);
      const auto c = load_config(path);
      CHECK(c.accounts[0].tuning.critical_percent_left == 5);
      CHECK_FALSE(creditwatch::config::percent_reference(c.accounts[0]));
    }
    SUBCASE("errors name their place") {
      auto path = dir.write("c.yaml", k_one_account +                                   // 1..3
                                          "    min_balance: {warning: 1, critical: 2}\n"  // 4
                                          "    warn_percent_left: 120\n"                  // 5
                                          "    percent_of: 100\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{
                path + ":4:28: min_balance.warning (1.00) must not be below min_balance.critical (2.00)",
                path + ":5:24: warn_percent_left must be a percentage between 0 and 100 (exclusive), got 120"});
      auto bare = dir.write("d.yaml", k_one_account +               // 1..3
                                          "    warn_percent_left: 20\n");  // 4
      CHECK(load_errors(bare) ==
            std::vector<std::string>{
                bare + ":4:24: a percentage threshold needs percent_of (or the provider's budget or credit)"});
      auto empty = dir.write("e.yaml", k_one_account +          // 1..3
                                           "    min_balance: {}\n");  // 4
      CHECK(load_errors(empty) == std::vector<std::string>{empty + ":4:18: min_balance needs a warning or a critical level"});
    }
  }

  TEST_CASE("bad values point at the value") {
    TempDir dir;
    SUBCASE("a duration without a unit") {
      auto path = dir.write("c.yaml",
                            "defaults:\n"                // 1
                            "  interval: 5 minutes\n" +  // 2
                                k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{
                path + ":2:13: interval: invalid duration \"5 minutes\" (use e.g. 500ms, 30s, 5m, 2h, 7d)"});
    }
    SUBCASE("a duration in an account") {
      auto path = dir.write("c.yaml", k_one_account +            // 1..3
                                          "    timeout: 10\n");  // 4
      CHECK(
          load_errors(path) ==
          std::vector<std::string>{path + ":4:14: timeout: invalid duration \"10\" (use e.g. 500ms, 30s, 5m, 2h, 7d)"});
    }
    SUBCASE("a storage retention") {
      auto path = dir.write("c.yaml",
                            "storage:\n"                // 1
                            "  retention: forever\n" +  // 2
                                k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{
                path + ":2:14: retention: invalid duration \"forever\" (use e.g. 500ms, 30s, 5m, 2h, 7d)"});
    }
    SUBCASE("a number that is not one") {
      auto path = dir.write("c.yaml",
                            "defaults:\n"           // 1
                            "  warn_days: ten\n" +  // 2
                                k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":2:14: warn_days: expected a non-negative number, got \"ten\""});
    }
    SUBCASE("a negative number") {
      auto path = dir.write("c.yaml",
                            "defaults:\n"            // 1
                            "  target_days: -5\n" +  // 2
                                k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":2:16: target_days: expected a non-negative number, got \"-5\""});
    }
    SUBCASE("an amount that is not one") {
      auto path = dir.write("c.yaml", k_one_account +                  // 1..3
                                          "    min_balance: 2,50\n");  // 4
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":4:18: min_balance: expected an amount, got \"2,50\""});
    }
    SUBCASE("a boolean that is not one") {
      auto path = dir.write("c.yaml",
                            "alerting:\n"                 // 1
                            "  send_resolved: maybe\n" +  // 2
                                k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":2:18: send_resolved: expected true or false, got \"maybe\""});
    }
    SUBCASE("a choice outside the list, with a hint") {
      auto path = dir.write("c.yaml",
                            "logging:\n"         // 1
                            "  level: debg\n" +  // 2
                                k_one_account);
      CHECK(
          load_errors(path) ==
          std::vector<std::string>{
              path + ":2:10: level: \"debg\" is not one of trace, debug, info, warn, error (did you mean \"debug\"?)"});
    }
    SUBCASE("an interval too short to be sane") {
      auto path = dir.write("c.yaml",
                            "defaults:\n"           // 1
                            "  interval: 50ms\n" +  // 2
                                k_one_account);
      CHECK(load_errors(path) == std::vector<std::string>{path + ":2:13: interval must be at least 100ms"});
    }
    SUBCASE("a listen address without a port") {
      auto path = dir.write("c.yaml",
                            "http:\n"                  // 1
                            "  listen: localhost\n" +  // 2
                                k_one_account);
      CHECK(load_errors(path) == std::vector<std::string>{path + ":2:11: listen must be HOST:PORT or \"off\""});
    }
    SUBCASE("a section that is not a mapping") {
      auto path = dir.write("c.yaml", "storage: /var/lib/x.db\n" + k_one_account);
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":1:10: storage must be a mapping, not \"/var/lib/x.db\""});
    }
    SUBCASE("accounts that are not a list") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"      // 1
                            "  name: sim\n");  // 2
      CHECK(load_errors(path) == std::vector<std::string>{path + ":2:3: accounts must be a list"});
    }
    SUBCASE("an account without a provider") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"        // 1
                            "  - name: sim\n");  // 2
      CHECK(load_errors(path) == std::vector<std::string>{path + ":2:5: account needs a provider"});
    }
  }

  TEST_CASE("a YAML syntax error names its line and column") {
    TempDir dir;
    SUBCASE("a stray colon") {
      auto path = dir.write("c.yaml", "storage: path: x\n" + k_one_account);
      CHECK(load_errors(path) == std::vector<std::string>{path + ":1:14: YAML syntax error: illegal map value"});
    }
    SUBCASE("bad indentation") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                 // 1
                            "  - name: sim\n"             // 2
                            "   provider: simulated\n");  // 3
      CHECK(load_errors(path) == std::vector<std::string>{path + ":3:4: YAML syntax error: end of sequence not found"});
    }
    SUBCASE("a missing file") {
      auto path = dir.file("absent.yaml");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":1:1: cannot read the config file: no such file or directory"});
    }
    SUBCASE("a directory") {
      CHECK(load_errors(dir.path()) ==
            std::vector<std::string>{dir.path() + ":1:1: cannot read the config file: is a directory"});
    }
    SUBCASE("a FIFO, without waiting for a writer") {
      const auto fifo = dir.file("c.fifo");
      REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
      CHECK(load_errors(fifo) == std::vector<std::string>{fifo + ":1:1: cannot read the config file: not a regular file"});
    }
    SUBCASE("over 16 MiB") {
      auto path = dir.write("c.yaml", k_one_account + "# " + std::string(17 << 20, 'x') + "\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":1:1: cannot read the config file: larger than 16 MiB"});
    }
  }

  // A container's uid 10001 meeting a root-owned 0600 mount: the error must say it is about
  // permissions and who is asking. Root reads anything, so as root the load runs as nobody.
  TEST_CASE("a config file the daemon's user may not read says permission denied and names the uid") {
    TempDir dir;
    const auto path = dir.write("c.yaml", k_one_account);
    REQUIRE(::chmod(path.c_str(), ::geteuid() == 0 ? 0600 : 0000) == 0);
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const auto uid = std::to_string(::geteuid() == 0 ? k_nobody : ::geteuid());
    const auto errors = ::geteuid() == 0 ? load_errors_as_nobody(path) : load_errors(path);
    const std::string expected = path +
                                 ":1:1: cannot read the config file: permission denied (the daemon runs as uid " + uid +
                                 ", which needs read access to the file and search access to its directories)";
    CHECK(errors == std::vector<std::string>{expected});
  }

  TEST_CASE("${VAR} references resolve from the environment") {
    TempDir dir;
    ScopedEnv unset("CW_TEST_UNSET_VARIABLE", std::nullopt);
    ScopedEnv empty("CW_TEST_EMPTY_VARIABLE", std::string(""));
    ScopedEnv key("CW_TEST_API_KEY", std::string("sk-from-env-1234"));
    SUBCASE("an unset variable is an error at the value") {
      auto path = dir.write("c.yaml", k_one_account +                                   // 1..3
                                          "    api_key: ${CW_TEST_UNSET_VARIABLE}\n");  // 4
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":4:14: environment variable CW_TEST_UNSET_VARIABLE is not set "
                                            "(use ${CW_TEST_UNSET_VARIABLE:-default} for a default)"});
    }
    SUBCASE("an empty variable counts as unset") {
      auto path = dir.write("c.yaml", k_one_account + "    base_url: ${CW_TEST_EMPTY_VARIABLE}\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":4:15: environment variable CW_TEST_EMPTY_VARIABLE is not set "
                                            "(use ${CW_TEST_EMPTY_VARIABLE:-default} for a default)"});
    }
    SUBCASE("${VAR:-default} gives the default when unset") {
      auto path = dir.write("c.yaml", k_one_account + "    base_url: ${CW_TEST_UNSET_VARIABLE:-http://127.0.0.1:1}\n");
      CHECK(load_config(path).accounts.at(0).base_url == "http://127.0.0.1:1");
    }
    SUBCASE("${VAR:-default} prefers the variable when set") {
      auto path = dir.write("c.yaml", k_one_account + "    api_key: ${CW_TEST_API_KEY:-fallback}\n");
      CHECK(load_config(path).accounts.at(0).api_key.reveal() == "sk-from-env-1234");
    }
    SUBCASE("a set variable is substituted, also inside other text") {
      auto path = dir.write("c.yaml", k_one_account +
                                          "    api_key: ${CW_TEST_API_KEY}\n"
                                          "    labels: { key: \"pre-${CW_TEST_API_KEY}-post\" }\n");
      const auto c = load_config(path);
      CHECK(c.accounts.at(0).api_key.reveal() == "sk-from-env-1234");
      CHECK(c.accounts.at(0).labels.at("key") == "pre-sk-from-env-1234-post");
      const auto secrets = c.secrets();
      CHECK(std::find(secrets.begin(), secrets.end(), "sk-from-env-1234") != secrets.end());
    }
    SUBCASE("an unterminated reference") {
      auto path = dir.write("c.yaml", k_one_account + "    api_key: ${CW_TEST_API_KEY\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":4:14: unterminated ${ in \"${CW_TEST_API_KEY\""});
    }
  }

  TEST_CASE("secrets from files") {
    TempDir dir;
    SUBCASE("api_key_file is read and trimmed") {
      const auto key_path = dir.write("key", "  sk-file-key-5678 \n\n");
      auto path = dir.write("c.yaml", k_one_account + "    api_key_file: " + key_path + "\n");
      const auto c = load_config(path);
      CHECK(c.accounts.at(0).api_key.reveal() == "sk-file-key-5678");
      const auto secrets = c.secrets();
      CHECK(std::find(secrets.begin(), secrets.end(), "sk-file-key-5678") != secrets.end());
    }
    SUBCASE("a provider key read from a *_file is marked secret") {
      const auto token_path = dir.write("token", "tok-9999\n");
      auto path = dir.write("c.yaml", k_one_account + "    admin_key_file: " + token_path + "\n");
      const auto c = load_config(path);
      const auto& s = c.accounts.at(0).settings.at("admin_key");
      CHECK(s.value == "tok-9999");
      CHECK(s.is_secret);
      const auto secrets = c.secrets();
      CHECK(std::find(secrets.begin(), secrets.end(), "tok-9999") != secrets.end());
    }
    SUBCASE("api_key and api_key_file together") {
      const auto key_path = dir.write("key", "sk-file");
      auto path = dir.write("c.yaml", k_one_account +                 // 1..3
                                          "    api_key: sk-inline\n"  // 4
                                          "    api_key_file: " +
                                          key_path + "\n");  // 5
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":5:19: give either api_key or api_key_file, not both"});
    }
    SUBCASE("an unreadable secret file") {
      const auto missing = dir.file("no-such-key");
      auto path = dir.write("c.yaml", k_one_account + "    api_key_file: " + missing + "\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":4:19: cannot read secret file \"" + missing +
                                                          "\": No such file or directory"});
    }
    SUBCASE("a directory is not a secret file") {
      auto path = dir.write("c.yaml", k_one_account + "    api_key_file: " + dir.path() + "\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":4:19: secret file \"" + dir.path() +
                                                          "\" is not a regular file (it is a directory)"});
    }
    SUBCASE("a FIFO is not a secret file, and opening it does not wait for a writer") {
      const auto fifo = dir.file("key.fifo");
      REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
      auto path = dir.write("c.yaml", k_one_account + "    api_key_file: " + fifo + "\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":4:19: secret file \"" + fifo + "\" is not a regular file (it is a FIFO)"});
    }
    SUBCASE("an empty secret file") {
      const auto key_path = dir.write("key", " \n");
      auto path = dir.write("c.yaml", k_one_account + "    api_key_file: " + key_path + "\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":4:19: secret file \"" + key_path + "\" is empty"});
    }
  }

  TEST_CASE("account and notifier names") {
    TempDir dir;
    SUBCASE("duplicate account names") {
      auto path = dir.write("c.yaml", k_one_account +                    // 1..3
                                          "  - name: sim\n"              // 4
                                          "    provider: simulated\n");  // 5
      CHECK(load_errors(path) == std::vector<std::string>{path + ":4:11: duplicate account name \"sim\""});
    }
    SUBCASE("a name outside the allowed pattern") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                  // 1
                            "  - name: Prod Account\n"     // 2
                            "    provider: simulated\n");  // 3
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":2:11: account name \"Prod Account\" must match [a-z0-9][a-z0-9_.-]*"});
    }
    SUBCASE("a name starting with punctuation") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                  // 1
                            "  - name: -sim\n"             // 2
                            "    provider: simulated\n");  // 3
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":2:11: account name \"-sim\" must match [a-z0-9][a-z0-9_.-]*"});
    }
    SUBCASE("an account without a name") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                  // 1
                            "  - provider: simulated\n");  // 2
      CHECK(load_errors(path) == std::vector<std::string>{path + ":2:5: account needs a name"});
    }
    SUBCASE("duplicate notifier names") {
      auto path = dir.write("c.yaml", k_one_account +              // 1..3
                                          "notifiers:\n"           // 4
                                          "  - name: ops\n"        // 5
                                          "    type: console\n"    // 6
                                          "  - name: ops\n"        // 7
                                          "    type: console\n");  // 8
      CHECK(load_errors(path) == std::vector<std::string>{path + ":7:11: duplicate notifier name \"ops\""});
    }
  }

  TEST_CASE("the longest burn_window is the spend history the forecaster keeps") {
    using Ledger = creditwatch::forecast::SpendLedger;
    CHECK(creditwatch::config::k_max_burn_window ==
          std::chrono::milliseconds(static_cast<std::int64_t>(Ledger::k_max_buckets) * Ledger::k_bucket_ms));
    TempDir dir;
    auto at_most = dir.write("c.yaml", "defaults:\n  burn_window: 35d\n" + k_one_account);
    CHECK(load_errors(at_most).empty());
    auto longer = dir.write("d.yaml", "defaults:\n  burn_window: 841h\n" + k_one_account);
    CHECK(load_errors(longer) ==
          std::vector<std::string>{longer + ":2:16: burn_window must be at most 35d: the forecaster keeps that much "
                                            "spend history"});
  }

  TEST_CASE("critical_days must not exceed warn_days") {
    TempDir dir;
    SUBCASE("in defaults") {
      auto path = dir.write("c.yaml",
                            "defaults:\n"             // 1
                            "  warn_days: 5\n"        // 2
                            "  critical_days: 7\n" +  // 3
                                k_one_account);
      CHECK(load_errors(path) == std::vector<std::string>{path + ":3:18: critical_days must not exceed warn_days"});
    }
    SUBCASE("in defaults, with only warn_days lowered: reported once, at warn_days") {
      auto path = dir.write("c.yaml",
                            "defaults:\n"                      // 1
                            "  warn_days: 2\n" +               // 2
                                k_one_account +                // 3..5
                                "  - name: sim2\n"             // 6
                                "    provider: simulated\n");  // 7
      CHECK(load_errors(path) == std::vector<std::string>{path + ":2:14: critical_days must not exceed warn_days"});
    }
    SUBCASE("in an account that overrides one of them") {
      auto path = dir.write("c.yaml", k_one_account +                  // 1..3
                                          "    critical_days: 20\n");  // 4
      CHECK(load_errors(path) == std::vector<std::string>{path + ":4:20: critical_days must not exceed warn_days"});
    }
    SUBCASE("equal values are allowed") {
      auto path = dir.write("c.yaml", k_one_account + "    critical_days: 14\n");
      CHECK(load_errors(path).empty());
    }
  }

  TEST_CASE("notify must name configured notifiers") {
    TempDir dir;
    const std::string notifiers =
        "notifiers:\n"           // 6
        "  - name: slack-ops\n"  // 7
        "    type: console\n";   // 8
    SUBCASE("a close misspelling gets a hint") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                          // 1
                            "  - name: sim\n"                      // 2
                            "    provider: simulated\n"            // 3
                            "    notify: [slack-ops, slak-ops]\n"  // 4
                            "\n" +                                 // 5
                                notifiers);
      CHECK(load_errors(path) ==
            std::vector<std::string>{
                path + ":4:25: account \"sim\" notifies unknown notifier \"slak-ops\" (did you mean \"slack-ops\"?)"});
    }
    SUBCASE("an unrelated name gets no hint") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                 // 1
                            "  - name: sim\n"             // 2
                            "    provider: simulated\n"   // 3
                            "    notify:\n"               // 4
                            "      - pagerduty-main\n" +  // 5
                                notifiers);               // 6..8
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":5:9: account \"sim\" notifies unknown notifier \"pagerduty-main\""});
    }
    SUBCASE("a single name instead of a list") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                // 1
                            "  - name: sim\n"            // 2
                            "    provider: simulated\n"  // 3
                            "    notify: slak-ops\n"     // 4
                            "\n" +                       // 5
                                notifiers);              // 6..8
      CHECK(load_errors(path) ==
            std::vector<std::string>{
                path + ":4:13: account \"sim\" notifies unknown notifier \"slak-ops\" (did you mean \"slack-ops\"?)"});
    }
    SUBCASE("a known name is accepted, as a list or a single value") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"
                            "  - name: sim\n"
                            "    provider: simulated\n"
                            "    notify: slack-ops\n"
                            "  - name: sim2\n"
                            "    provider: simulated\n"
                            "    notify: [slack-ops]\n" +
                                notifiers);
      const auto c = load_config(path);
      CHECK(c.accounts.at(0).notify == std::vector<std::string>{"slack-ops"});
      CHECK(c.accounts.at(1).notify == std::vector<std::string>{"slack-ops"});
    }
  }

  TEST_CASE("a config without accounts") {
    TempDir dir;
    SUBCASE("an empty file") {
      auto path = dir.write("c.yaml", "");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":1:1: no accounts configured"});
    }
    SUBCASE("only comments") {
      auto path = dir.write("c.yaml", "# nothing yet\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":1:1: no accounts configured"});
    }
    SUBCASE("an empty list") {
      auto path = dir.write("c.yaml", "storage:\n  path: x.db\naccounts: []\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":1:1: no accounts configured"});
    }
    SUBCASE("not a mapping at all") {
      auto path = dir.write("c.yaml", "- just\n- a list\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":1:1: the config must be a YAML mapping"});
    }
  }

  TEST_CASE("several problems are reported at once, in file order") {
    TempDir dir;
    ScopedEnv unset("CW_TEST_UNSET_VARIABLE", std::nullopt);
    auto path = dir.write("c.yaml",
                          "storag:\n"                                 // 1
                          "  path: x.db\n"                            // 2
                          "defaults:\n"                               // 3
                          "  interval: soon\n"                        // 4
                          "  warn_days: many\n"                       // 5
                          "accounts:\n"                               // 6
                          "  - name: sim\n"                           // 7
                          "    provider: simulated\n"                 // 8
                          "    api_key: ${CW_TEST_UNSET_VARIABLE}\n"  // 9
                          "  - name: sim\n"                           // 10
                          "    provider: simulated\n");               // 11
    const std::vector<std::string> expected = {
        path + ":1:1: unknown key \"storag\" (did you mean \"storage\"?)",
        path + ":4:13: interval: invalid duration \"soon\" (use e.g. 500ms, 30s, 5m, 2h, 7d)",
        path + ":5:14: warn_days: expected a non-negative number, got \"many\"",
        path +
            ":9:14: environment variable CW_TEST_UNSET_VARIABLE is not set (use ${CW_TEST_UNSET_VARIABLE:-default} for "
            "a default)",
        path + ":10:11: duplicate account name \"sim\"",
    };
    CHECK(load_errors(path) == expected);
    SUBCASE("what() lists every problem, one a line") {
      try {
        load_config(path);
        FAIL("load_config accepted an invalid config");
      } catch (const ConfigErrors& e) {
        std::string joined;
        for (const auto& line : expected) joined += (joined.empty() ? "" : "\n") + line;
        CHECK(std::string(e.what()) == joined);
        CHECK(e.errors().size() == expected.size());
        CHECK(e.errors()[1].where.file == path);
        CHECK(e.errors()[1].where.line == 4);
        CHECK(e.errors()[1].where.column == 13);
      }
    }
  }

  TEST_CASE("provider-specific keys are validated by the provider") {
    TempDir dir;
    SUBCASE("a misspelt simulated key") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                // 1
                            "  - name: sim\n"            // 2
                            "    provider: simulated\n"  // 3
                            "    spend_per_dya: 5\n");   // 4
      CHECK(load_errors(path).empty());                  // the config layer does not know provider keys
      CHECK(validated_errors(path) ==
            std::vector<std::string>{
                path + ":4:5: unknown key \"spend_per_dya\" for provider simulated (did you mean \"spend_per_day\"?)"});
    }
    SUBCASE("a bad value for a simulated key") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                  // 1
                            "  - name: sim\n"              // 2
                            "    provider: simulated\n"    // 3
                            "    topup_every: weekly\n");  // 4
      CHECK(validated_errors(path) ==
            std::vector<std::string>{
                path + ":4:5: topup_every: invalid duration \"weekly\" (use e.g. 500ms, 30s, 5m, 2h, 7d)"});
    }
    SUBCASE("an unknown provider") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"              // 1
                            "  - name: ds\n"           // 2
                            "    provider: deepsek\n"  // 3
                            "    api_key: sk-x\n");    // 4
      CHECK(validated_errors(path) ==
            std::vector<std::string>{path + ":2:5: unknown provider \"deepsek\" (did you mean \"deepseek\"?)"});
    }
    SUBCASE("errors of several accounts are all reported") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"                    // 1
                            "  - name: a\n"                  // 2
                            "    provider: simulated\n"      // 3
                            "    noize: 0.1\n"               // 4
                            "  - name: b\n"                  // 5
                            "    provider: nosuchthing\n");  // 6
      CHECK(validated_errors(path) ==
            std::vector<std::string>{
                path + ":4:5: unknown key \"noize\" for provider simulated (did you mean \"noise\"?)",
                path + ":5:5: unknown provider \"nosuchthing\""});
    }
    SUBCASE("a valid config builds one provider per account") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"
                            "  - name: a\n"
                            "    provider: simulated\n"
                            "    spend_per_day: 5\n"
                            "  - name: b\n"
                            "    provider: simulated\n");
      creditwatch::testing::FakeClock clock;
      const auto loaded = creditwatch::app::load_validated_config(path, clock);
      CHECK(loaded.providers.size() == 2);
      CHECK(loaded.providers.count("a") == 1);
      CHECK(loaded.providers.count("b") == 1);
    }
  }

  TEST_CASE("storage.raw_retention keeps what the forecaster reads and no more than retention") {
    TempDir dir;
    CHECK(load_config(dir.write("a.yaml", k_one_account)).storage.raw_retention == std::chrono::hours(24 * 35));
    CHECK(load_config(dir.write("b.yaml", "storage:\n  raw_retention: 15d\n" + k_one_account)).storage.raw_retention ==
          std::chrono::hours(24 * 15));
    // The default burn_window is 7 d: two of them and a day is 15 d.
    const auto short_raw = dir.write("c.yaml", "storage:\n  raw_retention: 14d\n" + k_one_account);
    auto errors = load_errors(short_raw);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind(short_raw + ":2:18: raw_retention (", 0) == 0);
    CHECK(errors[0].find("two burn windows and a day") != std::string::npos);
    const auto longer = dir.write("d.yaml", "storage:\n  raw_retention: 40d\n  retention: 30d\n" + k_one_account);
    errors = load_errors(longer);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind(longer + ":3:14: retention (", 0) == 0);
    // Left at its default, a short retention stays valid (raw readings are capped by it).
    CHECK(load_errors(dir.write("e.yaml", "storage:\n  retention: 30d\n" + k_one_account)).empty());
  }
}
