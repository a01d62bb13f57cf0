// The acceptance check of issue 14 for the outbox's order, end to end: one real
// `creditwatch run` daemon, a DeepSeek-shaped account (daemon_fixture.hpp) that runs dry (402
// Insufficient Balance: `exhausted` fires) and is topped up a few seconds later, and a
// PagerDuty Events API v2 fake (shared/reference/sinks.md section 1.2) that throttles the
// first trigger with 429 and Retry-After: 20. The resolve is queued while the trigger waits;
// PagerDuty must receive the trigger, then the resolve, and end with the incident resolved.
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
#include <string_view>
#include <thread>
#include <vector>

using namespace creditwatch::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_key = "sk-SECRET-0rd3r5e2e";
constexpr std::string_view k_routing_key = "pdSECRETorder0123456789abcdefghi";
static_assert(k_routing_key.size() == 32, "PagerDuty integration keys have 32 characters");
const std::string k_exhausted_key = "creditwatch-ds-dry-exhausted";

// One event as PagerDuty saw it, with what it answered.
struct PagerDutyEvent {
  std::string action;
  std::string dedup_key;
  int answered = 0;
  std::chrono::steady_clock::time_point at;
};

// POST /v2/enqueue: the first trigger is throttled (429 with Retry-After), every other event
// is accepted (202 with the documented body). Tracks the incident per dedup key the way
// PagerDuty does: a trigger opens it, a resolve closes an open one and is dropped otherwise.
class ThrottlingPagerDuty {
public:
  explicit ThrottlingPagerDuty(int retry_after_seconds) : m_retry_after(retry_after_seconds) {
    m_server.post("/v2/enqueue", [this](const httplib::Request& req, httplib::Response& res) {
      const auto event = json::parse(req.body, nullptr, false);
      PagerDutyEvent e{event.is_object() ? event.value("event_action", "") : "",
                       event.is_object() ? event.value("dedup_key", "") : "", 0, std::chrono::steady_clock::now()};
      std::lock_guard lock(m_mutex);
      if (e.action == "trigger" && !m_throttled) {
        m_throttled = true;
        e.answered = 429;
        res.set_header("Retry-After", std::to_string(m_retry_after));
        reply_json(res, 429, R"({"status":"throttle event","message":"Requests for this service are arriving too quickly"})");
      } else {
        e.answered = 202;
        if (e.action == "trigger") m_open[e.dedup_key] = true;
        if (e.action == "resolve") m_open[e.dedup_key] = false;
        reply_json(res, 202, json{{"status", "success"}, {"message", "Event processed"}, {"dedup_key", e.dedup_key}}.dump());
      }
      m_events.push_back(e);
    });
    m_server.start();
  }

  std::string url() const { return m_server.url() + "/v2/enqueue"; }
  std::vector<PagerDutyEvent> events() const {
    std::lock_guard lock(m_mutex);
    return m_events;
  }
  // The accepted actions for `dedup_key`, in arrival order.
  std::vector<std::string> accepted(const std::string& dedup_key) const {
    std::vector<std::string> out;
    for (const auto& e : events()) {
      if (e.dedup_key == dedup_key && e.answered == 202) out.push_back(e.action);
    }
    return out;
  }
  bool open(const std::string& dedup_key) const {
    std::lock_guard lock(m_mutex);
    auto it = m_open.find(dedup_key);
    return it != m_open.end() && it->second;
  }

private:
  int m_retry_after;
  mutable std::mutex m_mutex;
  bool m_throttled = false;
  std::vector<PagerDutyEvent> m_events;
  std::map<std::string, bool> m_open;
  FakeHttpServer m_server;  // last: stops before the state its handler uses goes away
};

std::string describe(const std::vector<PagerDutyEvent>& events) {
  std::ostringstream s;
  for (const auto& e : events) s << "  " << e.action << " " << e.dedup_key << " -> " << e.answered << "\n";
  return s.str();
}

}  // namespace

TEST_SUITE("daemon_alert_order") {
  TEST_CASE("PagerDuty throttling the first trigger for 20 s while the account is topped up ends resolved") {
    TempDir dir;
    DeepSeekFake deepseek({"/dry"});
    deepseek.set_mode(DeepSeekFake::Mode::insufficient, "/dry");
    ThrottlingPagerDuty pagerduty(20);
    DaemonConfig config;
    config.accounts = {{"ds-dry", deepseek.url("/dry")}};
    config.notifiers = "  - name: pd-oncall\n    type: pagerduty\n    routing_key: ${CW_E2E_PD_ROUTING_KEY}\n    url: " +
                       pagerduty.url() + "\n    source: creditwatch@e2e-host\n    min_severity: critical\n";
    dir.write("creditwatch.yaml", daemon_config_yaml(dir, config));
    Daemon daemon(dir, {{k_deepseek_key_env, k_key}, {"CW_E2E_PD_ROUTING_KEY", std::string(k_routing_key)}});
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    INFO("pagerduty saw:\n" << describe(pagerduty.events()));
    INFO("outbox:\n" << describe(daemon.outbox()));

    // The account is dry: `exhausted` fires and its trigger meets the 429.
    REQUIRE(eventually([&] { return !pagerduty.events().empty(); }, 30s));
    const auto throttled = pagerduty.events().front();
    CHECK(throttled.action == "trigger");
    CHECK(throttled.dedup_key == k_exhausted_key);
    CHECK(throttled.answered == 429);

    // Topped up a few seconds later: the resolve is queued while the trigger waits.
    std::this_thread::sleep_for(3s);
    deepseek.set_mode(DeepSeekFake::Mode::topped_up, "/dry");
    REQUIRE(eventually(
        [&] {
          for (const auto& row : rows_for(daemon.outbox(), k_exhausted_key)) {
            if (status_of(json::parse(row.payload_json, nullptr, false)) == "resolved") return true;
          }
          return false;
        },
        15s));
    CHECK(pagerduty.events().size() == 1);  // nothing overtook the throttled trigger

    REQUIRE(eventually([&] { return pagerduty.accepted(k_exhausted_key).size() >= 2; }, 40s));
    REQUIRE(probes_continue(deepseek, 2, "/dry"));
    CHECK(pagerduty.accepted(k_exhausted_key) == std::vector<std::string>{"trigger", "resolve"});
    CHECK_FALSE(pagerduty.open(k_exhausted_key));
    const auto events = pagerduty.events();
    REQUIRE(events.size() == 3);
    CHECK(events[1].at - throttled.at >= 20s);  // Retry-After honoured
    CHECK(daemon.terminate() == 0);
    for (const auto& row : daemon.outbox()) CHECK(row.state == creditwatch::storage::OutboxState::delivered);
    const auto log = daemon.log();
    CHECK(log.find(k_key) == std::string::npos);
    CHECK(log.find(std::string(k_routing_key)) == std::string::npos);
  }
}
