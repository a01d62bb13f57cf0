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
  std::optional<TimePoint> last_success;
};

struct Thresholds {
  double warn_days = 14;
  double critical_days = 3;
  std::optional<Decimal> min_balance;
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

// Evaluates every rule. `firing` holds the severity of each rule currently firing, for
// hysteresis. Rules that cannot be judged from this observation (e.g. runway while the
// probe failed) are left out, so their alerts keep their state.
std::vector<Finding> evaluate(const Observation& observation, const Thresholds& thresholds,
                              const std::map<Rule, Severity>& firing);

}  // namespace creditwatch::alerts
