#include "window_runway.hpp"

#include "creditwatch/common/duration.hpp"

#include <chrono>
#include <cmath>

namespace creditwatch::alerts {
namespace {

Duration from_days(double days) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(days * 86400.0));
}

// "12 %", "12.5 %": the percent left as people read it.
std::string percent_text(Decimal percent) {
  const double rounded = std::round(percent.to_double() * 10) / 10;
  std::string text = Decimal::from_double(rounded).to_string();
  if (const auto dot = text.find('.'); dot != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text + " %";
}

// What is left of a window in its unit: "12 %" for a share, "5000 characters" for a count.
std::string left_text(Decimal left, const std::string& unit) {
  if (unit.empty() || unit == "percent") return percent_text(left);
  return std::to_string(std::llround(left.to_double())) + " " + unit;
}

constexpr double k_ms_per_day = 86'400'000.0;

}  // namespace

std::optional<Finding> window_runway_rule(const Observation& o, const Thresholds& t,
                                          const std::map<Rule, Severity>& firing) {
  const auto& f = *o.forecast;
  const TimePoint resets_at = *f.window_resets_at;
  Finding finding{Rule::runway, false, Severity::warning, ""};
  std::string text = (o.window_label.empty() ? std::string("quota window") : o.window_label) + ": " +
                     left_text(f.balance, o.currency) + " left, ";
  const auto held = firing.find(Rule::runway);
  const bool was_firing = held != firing.end();
  const bool was_critical = was_firing && held->second == Severity::critical;
  // In days as doubles: a tiny burn's runway of millennia would overflow a TimePoint.
  const double to_reset_days = std::chrono::duration<double, std::milli>(resets_at - f.at).count() / k_ms_per_day;
  const auto ends_first = [&](std::optional<double> runway, bool held_level) {
    return runway && *runway < to_reset_days * (held_level ? 1 + t.hysteresis : 1.0);
  };
  const auto p10 = f.runway_p10_days ? f.runway_p10_days : f.runway_days;
  const bool critical = f.runs_out_before_reset || (was_critical && ends_first(f.runway_days, true));
  if (!p10) {
    text += "no use yet, ";
  } else if (critical || ends_first(p10, was_firing)) {
    finding.firing = true;
    finding.severity = critical ? Severity::critical : Severity::warning;
    // The median when it empties the window first, else the conservative runway that does.
    const double runway = critical && f.runway_days ? *f.runway_days : *p10;
    const bool sure = critical && f.runway_days && *f.runway_days < to_reset_days;
    text += (sure ? "runs out in " : "may run out in ") + describe_span(from_days(runway)) + ", ";
  } else {
    text += "lasts until it ";
  }
  const Duration to_reset = resets_at > o.at ? std::chrono::duration_cast<Duration>(resets_at - o.at) : Duration{0};
  finding.summary = text + "resets in " + describe_span(to_reset);
  return finding;
}

}  // namespace creditwatch::alerts
