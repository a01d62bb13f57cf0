#include "creditwatch/app/config_changes.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using creditwatch::Secret;
using creditwatch::app::config_changes;
using creditwatch::config::Config;
using namespace std::chrono_literals;

namespace {

Config base() {
  Config c;
  c.source_file = "/etc/creditwatch/creditwatch.yaml";
  c.storage.path = "/var/lib/creditwatch/creditwatch.db";
  c.http.listen = "127.0.0.1:9477";
  c.http.auth_token = "t0ken";
  creditwatch::config::AccountConfig account;
  account.name = "ds";
  account.provider = "deepseek";
  account.api_key = Secret("sk-1");
  c.accounts.push_back(account);
  return c;
}

// "what:live" or "what:restart" for each change.
std::vector<std::string> describe(const Config& a, const Config& b) {
  std::vector<std::string> out;
  for (const auto& change : config_changes(a, b)) out.push_back(change.what + (change.live ? ":live" : ":restart"));
  return out;
}

}  // namespace

TEST_SUITE("app_config_changes") {
  TEST_CASE("no change, no report") { CHECK(describe(base(), base()).empty()); }

  TEST_CASE("each section is named, with whether a reload applies it") {
    auto next = base();
    next.http.auth_token = "n3w";
    CHECK(describe(base(), next) == std::vector<std::string>{"http.auth_token:live"});
    next = base();
    next.http.listen = "127.0.0.1:9478";
    CHECK(describe(base(), next) == std::vector<std::string>{"http.listen:live"});
    next = base();
    next.storage.path = "/elsewhere.db";
    next.storage.retention = 24h;
    next.storage.max_size = 1 << 20;
    CHECK(describe(base(), next) ==
          std::vector<std::string>{"storage.path:restart", "storage.max_size:live", "storage.retention:live"});
    next = base();
    next.defaults.warn_days = 5;
    next.alerting.repeat_interval = 1h;
    next.logging.level = "debug";
    next.notifiers.push_back({});
    CHECK(describe(base(), next) ==
          std::vector<std::string>{"defaults:live", "alerting:live", "logging:live", "notifiers:live"});
  }

  TEST_CASE("heartbeats are applied by a reload, ha needs a restart") {
    auto next = base();
    creditwatch::config::HeartbeatConfig heartbeat;
    heartbeat.name = "hc";
    heartbeat.url = Secret("https://hc-ping.com/uuid");
    next.heartbeats.push_back(heartbeat);
    CHECK(describe(base(), next) == std::vector<std::string>{"heartbeats:live"});
    next = base();
    next.ha.lease = 30s;
    CHECK(describe(base(), next) ==
          std::vector<std::string>{"configuration (a section this version does not apply live):restart"});
  }

  TEST_CASE("a changed account credential or setting counts as a change of accounts") {
    auto next = base();
    next.accounts[0].api_key = Secret("sk-2");
    CHECK(describe(base(), next) == std::vector<std::string>{"accounts:live"});
    next = base();
    next.accounts[0].settings["region"] = {"eu", {}, {}, false, {}};
    CHECK(describe(base(), next) == std::vector<std::string>{"accounts:live"});
  }
}

TEST_SUITE("app_config_changes.notifiers") {
  // A reload keeps the delivery threads of these notifiers, so only a real change may count.
  TEST_CASE("a notifier is unchanged when only where it is written moved") {
    auto with_hook = [](int line, const std::string& url) {
      Config c = base();
      creditwatch::config::NotifierConfig hook;
      hook.name = "hook";
      hook.type = "webhook";
      hook.where = {"/etc/creditwatch/creditwatch.yaml", line, 5};
      hook.settings["url"] = creditwatch::config::Setting{url, {}, {}, false, {"/etc/creditwatch/creditwatch.yaml", line + 2, 10}};
      c.notifiers.push_back(hook);
      return c;
    };
    const Config running = with_hook(20, "https://hooks.example.com/a");
    CHECK(creditwatch::app::unchanged_notifiers(running, with_hook(31, "https://hooks.example.com/a")) ==
          std::set<std::string>{"hook"});
    CHECK(creditwatch::app::unchanged_notifiers(running, with_hook(20, "https://hooks.example.com/b")).empty());
    Config stricter = with_hook(20, "https://hooks.example.com/a");
    stricter.notifiers.front().min_severity = "critical";
    CHECK(creditwatch::app::unchanged_notifiers(running, stricter).empty());
    CHECK(creditwatch::app::unchanged_notifiers(base(), running).empty());  // added: nothing to keep
  }
}
