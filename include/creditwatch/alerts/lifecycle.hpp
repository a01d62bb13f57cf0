#pragma once

#include "creditwatch/alerts/rules.hpp"

#include <optional>

namespace creditwatch::alerts {

// The state of one alert, identified by (account, rule).
struct AlertState {
  bool firing = false;
  Severity severity = Severity::info;
  TimePoint since{};          // when it started firing (or resolved)
  TimePoint last_notified{};  // the last notification about it
};

enum class Event { firing, resolved };

// Why a notification is sent: the alert started, changed severity, is still firing
// after repeat_interval, resolved, or an operator acknowledged it (still firing; sinks with
// an acknowledge action, PagerDuty and Opsgenie, take it as that action), or it has fired
// unanswered long enough for an `escalate:` step (sent to that step's notifiers).
enum class Reason { started, severity_changed, repeat, resolved, acknowledged, escalated };

const char* to_string(Event event);
const char* to_string(Reason reason);

struct Policy {
  Duration repeat_interval = std::chrono::hours(24);
  bool send_resolved = true;
};

struct Transition {
  AlertState next;
  std::optional<Reason> notify;  // set when a notification must go out
  bool changed = false;          // the state must be persisted
};

// The alert state machine: pure, so tests drive it with a fake clock and assert the exact
// sequence. `topped_up` is an event rule: it notifies once per deposit and never stays firing.
Transition step(const std::optional<AlertState>& current, const Finding& finding, TimePoint now, const Policy& policy);

}  // namespace creditwatch::alerts
