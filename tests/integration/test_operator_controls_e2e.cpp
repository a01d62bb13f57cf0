// Issue 18's check, as a user runs it: four accounts in two teams start calm and then drain;
// routes send each team's alerts to its own webhook; critical alerts escalate to a pager
// after `after`; one account is silenced before the drain with `creditwatch silence add`, one
// alert is acknowledged with `creditwatch ack`, and the silence is ended with
// `creditwatch silence expire` — every command against the running daemon's API.
#include "daemon_fixture.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "creditwatch/common/text.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::vector<std::string> k_accounts{"ds-a1", "ds-a2", "ds-b1", "ds-b2"};
constexpr const char* k_key = "sk-e2e-controls-0001";

struct Delivery {
  std::string hook;
  json body;
};

// Webhook receivers /team-a, /team-b and /pager on one loopback server.
class Hooks {
public:
  Hooks() {
    for (const char* hook : {"team-a", "team-b", "pager"}) {
      m_server.post(std::string("/") + hook, [this, hook](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(m_mutex);
        m_deliveries.push_back({hook, json::parse(req.body, nullptr, false)});
        reply_json(res, 200, "{}");
      });
    }
    m_server.start();
  }
  std::string url(const std::string& hook) const { return m_server.url() + "/" + hook; }
  // Runway notifications `hook` received about `account` (any account when empty).
  std::vector<json> runway(const std::string& hook, const std::string& account = "",
                           const std::string& reason = "") const {
    std::lock_guard lock(m_mutex);
    std::vector<json> out;
    for (const auto& d : m_deliveries) {
      if (d.hook != hook || !d.body.is_object() || d.body.value("rule", "") != "runway") continue;
      if (!account.empty() && d.body.value("account", "") != account) continue;
      if (!reason.empty() && d.body.value("reason", "") != reason) continue;
      out.push_back(d.body);
    }
    return out;
  }
  // Every notification about `account`, to any hook.
  std::size_t about(const std::string& account) const {
    std::lock_guard lock(m_mutex);
    std::size_t n = 0;
    for (const auto& d : m_deliveries) n += d.body.is_object() && d.body.value("account", "") == account;
    return n;
  }
  std::string describe() const {
    std::lock_guard lock(m_mutex);
    std::ostringstream s;
    for (const auto& d : m_deliveries) {
      s << "  " << d.hook << ": "
        << (d.body.is_object() ? d.body.value("account", "?") + " " + d.body.value("rule", "?") + " " +
                                     d.body.value("status", "?") + " " + d.body.value("severity", "?") + " " +
                                     d.body.value("reason", "?")
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

std::string config_yaml(const TempDir& dir, const DeepSeekFake& provider, const Hooks& hooks) {
  std::ostringstream y;
  y << "storage:\n  path: " << dir.file("creditwatch.db") << "\n";
  y << "http:\n  listen: 127.0.0.1:0\n";
  y << "defaults:\n  interval: 1s\n  timeout: 5s\n  burn_window: 30s\n  warn_days: 14\n  critical_days: 3\n";
  y << "alerting:\n  repeat_interval: 24h\n  send_resolved: true\n  retry_initial: 200ms\n  retry_max: 1s\n";
  y << "logging:\n  level: debug\n";
  y << "accounts:\n";
  for (const auto& name : k_accounts) {
    y << "  - name: " << name << "\n    provider: deepseek\n    api_key: ${" << k_deepseek_key_env
      << "}\n    base_url: " << provider.url("/" + name) << "\n    labels: {team: " << name.substr(3, 1) << "}\n";
  }
  y << "notifiers:\n";
  for (const char* hook : {"team-a", "team-b", "pager"}) {
    y << "  - name: " << hook << "\n    type: webhook\n    url: " << hooks.url(hook) << "\n";
  }
  y << "routes:\n  - match: {team: a}\n    notify: [team-a]\n  - match: {team: b}\n    notify: [team-b]\n";
  // 10 s rather than the issue's 15 s: the same behaviour, a shorter test.
  y << "escalate: {after: 10s, notify: [pager], min_severity: critical}\n";
  return y.str();
}

int port_of(const Daemon& daemon) {
  static const std::regex serving(R"(serving HTTP on http://127\.0\.0\.1:(\d+)/)");
  int port = 0;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        std::smatch match;
                        const auto text = daemon.log();
                        if (!std::regex_search(text, match, serving)) return false;
                        port = std::stoi(match[1].str());
                        return true;
                      },
                      15s),
                  daemon.log());
  return port;
}

}  // namespace

TEST_SUITE("operator_controls_e2e") {
  TEST_CASE("silenced, acknowledged and routed alerts: the silence holds, the ack stops the escalation") {
    TempDir dir;
    std::vector<std::string> prefixes;
    for (const auto& name : k_accounts) prefixes.push_back("/" + name);
    DeepSeekFake provider(prefixes);
    for (const auto& prefix : prefixes) provider.set_mode(DeepSeekFake::Mode::topped_up, prefix);  // calm
    Hooks hooks;
    const auto config = dir.write("creditwatch.yaml", config_yaml(dir, provider, hooks));
    const std::map<std::string, std::string> env{{k_deepseek_key_env, k_key}};
    Daemon daemon(dir, env);
    daemon.start();
    INFO("log:\n" << daemon.log());
    // The config listens on port 0 (the kernel picks one), so the commands get --url.
    const std::string url = "http://127.0.0.1:" + std::to_string(port_of(daemon));
    const auto cli = [&](std::vector<std::string> args) {
      args.insert(args.end(), {"-c", config, "--url", url});
      return run_creditwatch(args, env);
    };

    // Before the drain: ds-a2 is silenced from the command line.
    const auto added = cli({"silence", "add", "account=ds-a2", "--duration", "1h", "--comment", "top-up ordered",
                            "--author", "ops"});
    REQUIRE_MESSAGE(added.exit_code == 0, added.err);
    const std::string silence_id = creditwatch::trim(added.out);
    CHECK(std::regex_match(silence_id, std::regex("[0-9a-f]{32}")));
    const auto listed = cli({"silence", "list", "--json"});
    REQUIRE(listed.exit_code == 0);
    const auto silences = json::parse(listed.out, nullptr, false);
    REQUIRE(silences.is_array());
    REQUIRE(silences.size() == 1);
    CHECK(silences[0].value("id", "") == silence_id);
    const json only_a2{{"account", "ds-a2"}};
    CHECK(silences[0]["matchers"] == only_a2);
    CHECK(silences[0].value("created_by", "") == "ops");

    for (const auto& prefix : prefixes) provider.set_mode(DeepSeekFake::Mode::falling, prefix);

    // ds-b1 pages team b; once it is critical (an ack lasts until the severity changes) it is
    // acknowledged at once, well before `after`.
    const auto critical_about = [&](const std::string& hook, const std::string& account) {
      for (const auto& n : hooks.runway(hook, account)) {
        if (n.value("severity", "") == "critical" && n.value("status", "") == "firing") return true;
      }
      return false;
    };
    REQUIRE_MESSAGE(eventually([&] { return critical_about("team-b", "ds-b1"); }, 30s), hooks.describe());
    const auto acked = cli({"ack", "ds-b1", "runway", "--by", "ana", "--comment", "paying now"});
    REQUIRE_MESSAGE(acked.exit_code == 0, acked.err << acked.out);
    CHECK(eventually([&] { return !hooks.runway("team-b", "ds-b1", "acknowledged").empty(); }, 10s));

    // The unacknowledged, unsilenced critical alerts escalate to the pager.
    REQUIRE_MESSAGE(eventually([&] { return hooks.runway("pager", "", "escalated").size() >= 2; }, 40s),
                    hooks.describe());
    std::this_thread::sleep_for(3s);  // anything else about to be escalated would be by now
    std::set<std::string> escalated;
    for (const auto& n : hooks.runway("pager", "", "escalated")) escalated.insert(n.value("account", ""));
    const std::set<std::string> unanswered{"ds-a1", "ds-b2"};  // not ds-a2 (silenced) nor ds-b1 (acknowledged)
    CHECK_MESSAGE(escalated == unanswered, hooks.describe());

    // Each team's alerts reached only its own webhook.
    for (const auto& [hook, team] : {std::pair{"team-a", "ds-a"}, std::pair{"team-b", "ds-b"}}) {
      const std::string prefix = team;
      for (const auto& n : hooks.runway(hook)) {
        const std::string account = n.value("account", "");
        CHECK_MESSAGE(account.rfind(prefix, 0) == 0, hooks.describe());
      }
    }
    CHECK(!hooks.runway("team-a", "ds-a1").empty());
    CHECK(!hooks.runway("team-b", "ds-b2").empty());

    // The silenced account fires (the API says so) but has told nobody.
    CHECK_MESSAGE(hooks.about("ds-a2") == 0, hooks.describe());
    httplib::Client api("127.0.0.1", std::stoi(url.substr(url.rfind(':') + 1)));
    const auto page = api.Get("/api/v1/accounts/ds-a2");
    REQUIRE(page);
    const auto account = json::parse(page->body, nullptr, false);
    bool silenced_firing = false;
    for (const auto& alert : account.value("alerts", json::array())) {
      if (alert.value("rule", "") == "runway") silenced_firing = alert.value("silenced", false);
    }
    CHECK_MESSAGE(silenced_firing, page->body);

    // Ending the silence: ds-a2 notifies its team once.
    const auto expired = cli({"silence", "expire", silence_id});
    REQUIRE_MESSAGE(expired.exit_code == 0, expired.err);
    REQUIRE_MESSAGE(eventually([&] { return !hooks.runway("team-a", "ds-a2").empty(); }, 15s), hooks.describe());
    std::this_thread::sleep_for(2s);
    CHECK(hooks.runway("team-a", "ds-a2", "started").size() == 1);
    CHECK(hooks.runway("team-b", "ds-a2").empty());

    // The CLI's refusals are clear and exit 1.
    const auto unknown = cli({"silence", "expire", "0123456789abcdef0123456789abcdef"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("no such silence") != std::string::npos);
    const auto calm = cli({"ack", "ds-a1", "spend_spike"});
    CHECK(calm.exit_code == 1);
    CHECK(calm.err.find("HTTP 409") != std::string::npos);
    CHECK(daemon.terminate() == 0);
  }
}
