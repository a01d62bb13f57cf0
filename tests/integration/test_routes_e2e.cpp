// Routing and escalation as a user meets them: `creditwatch routes` and `validate`'s warnings
// run as the real binary, and the real daemon routing two teams' alerts to their own webhooks
// while escalating critical ones to a pager only after `escalate.after`.
#include "daemon_fixture.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Lines 1-14: three simulated accounts (two teams and one without), three webhooks.
std::string cli_config(const std::string& extra) {
  return "http:\n  listen: \"off\"\n"                                              // 1-2
         "accounts:\n"                                                             // 3
         "  - {name: ds-a, provider: simulated, labels: {team: a}}\n"              // 4
         "  - {name: ds-b, provider: simulated, labels: {team: b}}\n"              // 5
         "  - {name: solo, provider: simulated, notify: [team-b]}\n"               // 6
         "notifiers:\n"                                                            // 7
         "  - {name: team-a, type: webhook, url: \"http://127.0.0.1:9/a\"}\n"      // 8
         "  - {name: team-b, type: webhook, url: \"http://127.0.0.1:9/b\"}\n"      // 9
         "  - {name: pager, type: webhook, url: \"http://127.0.0.1:9/p\", min_severity: critical}\n"  // 10
         "escalate: {after: 15s, notify: [pager], min_severity: critical}\n"       // 11
         "routes:\n"                                                               // 12
         "  - {match: {team: a}, notify: [team-a]}\n"                              // 13
         "  - {match: {team: b}, notify: [team-b]}\n" +                            // 14
         extra;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// One POST a webhook received, with when it arrived.
struct Delivery {
  std::string hook;
  json body;
  std::chrono::steady_clock::time_point at;
};

// Three webhook receivers on one loopback server: /team-a, /team-b and /pager.
class Webhooks {
public:
  Webhooks() {
    for (const char* hook : {"team-a", "team-b", "pager"}) {
      m_server.post(std::string("/") + hook, [this, hook](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(m_mutex);
        m_deliveries.push_back({hook, json::parse(req.body, nullptr, false), std::chrono::steady_clock::now()});
        reply_json(res, 200, "{}");
      });
    }
    m_server.start();
  }
  std::string url(const std::string& hook) const { return m_server.url() + "/" + hook; }
  // The runway alerts `hook` received, optionally only those with status/reason `value`.
  std::vector<Delivery> runway(const std::string& hook, const std::string& field = "", const std::string& value = "") const {
    std::lock_guard lock(m_mutex);
    std::vector<Delivery> out;
    for (const auto& d : m_deliveries) {
      if (d.hook != hook || !d.body.is_object() || d.body.value("rule", "") != "runway") continue;
      if (field.empty() || d.body.value(field, "") == value) out.push_back(d);
    }
    return out;
  }
  std::string describe() const {
    std::lock_guard lock(m_mutex);
    std::ostringstream s;
    for (const auto& d : m_deliveries) {
      s << "  " << d.hook << ": " << (d.body.is_object() ? d.body.value("account", "?") + " " + d.body.value("rule", "?") +
                                                               " " + d.body.value("status", "?") + " " +
                                                               d.body.value("severity", "?") + " " + d.body.value("reason", "?")
                                                         : "(not JSON)")
        << "\n";
    }
    return s.str();
  }

private:
  mutable std::mutex m_mutex;
  std::vector<Delivery> m_deliveries;
  FakeHttpServer m_server;  // last: stops before the state its handlers use goes away
};

std::string daemon_yaml(const TempDir& dir, const DeepSeekFake& provider, const Webhooks& hooks) {
  std::ostringstream y;
  y << "storage:\n  path: " << dir.file("creditwatch.db") << "\n";
  y << "http:\n  listen: \"off\"\n";
  y << "defaults:\n  interval: 1s\n  timeout: 5s\n  burn_window: 30s\n  warn_days: 14\n  critical_days: 3\n";
  y << "alerting:\n  repeat_interval: 24h\n  send_resolved: true\n  retry_initial: 200ms\n  retry_max: 1s\n";
  y << "logging:\n  level: debug\n";
  y << "accounts:\n";
  for (const char* team : {"a", "b"}) {
    y << "  - name: ds-" << team << "\n    provider: deepseek\n    api_key: ${" << k_deepseek_key_env
      << "}\n    base_url: " << provider.url(std::string("/") + team) << "\n    labels: {team: " << team << "}\n";
  }
  y << "notifiers:\n";
  for (const char* hook : {"team-a", "team-b", "pager"}) {
    y << "  - name: " << hook << "\n    type: webhook\n    url: " << hooks.url(hook) << "\n";
  }
  y << "routes:\n  - match: {team: a}\n    notify: [team-a]\n  - match: {team: b}\n    notify: [team-b]\n";
  y << "escalate: {after: 6s, notify: [pager], min_severity: critical}\n";
  return y.str();
}

}  // namespace

TEST_SUITE("routes_cli") {
  TEST_CASE("routes prints each notifier with the route that sends it there") {
    TempDir dir;
    const auto config = dir.write("c.yaml", cli_config(""));
    SUBCASE("a team's critical alert: its webhook now, the pager by escalation") {
      auto r = run_creditwatch({"routes", "-c", config, "--account", "ds-a", "--rule", "runway", "--severity", "critical"});
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 0);
      CHECK(lines_of(r.out) ==
            std::vector<std::string>{"team-a  route 1 {team=a}",
                                     "pager   escalation step 1 (after 15s unacknowledged at critical or above)"});
    }
    SUBCASE("a warning is not escalated: the pager takes only critical") {
      auto r = run_creditwatch({"routes", "-c", config, "--account", "ds-b", "--rule", "min_balance", "--severity", "warning"});
      CHECK(r.exit_code == 0);
      CHECK(lines_of(r.out) == std::vector<std::string>{"team-b  route 2 {team=b}"});
    }
    SUBCASE("an account's own notify list wins") {
      auto r = run_creditwatch({"routes", "-c", config, "--account", "solo", "--rule", "stale", "--severity", "info"});
      CHECK(r.exit_code == 0);
      CHECK(lines_of(r.out) == std::vector<std::string>{"team-b  account notify"});
    }
    SUBCASE("unknown names are exit 1 with a hint") {
      auto account = run_creditwatch({"routes", "-c", config, "--account", "ds-c", "--rule", "runway", "--severity", "info"});
      CHECK(account.exit_code == 1);
      CHECK(account.err.find("no account \"ds-c\" (did you mean \"ds-a\"?)") != std::string::npos);
      auto rule = run_creditwatch({"routes", "-c", config, "--account", "ds-a", "--rule", "runwya", "--severity", "info"});
      CHECK(rule.exit_code == 1);
      CHECK(rule.err.find("no rule \"runwya\" (did you mean \"runway\"?)") != std::string::npos);
      auto severity = run_creditwatch({"routes", "-c", config, "--account", "ds-a", "--rule", "runway", "--severity", "high"});
      CHECK(severity.exit_code == 1);
      CHECK(severity.err.find("no severity \"high\"") != std::string::npos);
    }
  }

  TEST_CASE("routes falls back to the default, which leaves out the escalation's pager") {
    TempDir dir;
    const auto config = dir.write("c.yaml", cli_config("") + "  - {match: {team: a, rule: stale}, notify: [pager]}\n");
    auto r = run_creditwatch({"routes", "-c", config, "--account", "ds-a", "--rule", "runway", "--severity", "warning"});
    CHECK(r.exit_code == 0);
    CHECK(lines_of(r.out) == std::vector<std::string>{"team-a  route 1 {team=a}"});
    const auto unrouted = dir.write("u.yaml", "accounts:\n  - {name: x, provider: simulated, labels: {team: z}}\n"
                                              "notifiers:\n  - {name: chat, type: console}\n"
                                              "  - {name: pager, type: console}\n"
                                              "escalate: {after: 1h, notify: [pager]}\n"
                                              "routes:\n  - {match: {team: a}, notify: [pager]}\n");
    auto d = run_creditwatch({"routes", "-c", unrouted, "--account", "x", "--rule", "runway", "--severity", "warning"});
    CHECK(d.exit_code == 0);
    CHECK(lines_of(d.out) == std::vector<std::string>{"chat   default", "pager  escalation step 1 (after 1h unacknowledged at warning or above)"});
  }

  TEST_CASE("validate prints warnings at their place and still exits 0") {
    TempDir dir;
    const auto config = dir.write("c.yaml", cli_config("  - {match: {rule: runwya}, notify: [team-a]}\n"  // 15
                                                       "  - {match: {}, notify: [team-a]}\n"              // 16
                                                       "  - {match: {team: c}, notify: [team-b]}\n"));    // 17
    auto r = run_creditwatch({"validate", "-c", config});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(lines_of(r.err) ==
          std::vector<std::string>{
              config + ":15:14: warning: route 3 can never match: no rule is called \"runwya\"",
              config + ":17:5: warning: route 5 can never match: route 4 before it matches every alert and has no "
                       "`continue: true`"});
    CHECK(r.out.find(": OK (3 accounts, 3 notifiers)") != std::string::npos);
  }

  TEST_CASE("validate rejects an unknown notifier in a route") {
    TempDir dir;
    const auto config = dir.write("c.yaml", cli_config("  - {match: {team: c}, notify: [pagr]}\n"));
    auto r = run_creditwatch({"validate", "-c", config});
    CHECK(r.exit_code == 1);
    CHECK(lines_of(r.err) ==
          std::vector<std::string>{config + ":15:33: route 3 notifies unknown notifier \"pagr\" (did you mean \"pager\"?)"});
  }
}

TEST_SUITE("daemon_routes_e2e") {
  TEST_CASE("each team's alerts reach only its webhook and a critical one reaches the pager only after escalate.after") {
    TempDir dir;
    DeepSeekFake provider({"/a", "/b"});
    Webhooks hooks;
    dir.write("creditwatch.yaml", daemon_yaml(dir, provider, hooks));
    Daemon daemon(dir, {{k_deepseek_key_env, "sk-e2e-routes-0001"}});
    daemon.start();
    INFO("log:\n" << daemon.log());

    // Both balances fall fast: a runway of minutes, critical at once.
    REQUIRE_MESSAGE(eventually([&] { return !hooks.runway("team-a", "status", "firing").empty() &&
                                            !hooks.runway("team-b", "status", "firing").empty(); },
                               30s),
                    hooks.describe());
    const auto first_critical = std::min(hooks.runway("team-a", "status", "firing").front().at,
                                         hooks.runway("team-b", "status", "firing").front().at);
    CHECK_MESSAGE(hooks.runway("pager").empty(), "paged before escalate.after:\n" << hooks.describe());

    REQUIRE_MESSAGE(eventually([&] { return hooks.runway("pager", "reason", "escalated").size() >= 2; }, 30s),
                    hooks.describe());
    const auto escalated = hooks.runway("pager", "reason", "escalated");
    // Delivery takes milliseconds; `after` is 6 s from when the alert went critical.
    CHECK(escalated.front().at - first_critical >= 5s);
    std::map<std::string, int> per_account;
    for (const auto& d : escalated) {
      ++per_account[d.body.value("account", "")];
      CHECK(d.body.value("severity", "") == "critical");
      CHECK(d.body.value("status", "") == "firing");
    }
    CHECK(per_account == std::map<std::string, int>{{"ds-a", 1}, {"ds-b", 1}});
    for (const auto& [hook, account] : {std::pair{"team-a", "ds-a"}, std::pair{"team-b", "ds-b"}}) {
      for (const auto& d : hooks.runway(hook)) {
        CHECK_MESSAGE(d.body.value("account", "") == account, hook << " got another team's alert:\n" << hooks.describe());
      }
    }

    // Team a tops up: its resolve goes to its webhook and follows the escalation to the pager.
    provider.set_mode(DeepSeekFake::Mode::topped_up, "/a");
    REQUIRE_MESSAGE(eventually([&] { return !hooks.runway("pager", "status", "resolved").empty(); }, 30s),
                    hooks.describe());
    CHECK(hooks.runway("pager", "status", "resolved").front().body.value("account", "") == "ds-a");
    CHECK(eventually([&] { return !hooks.runway("team-a", "status", "resolved").empty(); }, 10s));
    CHECK(hooks.runway("team-b", "status", "resolved").empty());
    CHECK_MESSAGE(hooks.runway("pager", "reason", "escalated").size() == 2, "escalated once per alert:\n"
                                                                                << hooks.describe());
    CHECK(daemon.terminate() == 0);
  }
}
