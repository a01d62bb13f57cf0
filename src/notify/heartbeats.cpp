#include "creditwatch/notify/heartbeats.hpp"

#include "sink_support.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/http/curl_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace creditwatch::notify {
namespace {

// A failing heartbeat is logged at most this often, with how many failures went unlogged.
constexpr Duration k_log_failures_every = std::chrono::minutes(10);
// The thread looks at the health verdict at least this often, to ping at once when it changes.
constexpr Duration k_max_sleep = std::chrono::seconds(1);
constexpr Duration k_connect_timeout = std::chrono::seconds(5);
constexpr Duration k_ping_timeout = std::chrono::seconds(10);
// Ping services answer "OK"; more is read only to be thrown away.
constexpr std::size_t k_max_answer_bytes = 4096;

// "https://user@hc-ping.com:443/uuid?x" -> "hc-ping.com:443": what logs may show of a URL.
std::string host_of(const std::string& url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto end = std::min(url.find_first_of("/?#", start), url.size());
  const auto authority = url.substr(start, end - start);
  const auto at = authority.rfind('@');
  return at == std::string::npos ? authority : authority.substr(at + 1);
}

// One GET. The answer's body is not looked at: services answer 200 "OK" or an error status.
PingOutcome get(http::Client& client, const std::string& url) {
  http::Request request;
  request.url = url;
  request.connect_timeout = k_connect_timeout;
  request.total_timeout = k_ping_timeout;
  request.max_body_bytes = k_max_answer_bytes;
  request.truncate_body = true;
  const auto outcome = client.send(request);
  if (!outcome) {
    // curl's explanation names the host at most, but the URL is a secret: make sure.
    const auto& failure = outcome.error();
    return {true, false, std::string(http::to_string(failure.kind)) + ": " + answer_text(redact(failure.message, url_secrets(url)))};
  }
  if (outcome->status >= 200 && outcome->status < 300) return {true, true, ""};
  return {true, false, "HTTP " + std::to_string(outcome->status)};
}

HeartbeatTarget url_target(const config::HeartbeatConfig& heartbeat, const std::string& replica_id) {
  const std::string url = config::with_replica(heartbeat.url.reveal(), replica_id);
  const std::string fail_url =
      heartbeat.fail_url.empty() ? "" : config::with_replica(heartbeat.fail_url.reveal(), replica_id);
  return {heartbeat.name, host_of(url), heartbeat.interval, [url, fail_url](http::Client& client, bool healthy) {
            if (healthy) return get(client, url);
            if (fail_url.empty()) return PingOutcome{};
            return get(client, fail_url);
          }};
}

HeartbeatTarget watchdog_target(const std::string& name, const std::shared_ptr<Notifier>& notifier, Duration every) {
  return {"watchdog:" + name, "notifier " + name, every, [notifier](http::Client& client, bool healthy) {
            if (!healthy) return PingOutcome{};  // the watchdog alert expires: the silence is the signal
            const auto result = notifier->post_watchdog(client);
            const bool ok = result.outcome == DeliveryResult::Outcome::delivered;
            return PingOutcome{true, ok, ok ? "" : result.message};
          }};
}

}  // namespace

struct HeartbeatPinger::State {
  SteadyPoint next_due;
  std::optional<SteadyPoint> last_sent;
  std::optional<bool> last_verdict;  // the health verdict when it was last due
  std::uint64_t failures = 0;
  std::uint64_t failing_in_a_row = 0;
  std::optional<TimePoint> last_success;
  std::optional<SteadyPoint> last_logged;
  std::uint64_t unlogged = 0;  // failures since the last one logged
};

std::vector<HeartbeatTarget> heartbeat_targets(const config::Config& config,
                                               const std::map<std::string, std::shared_ptr<Notifier>>& notifiers,
                                               const std::string& replica_id) {
  std::vector<HeartbeatTarget> out;
  for (const auto& heartbeat : config.heartbeats) out.push_back(url_target(heartbeat, replica_id));
  for (const auto& [name, notifier] : notifiers) {
    if (!notifier) continue;
    if (auto every = notifier->watchdog_interval()) out.push_back(watchdog_target(name, notifier, *every));
  }
  return out;
}

HeartbeatPinger::HeartbeatPinger(const Clock& clock, std::function<bool()> healthy)
    : m_clock(clock), m_healthy(std::move(healthy)), m_targets(std::make_shared<std::vector<HeartbeatTarget>>()) {}

HeartbeatPinger::~HeartbeatPinger() { stop(); }

void HeartbeatPinger::set_targets(std::vector<HeartbeatTarget> targets) {
  const SteadyPoint now = m_clock.monotonic();
  std::lock_guard lock(m_mutex);
  std::map<std::string, std::shared_ptr<State>> states;
  for (const auto& target : targets) {
    auto known = m_states.find(target.name);
    auto state = known != m_states.end() ? known->second : std::make_shared<State>();
    state->next_due = now;
    states[target.name] = state;
  }
  m_states = std::move(states);
  m_targets = std::make_shared<const std::vector<HeartbeatTarget>>(std::move(targets));
  m_wake.notify_all();
}

bool HeartbeatPinger::due(const HeartbeatTarget& target, SteadyPoint now, bool healthy) {
  std::lock_guard lock(m_mutex);
  auto it = m_states.find(target.name);
  if (it == m_states.end()) return false;  // replaced by a reload meanwhile
  const State& s = *it->second;
  const bool verdict_changed = s.last_verdict && *s.last_verdict != healthy;
  if (verdict_changed && (!s.last_sent || now - *s.last_sent >= config::k_min_heartbeat_interval)) return true;
  return now >= s.next_due;
}

void HeartbeatPinger::record(const HeartbeatTarget& target, bool healthy, const PingOutcome& outcome, SteadyPoint now) {
  std::lock_guard lock(m_mutex);
  auto it = m_states.find(target.name);
  if (it == m_states.end()) return;
  State& s = *it->second;
  s.next_due = now + target.interval;
  s.last_verdict = healthy;
  if (!outcome.sent) return;
  s.last_sent = now;
  if (outcome.ok) {
    s.last_success = m_clock.now();
    if (s.failing_in_a_row > 0) {
      spdlog::info("heartbeat {} ({}): pinged again after {} failed ping(s)", target.name, target.where,
                   s.failing_in_a_row);
    }
    s.failing_in_a_row = 0;
    spdlog::debug("heartbeat {} ({}): pinged{}", target.name, target.where, healthy ? "" : " (unhealthy)");
    return;
  }
  ++s.failures;
  ++s.failing_in_a_row;
  if (s.last_logged && now - *s.last_logged < k_log_failures_every) {
    ++s.unlogged;
    return;
  }
  const std::string skipped = s.unlogged ? " (" + std::to_string(s.unlogged) + " more failure(s) not logged)" : "";
  spdlog::warn("heartbeat {} ({}): ping failed: {}{}", target.name, target.where, outcome.problem, skipped);
  s.last_logged = now;
  s.unlogged = 0;
}

SteadyPoint HeartbeatPinger::tick(http::Client& client) {
  std::shared_ptr<const std::vector<HeartbeatTarget>> targets;
  {
    std::lock_guard lock(m_mutex);
    targets = m_targets;
  }
  const bool healthy = m_healthy();
  for (const auto& target : *targets) {
    const SteadyPoint now = m_clock.monotonic();
    if (!due(target, now, healthy)) continue;
    PingOutcome outcome;
    try {
      outcome = target.ping(client, healthy);
    } catch (const std::exception& e) {
      outcome = {true, false, std::string("internal error: ") + e.what()};
    }
    if (m_cancel) break;  // cut short by stop(): no failure of the service's
    record(target, healthy, outcome, now);
  }
  std::lock_guard lock(m_mutex);
  if (m_states.empty()) return m_clock.monotonic() + k_max_sleep;
  SteadyPoint next = SteadyPoint::max();
  for (const auto& [name, state] : m_states) next = std::min(next, state->next_due);
  return next;
}

void HeartbeatPinger::start() {
  std::lock_guard lock(m_mutex);
  if (m_thread.joinable()) return;
  m_stopping = false;
  m_cancel = false;
  m_thread = std::thread([this] { run(); });
}

void HeartbeatPinger::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_cancel = true;
    m_wake.notify_all();
  }
  if (m_thread.joinable()) m_thread.join();
}

void HeartbeatPinger::run() {
  try {
    http::CurlClient client;
    client.set_cancel_flag(&m_cancel);
    while (true) {
      SteadyPoint next = m_clock.monotonic() + k_max_sleep;
      try {
        next = tick(client);
      } catch (const std::exception& e) {
        spdlog::error("heartbeats: {}", e.what());
      }
      std::unique_lock lock(m_mutex);
      const auto sleep = std::clamp<Duration>(std::chrono::ceil<Duration>(next - m_clock.monotonic()), Duration(0), k_max_sleep);
      m_wake.wait_for(lock, sleep, [this] { return m_stopping; });
      if (m_stopping) return;
    }
  } catch (const std::exception& e) {
    spdlog::error("heartbeats stopped: {}", e.what());
  }
}

std::vector<HeartbeatStatus> HeartbeatPinger::statuses() const {
  std::lock_guard lock(m_mutex);
  std::vector<HeartbeatStatus> out;
  for (const auto& [name, state] : m_states) out.push_back({name, state->failures, state->last_success});
  return out;
}

}  // namespace creditwatch::notify
