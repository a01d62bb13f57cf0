#pragma once

#include "creditwatch/alerts/lifecycle.hpp"
#include "creditwatch/alerts/silence.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/escalation.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/storage/store.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace creditwatch::scheduler {

// What the API and metrics show beside a firing alert.
struct AlertMarks {
  std::optional<std::string> silenced_by;  // the id of a silence holding its notifications
  std::optional<notify::Acknowledgement> ack;
};

// What POST /api/v1/alerts/ACCOUNT/RULE/ack found.
enum class AckOutcome { acknowledged, no_such_alert, not_firing };

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
  // Silences and acknowledgements live in the store; decisions read a copy of them. sync()
  // reads them again: the API calls it right after writing one (a single node reacts at
  // once); tick() calls it every k_sync_every, which is how the owner of an alert learns of
  // another replica's write.
  static constexpr Duration k_sync_every = std::chrono::seconds(1);
  void sync();
  // The scheduler loop's tick: syncs when due, then every firing alert whose notifications a
  // silence held back and that no silence holds any more is owed one notification (started if
  // its start was never sent, else a repeat with the latest figures): it is queued now, once
  // (the alert's row records it in the same transaction). Returns how many were queued.
  std::size_t tick(const Runtime& runtime);
  // Whether a silence holds `account`'s `rule` alert at `severity` now, and its ack if any.
  AlertMarks marks(const config::AccountConfig& account, alerts::Rule rule, alerts::Severity severity,
                   const Runtime& runtime) const;
  // An operator acknowledges a firing alert: stored, and (unless a silence holds the alert, or
  // nobody was told of it yet) one Reason::acknowledged notification queued to the notifiers
  // that heard it. The alert's state is read from the store, so any replica can take it.
  AckOutcome acknowledge(const std::string& account, const std::string& rule, const std::string& by,
                         const std::string& comment, const Runtime& runtime);
  // Takes an acknowledgement back; false when there was none.
  bool unacknowledge(const std::string& account, const std::string& rule);

  // Replicas: an account whose probing moved here takes its alert state from the store (its
  // previous owner wrote it there), and one that moved away is forgotten, so only the owner
  // evaluates, repeats and refreshes its alerts.
  void reload(const std::string& account);
  void forget(const std::string& account);

private:
  using Key = std::pair<std::string, alerts::Rule>;
  // Per firing episode, kept in the alert row's context_json beside peak_severity.
  struct Episode {
    bool held = false;      // a silence held back a notification that is still owed
    bool announced = true;  // its start reached at least one notifier (a resolve follows only then)
  };
  struct Ack {
    notify::Acknowledgement ack;
    alerts::Severity severity;  // the alert's when acknowledged
  };
  void load(const std::vector<storage::AlertRow>& rows);
  // The one place that decides whether an alert's notifications wait: the id of the first
  // active silence matching it. Called with m_mutex held.
  std::optional<std::string> silenced_by(const alerts::AlertFacts& alert, TimePoint now, const Runtime& runtime) const;
  // Whether the alert has an acknowledgement that still holds (same episode, same severity):
  // no reminders, and no escalation. Called with m_mutex held.
  bool acknowledged(const Key& key) const;
  std::optional<notify::Acknowledgement> ack_of(const Key& key) const;
  // The latest notification built for a firing alert (for its figures), or one from what the
  // store said of it. Called with m_mutex held.
  notify::Notification last_notification(const Key& key, const config::AccountConfig& account) const;
  std::size_t release_held(const Runtime& runtime);
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
  std::optional<Duration> refresh_interval(const Runtime& runtime, const std::string& notifier) const;

  storage::Store& m_store;
  const Clock& m_clock;
  mutable std::mutex m_mutex;
  std::mutex m_sync_mutex;  // taken before m_mutex: sync() and acknowledge() one at a time
  std::map<Key, alerts::AlertState> m_states;
  std::map<Key, alerts::Severity> m_peaks;  // highest severity of each alert's current episode
  std::map<Key, Episode> m_episodes;
  std::map<Key, notify::Notification> m_last;  // firing alerts: the latest notification built
  // The store's silences and acknowledgements as of the last sync (every alert's, not only
  // the owned ones': the API of any replica shows them).
  std::vector<alerts::Silence> m_silences;
  std::map<Key, Ack> m_acks;
  std::optional<SteadyPoint> m_synced;
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
