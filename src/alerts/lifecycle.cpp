#include "creditwatch/alerts/lifecycle.hpp"

namespace creditwatch::alerts {

const char* to_string(Event event) { return event == Event::firing ? "firing" : "resolved"; }

const char* to_string(Reason reason) {
  switch (reason) {
    case Reason::started: return "started";
    case Reason::severity_changed: return "severity_changed";
    case Reason::repeat: return "repeat";
    case Reason::resolved: return "resolved";
    case Reason::acknowledged: return "acknowledged";
    case Reason::escalated: return "escalated";
  }
  return "started";
}

Transition step(const std::optional<AlertState>& current, const Finding& finding, TimePoint now, const Policy& policy) {
  const bool was_firing = current && current->firing;
  Transition t{current.value_or(AlertState{}), std::nullopt, false};

  if (finding.rule == Rule::topped_up) {
    if (finding.firing) {
      t.next = AlertState{false, finding.severity, now, now};
      t.notify = Reason::started;
      t.changed = true;
    }
    return t;
  }
  if (finding.firing && !was_firing) {
    t.next = AlertState{true, finding.severity, now, now};
    t.notify = Reason::started;
    t.changed = true;
  } else if (finding.firing && finding.severity != current->severity) {
    t.next.severity = finding.severity;
    t.next.last_notified = now;
    t.notify = Reason::severity_changed;
    t.changed = true;
  } else if (finding.firing && now - current->last_notified >= policy.repeat_interval) {
    t.next.last_notified = now;
    t.notify = Reason::repeat;
    t.changed = true;
  } else if (!finding.firing && was_firing) {
    t.next.firing = false;
    t.next.since = now;
    if (policy.send_resolved) {
      t.next.last_notified = now;
      t.notify = Reason::resolved;
    }
    t.changed = true;
  }
  return t;
}

}  // namespace creditwatch::alerts
