#include "creditwatch/alerts/rules.hpp"

#include "window_runway.hpp"

#include "creditwatch/common/amount_text.hpp"
#include "creditwatch/common/duration.hpp"

#include <cmath>
#include <cstdio>

namespace creditwatch::alerts {
namespace {

bool is_firing(const std::map<Rule, Severity>& firing, Rule rule) { return firing.count(rule) > 0; }

// "12", "12.5": a percentage as people write it.
std::string format_percent(double percent) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", percent);
  std::string text = buffer;
  if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return text;
}

// Below `threshold` enters; a firing alert leaves only above threshold * (1 + margin).
bool below(double value, double threshold, bool currently, double margin) {
  return currently ? value < threshold * (1 + margin) : value < threshold;
}

// Share of critical_days under which a surge (a leaked key, measured as it happens) pages
// without waiting for the day-scale windows: a day by default.
constexpr double k_surge_share = 1.0 / 3;
// A surge pages only once it has lasted as long as the runway it leaves. Most surges (a batch
// job, an eval run, a retry storm, a leak someone notices) stop by themselves, and the longer
// one has run, the likelier it is to run on: if a surge of age a lasts beyond a + t with odds
// a / (a + t) (Lindy), it is even odds that it empties the account. Scored on three
// independently written trace generators (bench/forecast), a quarter of the runway paged on
// too many surges that then stopped: more critical alerts with a week of money left than
// predict_linear in total.
constexpr double k_surge_age_factor = 1;
// The settled median must be under this multiple of critical_days too, so the spread of a
// lumpy account (a P10 far below its median) does not page on its own.
constexpr double k_settled_median_factor = 1.1;
// Removed with the calibrated quantiles (issue 19): a second path for a settled P10 under 0.75x
// critical_days with the median under 1.3x. Scored on new 1, alt 1, ops 1 and trend 1
// (bench/forecast) it changed no critical onset and no unwarned exhaustion; it saved 2.7 of
// 221.8 missed hours (alt 1 128.5 -> 126.2, new 1 43.2 -> 42.8), not enough for a special case.

// A new critical alert needs the settled burn to agree (P10 under critical_days, and the
// median within 10 % of it), or a surge that would empty the account
// within a day and has lasted as long as the runway it leaves. On the first day of a day-scale
// burn window the settled burn is only the spend so far (a bursty key's first hours say
// little about its days), so only a runway under a third of critical_days pages. A firing
// critical stays while the P10 is under critical_days plus the hysteresis margin, so the way
// out is the plain P10.
bool enters_critical(const forecast::Forecast& f, double p10, const Thresholds& t) {
  const double runway = f.runway_days.value_or(p10);
  const bool surging = f.surge_hours > 0;
  if (runway < k_surge_share * t.critical_days && (!surging || runway < k_surge_age_factor * f.surge_hours / 24)) {
    return true;
  }
  if (f.first_day) return false;
  const double settled_p10 = f.settled_runway_p10_days.value_or(p10);
  const double settled_p50 = f.settled_runway_days.value_or(runway);
  return settled_p10 < t.critical_days && settled_p50 < k_settled_median_factor * t.critical_days;
}

std::optional<Finding> runway_rule(const Observation& o, const Thresholds& t, const std::map<Rule, Severity>& firing) {
  if (o.status != ProbeStatus::ok || !o.forecast) return std::nullopt;
  if (o.forecast->window_resets_at) return window_runway_rule(o, t, firing);
  Finding f{Rule::runway, false, Severity::warning, ""};
  // The conservative (P10) runway decides, so an alert errs early rather than late.
  auto runway = o.forecast->runway_p10_days ? o.forecast->runway_p10_days : o.forecast->runway_days;
  if (!runway) {
    f.summary = "no spend yet";
    return f;
  }
  auto current = firing.find(Rule::runway);
  const bool was_critical = current != firing.end() && current->second == Severity::critical;
  const bool was_firing = current != firing.end();
  // A firing critical also stays while what would start one still holds: the calibrated P10
  // can stand above the settled runways that start it, and a way out below the way in would
  // page on every other probe.
  const bool critical =
      (was_critical && below(*runway, t.critical_days, true, t.hysteresis)) || enters_critical(*o.forecast, *runway, t);
  if (critical) {
    f.firing = true;
    f.severity = Severity::critical;
  } else if (below(*runway, t.warn_days, was_firing, t.hysteresis)) {
    f.firing = true;
    f.severity = Severity::warning;
  }
  f.summary = "runway " + describe_days(*runway);
  return f;
}

// The floor of one severity: the higher of the absolute level and the percentage of
// `percent_of`, and which of the two it is, for the summary.
struct Floor {
  Decimal amount;
  std::optional<double> percent;  // set when the percentage decided
};

std::optional<Floor> floor_of(const std::optional<Decimal>& level, const std::optional<double>& percent,
                              const Thresholds& t) {
  std::optional<Floor> out;
  if (level) out = Floor{*level, std::nullopt};
  if (percent && t.percent_of) {
    const Decimal amount = Decimal::from_double(t.percent_of->to_double() * *percent / 100);
    if (!out || out->amount < amount) out = Floor{amount, percent};
  }
  return out;
}

// "floor 2.00" when one absolute floor is all there is (as before warning levels existed),
// else "warning floor 20.00 (20 % of 100.00)".
std::string describe_floor(const Floor& floor, Severity severity, const Thresholds& t, const std::string& unit) {
  const bool plain = !t.min_balance_warning && !t.warn_percent_left && !t.critical_percent_left;
  std::string text = (plain ? std::string() : std::string(to_string(severity)) + " ") + "floor " +
                     amount_with_unit(floor.amount.to_string(), unit);
  if (floor.percent && t.percent_of) {
    text += " (" + format_percent(*floor.percent) + " % of " + t.percent_of->to_string() + ")";
  }
  return text;
}

// min_balance: under the critical floor pages, under the warning floor warns. A firing alert
// leaves a level only once the balance clears its floor by half the hysteresis margin, so a
// balance hovering at the floor (small spends, refunds) does not flap.
std::optional<Finding> min_balance_rule(const Observation& o, const Thresholds& t,
                                        const std::map<Rule, Severity>& firing) {
  const auto critical_floor = floor_of(t.min_balance, t.critical_percent_left, t);
  const auto warning_floor = floor_of(t.min_balance_warning, t.warn_percent_left, t);
  if (o.status != ProbeStatus::ok || !o.forecast || (!critical_floor && !warning_floor)) return std::nullopt;
  const Decimal balance = o.forecast->balance;
  auto current = firing.find(Rule::min_balance);
  const auto under = [&](const Floor& floor, Severity level) {
    const bool held = current != firing.end() && current->second >= level;
    const Decimal margin = Decimal::from_double(floor.amount.to_double() * t.hysteresis / 2);
    return balance < (held ? floor.amount + margin : floor.amount);
  };
  Finding f{Rule::min_balance, false, Severity::critical, ""};
  std::string floors;
  if (critical_floor && under(*critical_floor, Severity::critical)) {
    f.firing = true;
    floors = describe_floor(*critical_floor, Severity::critical, t, o.currency);
  } else if (warning_floor && under(*warning_floor, Severity::warning)) {
    f.firing = true;
    f.severity = Severity::warning;
    floors = describe_floor(*warning_floor, Severity::warning, t, o.currency);
  } else {
    floors = describe_floor(warning_floor ? *warning_floor : *critical_floor,
                            warning_floor ? Severity::warning : Severity::critical, t, o.currency);
  }
  f.summary = "balance " + amount_with_unit(balance.to_string(), o.currency);
  if (t.percent_of && (t.warn_percent_left || t.critical_percent_left) && t.percent_of->to_double() > 0) {
    f.summary += " (" + format_percent(100 * balance.to_double() / t.percent_of->to_double()) + " % left)";
  }
  f.summary += " vs " + floors;
  return f;
}

std::optional<Finding> exhausted_rule(const Observation& o) {
  Finding f{Rule::exhausted, false, Severity::critical, ""};
  if (o.status == ProbeStatus::exhausted) {
    f.firing = true;
    f.summary = "out of balance: " + o.error_message;
    return f;
  }
  if (o.status != ProbeStatus::ok) return std::nullopt;
  const bool dry_balance = o.forecast && o.forecast->balance <= Decimal() && !o.postpaid;
  f.firing = !o.available || dry_balance;
  if (!o.available) {
    f.summary = o.unavailable_reason.empty() ? "provider reports the account unavailable" : o.unavailable_reason;
  } else {
    f.summary = dry_balance ? "balance is zero" : "available";
  }
  return f;
}

std::optional<Finding> key_invalid_rule(const Observation& o) {
  if (o.status == ProbeStatus::failed) return std::nullopt;  // unknown: keep the state
  Finding f{Rule::key_invalid, o.status == ProbeStatus::key_invalid, Severity::critical, ""};
  f.summary = f.firing ? "key rejected: " + o.error_message : "key accepted";
  return f;
}

// The usual busiest hour at this time of day counts at this share in the spike baseline: a
// recurring job's hour then stands at most 2x its baseline (a spike needs 3x), with room for
// a job that runs somewhat bigger than usual, while a 10x leak on top of a 2-4x daily peak
// still fires.
constexpr double k_usual_hour_share = 0.5;

// The multi-window burn-rate idea of the SRE workbook: the last 15 minutes AND the last hour
// must both run far above the baseline (the long-window burn, or half the usual busiest hour
// at this time of day when higher), so a 10x jump fires within minutes while a daily peak or
// a nightly batch job never does. It clears once the last hour is back under twice the
// baseline.
std::optional<Finding> spend_spike_rule(const Observation& o, const std::map<Rule, Severity>& firing) {
  if (o.status != ProbeStatus::ok || !o.forecast || !o.forecast->baseline_rate) return std::nullopt;
  const auto& f = *o.forecast;
  const double baseline = std::max(*f.baseline_rate, k_usual_hour_share * f.usual_rate_this_hour.value_or(0));
  Finding finding{Rule::spend_spike, false, Severity::warning, ""};
  if (baseline <= 0 || !f.spike_long_rate) return finding;
  const double hour = *f.spike_long_rate;
  if (is_firing(firing, Rule::spend_spike)) {
    finding.firing = hour >= 2 * baseline;
  } else {
    finding.firing = f.spike_short_rate && *f.spike_short_rate > 5 * baseline && hour > 3 * baseline;
  }
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "spend %.1fx the usual rate: %.2f/day over the last hour vs %.2f/day",
                hour / baseline, hour, baseline);
  finding.summary = buffer;
  return finding;
}

std::optional<Finding> topped_up_rule(const Observation& o) {
  if (o.status != ProbeStatus::ok || !o.forecast) return std::nullopt;
  Finding f{Rule::topped_up, o.forecast->topped_up_last, Severity::info, ""};
  f.summary = f.firing ? "balance rose to " + o.forecast->balance.to_string() : "";
  return f;
}

}  // namespace

const char* to_string(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
  }
  return "info";
}

const char* to_string(Rule rule) {
  switch (rule) {
    case Rule::runway: return "runway";
    case Rule::min_balance: return "min_balance";
    case Rule::exhausted: return "exhausted";
    case Rule::key_invalid: return "key_invalid";
    case Rule::stale: return "stale";
    case Rule::spend_spike: return "spend_spike";
    case Rule::topped_up: return "topped_up";
  }
  return "runway";
}

const std::vector<Rule>& all_rules() {
  static const std::vector<Rule> rules = {Rule::runway, Rule::min_balance, Rule::exhausted, Rule::key_invalid,
                                          Rule::stale,  Rule::spend_spike, Rule::topped_up};
  return rules;
}

std::optional<Severity> parse_severity(const std::string& text) {
  for (auto s : {Severity::info, Severity::warning, Severity::critical}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

std::optional<Rule> parse_rule(const std::string& text) {
  for (auto r : all_rules()) {
    if (text == to_string(r)) return r;
  }
  return std::nullopt;
}

std::vector<Finding> evaluate(const Observation& observation, const Thresholds& thresholds,
                              const std::map<Rule, Severity>& firing) {
  std::vector<Finding> out;
  for (auto finding : {runway_rule(observation, thresholds, firing), min_balance_rule(observation, thresholds, firing),
                       exhausted_rule(observation), key_invalid_rule(observation),
                       spend_spike_rule(observation, firing), topped_up_rule(observation)}) {
    if (finding) out.push_back(std::move(*finding));
  }
  return out;
}

Finding stale(const Unanswered& silence, const Thresholds& thresholds) {
  Finding f{Rule::stale, false, Severity::warning, ""};
  const Duration limit = std::max<Duration>(thresholds.interval * 3, thresholds.stale_after);
  f.firing = silence.silent >= limit;
  const auto seconds = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silence.silent).count());
  if (!f.firing) {
    f.summary = "answered " + seconds + "s ago";
    return f;
  }
  f.summary = silence.ever_answered ? "no successful probe for " + seconds + "s"
                                    : "no successful probe in the " + seconds + "s since monitoring began";
  if (!silence.last_error.empty()) f.summary += ": " + silence.last_error;
  return f;
}

}  // namespace creditwatch::alerts
