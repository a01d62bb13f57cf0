#pragma once

#include "creditwatch/alerts/lifecycle.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/escalation.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/storage/store.hpp"

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

namespace creditwatch::scheduler {

// Applies the alert state machine to each assessment and persists the result: the new
// state and its notifications (one outbox row per routed notifier) go to SQLite in one
// transaction, before any sink is called. State is loaded from the database at start, so
// a restart neither repeats what was sent nor drops what was pending. Thread-safe.
class AlertEngine {
public:
  AlertEngine(storage::Store& store, const Clock& clock);

  // Severities of the rules currently firing for `account` (for hysteresis).
  std::map<alerts::Rule, alerts::Severity> firing(const std::string& account) const;
  bool is_firing(const std::string& account, alerts::Rule rule) const;

  // Returns how many notifications were queued.
  std::size_t apply(const config::AccountConfig& account, const Assessment& assessment, const Runtime& runtime);

  // Re-queues every firing alert for each notifier it routes to that asks for refreshes
  // (Notifier::refresh_interval) and has not had this alert for that long. Called from the
  // scheduler loop, independent of probe intervals. Returns how many were queued.
  std::size_t refresh(const Runtime& runtime);

  // Sends each firing, unacknowledged, unsilenced alert that is due for an `escalate:` step
  // to that step's notifiers (once per step and firing episode), on the injected clock, so
  // an alert escalates on time whether or not a probe arrives. Called from the scheduler
  // loop; looks at most once a second. Returns how many notifications were queued.
  std::size_t escalate(const Runtime& runtime);

  // Replicas: an account whose probing moved here takes its alert state from the store (its
  // previous owner wrote it there), and one that moved away is forgotten, so only the owner
  // evaluates, repeats and refreshes its alerts.
  void reload(const std::string& account);
  void forget(const std::string& account);

private:
  void load(const std::vector<storage::AlertRow>& rows);
  using Key = std::pair<std::string, alerts::Rule>;
  using RefreshKey = std::tuple<std::string, alerts::Rule, std::string>;  // account, rule, notifier
  std::vector<std::string> route(const config::AccountConfig& account, alerts::Rule rule, alerts::Severity severity,
                                 const Runtime& runtime) const;
  // Escalation (escalate()): one alert's due steps queued, its state persisted with them.
  std::size_t escalate_alert(const Key& key, const std::vector<const config::EscalationStep*>& steps,
                             const Runtime& runtime, TimePoint now);
  // The alert's escalation state once transition `t` is taken: a new episode starts afresh,
  // a higher severity starts its clock.
  EscalationState escalation_after(const Key& key, const alerts::Transition& t, TimePoint now) const;
  // Adds to `notifiers` those the alert was escalated to: its resolve (and refreshes) follow it.
  void follow_escalations(const Key& key, std::vector<std::string>& notifiers) const;
  // Predicates escalation and notifications respect.
  bool silenced_now(const Key& key, TimePoint now) const;
  bool acknowledged(const Key& key) const;
  std::optional<Duration> refresh_interval(const Runtime& runtime, const std::string& notifier) const;

  storage::Store& m_store;
  const Clock& m_clock;
  mutable std::mutex m_mutex;
  std::map<Key, alerts::AlertState> m_states;
  std::map<Key, alerts::Severity> m_peaks;  // highest severity of each alert's current episode
  // When each alert was last notified, on the monotonic clock, so repeat_interval counts
  // real time: a wall clock stepped forward a day must not remind of every firing alert at
  // once, nor one stepped back hold reminders back. Seeded from the store by wall-clock age.
  std::map<Key, SteadyPoint> m_notified;
  std::map<Key, std::string> m_refresh_payloads;  // firing alerts: the latest figures, as outbox JSON
  // When each refreshing notifier was last queued an alert, on the monotonic clock: a wall
  // clock stepped back must not hold refreshes back (Alertmanager would resolve the alert).
  std::map<RefreshKey, SteadyPoint> m_refreshed;
  // Firing alerts: where each stands with `escalate:` (persisted in its row's context), and
  // its latest notification, which an escalation re-sends with reason `escalated`.
  std::map<Key, EscalationState> m_escalations;
  std::map<Key, notify::Notification> m_latest;
  SteadyPoint m_next_escalation_check{};
};

}  // namespace creditwatch::scheduler
