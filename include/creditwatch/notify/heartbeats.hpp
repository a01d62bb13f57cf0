#pragma once

// The dead man's switch: while /healthz is ok, each `heartbeats:` URL is pinged every
// interval (and each Alertmanager watchdog alert posted), so an outside service (healthchecks.io,
// Dead Man's Snitch, Alertmanager's watchdog receivers) pages when creditwatch goes quiet.
// While unhealthy a heartbeat pings its fail_url, or nothing: the silence is the signal.
#include "creditwatch/common/clock.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/http/http_client.hpp"
#include "creditwatch/notify/notifier.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace creditwatch::notify {

// What one ping did.
struct PingOutcome {
  bool sent = false;     // false: nothing to send for this verdict (unhealthy, no fail_url)
  bool ok = false;
  std::string problem;   // when sent and not ok: "HTTP 404", "timeout"; never the URL
};

// One thing to ping: a `heartbeats:` entry, or a notifier's watchdog alert.
struct HeartbeatTarget {
  std::string name;      // in logs and the metric's heartbeat="..." label: "hc", "watchdog:am"
  std::string where;     // in logs instead of the URL, which is a secret: its host, or "notifier am"
  Duration interval{0};
  std::function<PingOutcome(http::Client&, bool healthy)> ping;
};

// The targets `config` asks for: its heartbeats, "{replica}" in their URLs replaced by
// `replica_id`, then a "watchdog:NAME" target for each notifier with a watchdog.
std::vector<HeartbeatTarget> heartbeat_targets(const config::Config& config,
                                               const std::map<std::string, std::shared_ptr<Notifier>>& notifiers,
                                               const std::string& replica_id);

// Per target, for /metrics.
struct HeartbeatStatus {
  std::string name;
  std::uint64_t failures = 0;             // pings sent that failed, since the process started
  std::optional<TimePoint> last_success;  // wall clock
};

// Pings its targets on their intervals from one thread of its own. When the health verdict
// changes, the targets are pinged at once (no sooner than k_min_heartbeat_interval after
// their last ping), so a fail_url hears of trouble without waiting out the interval.
// Thread-safe.
class HeartbeatPinger {
public:
  // `healthy` is the verdict /healthz gives; it is called from the pinger's thread and
  // must answer at once.
  HeartbeatPinger(const Clock& clock, std::function<bool()> healthy);
  ~HeartbeatPinger();
  HeartbeatPinger(const HeartbeatPinger&) = delete;
  HeartbeatPinger& operator=(const HeartbeatPinger&) = delete;

  // Replaces the targets (at start and on reload). A target whose name was known before
  // keeps its counters; every target is due at once.
  void set_targets(std::vector<HeartbeatTarget> targets);

  // Sends every ping that is due, on the calling thread, and returns when the next one is
  // due (monotonic). The thread start() runs calls this; tests call it with a FakeClock.
  SteadyPoint tick(http::Client& client);

  void start();
  // Aborts a ping in flight and joins the thread.
  void stop();

  std::vector<HeartbeatStatus> statuses() const;

private:
  struct State;
  bool due(const HeartbeatTarget& target, SteadyPoint now, bool healthy);
  void record(const HeartbeatTarget& target, bool healthy, const PingOutcome& outcome, SteadyPoint now);
  void run();

  const Clock& m_clock;
  std::function<bool()> m_healthy;
  mutable std::mutex m_mutex;
  std::shared_ptr<const std::vector<HeartbeatTarget>> m_targets;
  std::map<std::string, std::shared_ptr<State>> m_states;  // by target name
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::atomic<bool> m_cancel{false};
  std::thread m_thread;
};

}  // namespace creditwatch::notify
