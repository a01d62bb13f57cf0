#pragma once

#include "creditwatch/alerts/rules.hpp"

#include <map>
#include <optional>

namespace creditwatch::alerts {

// The runway rule for a quota window (a forecast with window_resets_at): the window refills
// at its reset whatever is left, so the question is only whether the burn empties it first.
// The P10 runway ending before the reset warns; the median one pages. Days thresholds do not
// apply: a 5-hour window's whole life is under any critical_days. Summary, e.g.
// "5-hour window: 12 % left, runs out in 40 minutes, resets in 2 h 10 min". A firing level
// holds until its runway clears the time to the reset by `t.hysteresis`, so a burn that
// wobbles around "just lasts" does not page and resolve on every probe.
std::optional<Finding> window_runway_rule(const Observation& o, const Thresholds& t,
                                          const std::map<Rule, Severity>& firing);

}  // namespace creditwatch::alerts
