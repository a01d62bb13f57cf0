#pragma once

#include "creditwatch/alerts/rules.hpp"
#include "creditwatch/config/config.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace creditwatch::scheduler {

// Where one firing alert stands with `escalate:` in its current firing episode. Kept in the
// alert row's context (to_json/escalation_from_json), so a restart or a replica taking the
// account over neither repeats an escalation nor forgets one that is due.
struct EscalationState {
  std::map<alerts::Severity, TimePoint> reached;  // when the episode first reached each severity
  std::set<std::string> steps_done;               // step_id() of each step already taken
  std::set<std::string> escalated_to;             // notifiers it went to: the resolve follows it there

  bool operator==(const EscalationState&) const = default;
};

// Notes that a firing alert is at `severity` at `now`: the clock of every severity up to it
// starts now unless it already runs (it starts once per episode; easing off and coming back
// does not restart it).
void note_severity(EscalationState& state, alerts::Severity severity, TimePoint now);

// The steps of `steps` due for an alert now at `severity`: at or above the step's
// min_severity, which it first reached at least `after` ago, and not yet taken this episode.
std::vector<const config::EscalationStep*> due_steps(const std::vector<config::EscalationStep>& steps,
                                                     const EscalationState& state, alerts::Severity severity,
                                                     TimePoint now);

// What identifies a step across restarts and reloads: its values, not its place in the list,
// so a step added above it does not make it run again.
std::string step_id(const config::EscalationStep& step);

nlohmann::json to_json(const EscalationState& state);
// Tolerant: a missing or malformed part reads as empty (rows written before escalation existed).
EscalationState escalation_from_json(const nlohmann::json& json);

}  // namespace creditwatch::scheduler
