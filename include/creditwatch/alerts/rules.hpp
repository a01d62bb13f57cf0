#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"
#include "creditwatch/forecast/forecaster.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace creditwatch::alerts {

enum class Severity { info = 0, warning = 1, critical = 2 };
enum class Rule { runway, min_balance, exhausted, key_invalid, stale, spend_spike, topped_up };

const char* to_string(Severity severity);
const char* to_string(Rule rule);
std::optional<Severity> parse_severity(const std::string& text);
std::optional<Rule> parse_rule(const std::string& text);
const std::vector<Rule>& all_rules();

// What a probe told us, reduced to what the rules need.
enum class ProbeStatus { ok, failed, key_invalid, exhausted };

struct Observation {
  TimePoint at;
  ProbeStatus status = ProbeStatus::ok;
  std::string error_message;                // for failed / key_invalid / exhausted
  bool available = true;                    // provider's own "can serve" flag
  std::string unavailable_reason;           // why not, when the provider said
  std::optional<forecast::Forecast> forecast;  // present when a balance is known
  std::string currency;      // of the balance: an ISO code or a unit ("searches", "percent")
  // The provider bills use afterwards (a postpaid account, overage billing): a balance at or
  // under zero does not stop it, so it is no `exhausted` page (an unavailable flag still is).
  bool postpaid = false;
  std::string window_label;  // a quota window's name ("5-hour window"), from the reading's details
};

struct Thresholds {
  double warn_days = 14;
  double critical_days = 3;
  std::optional<Decimal> min_balance;          // under it: min_balance critical
  std::optional<Decimal> min_balance_warning;  // under it: min_balance warning
  // Percentage floors of `percent_of` (a budget, a credit, the usual top-up): under them
  // min_balance warns or pages, whichever floor is higher deciding.
  std::optional<double> warn_percent_left;
  std::optional<double> critical_percent_left;
  std::optional<Decimal> percent_of;
  Duration interval = std::chrono::minutes(5);
  Duration stale_after{0};
  // A firing threshold alert resolves only once the value clears the threshold by this
  // fraction, so a runway wobbling around 3.0 days does not flap.
  double hysteresis = 0.10;
};

// One rule's verdict: firing (with a severity) or clear.
struct Finding {
  Rule rule;
  bool firing = false;
  Severity severity = Severity::info;
  std::string summary;  // one line for humans
};

// Evaluates every rule that one probe can judge. `firing` holds the severity of each rule
// currently firing, for hysteresis. Rules that cannot be judged from this observation (e.g.
// runway while the probe failed) are left out, so their alerts keep their state. `stale` is
// not among them: see stale() below.
std::vector<Finding> evaluate(const Observation& observation, const Thresholds& thresholds,
                              const std::map<Rule, Severity>& firing);

// How long an account has gone without an answer, as the scheduler measures it.
struct Unanswered {
  Duration silent{0};       // since the last answer, or since watching began if none came
  bool ever_answered = false;
  std::string last_error;   // what the latest probe said, if it failed
};

// `stale`: no answer for max(3 intervals, stale_after). Judged by the scheduler for every
// account on the monotonic clock, not from one probe's result, so an account whose probes
// fail in any way (an internal error, a probe that never returns, one that never succeeded)
// still goes stale, and a wall-clock step makes nothing stale.
Finding stale(const Unanswered& silence, const Thresholds& thresholds);

}  // namespace creditwatch::alerts
