#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"
#include "creditwatch/forecast/ledger.hpp"

#include <optional>
#include <span>
#include <string>

namespace creditwatch::forecast {

struct Settings {
  Duration burn_window = std::chrono::hours(24 * 7);
  double target_days = 30;
  Duration topup_lead_time = std::chrono::hours(48);
};

// How the account's own earlier forecasts fared against the spend that really followed
// (forecasts made 1, 3, 7 and 14 days before): the share of them where spend outran the
// P10 runway and the median. Calibrated quantiles give 0.10 and 0.50.
struct TrackRecord {
  std::size_t forecasts_checked = 0;
  double p10_coverage = 0;
  double p50_coverage = 0;
};

// What the calibrated runways were built from, at the P50 runway's horizon (1-14 days).
struct CalibrationState {
  double growth_per_week = 0;  // the trend of the last two weeks (log growth a week): measured, not projected
  double bias_factor = 1;      // median realised / predicted spend of the account's past forecasts
  double spread_factor = 1;    // P10 spend / median spend
  std::size_t weekly_checks = 0;  // past 7-day forecasts checked (0: the prior alone)
};

struct Forecast {
  Decimal balance;                        // the latest reading
  TimePoint at;                           // when it was taken
  std::optional<double> burn_per_day;     // nullopt: no spend seen
  std::optional<double> runway_days;      // median (P50) estimate
  std::optional<double> runway_p10_days;  // conservative estimate: 1 in 10 chance of running out sooner
  std::optional<TimePoint> exhausted_at;  // at + runway_days
  // The same two runways at the settled burn: what the day-scale windows confirm, leaving out
  // a surge of the last hours (a leaked key) that they do not yet show. Equal to the above
  // when there is no surge. A critical `runway` alert needs these (see alerts/rules.cpp), so a
  // short-lived surge pages only when it would empty the account within hours.
  std::optional<double> settled_runway_days;
  std::optional<double> settled_runway_p10_days;
  // Less than a day observed with a burn window of a day or more: the settled burn is only
  // the spend so far, so a new critical alert needs the runway under a third of
  // critical_days (see alerts/rules.cpp).
  bool first_day = false;
  // How long the surge has run without a break (0 without one): the recent readings, then
  // the hourly buckets before them, up to two days more.
  double surge_hours = 0;
  // nullopt until the account has enough history to judge its own forecasts.
  std::optional<TrackRecord> track_record;
  std::optional<CalibrationState> calibration;  // nullopt: no calibrated runway (first day, no spend)
  // A quota window (readings with Point::resets_at): when it refills, and whether the median
  // burn empties it before then. Its recommended_topup is zero: a window cannot be topped up.
  std::optional<TimePoint> window_resets_at;
  bool runs_out_before_reset = false;
  Decimal recommended_topup;    // brings the P10 runway to target_days plus lead time
  Decimal deposits;             // deposits in the burn window
  bool topped_up_last = false;  // the latest reading carried a deposit
  std::size_t samples_used = 0;
  std::string note;  // why there is no projection, or why it is rough
  // For the spend_spike rule: burn over the last 15 minutes and the last hour, and the
  // long-window baseline they are compared with (all per day; nullopt without data).
  std::optional<double> spike_short_rate;
  std::optional<double> spike_long_rate;
  std::optional<double> baseline_rate;
  // The busiest hour around this time of day on a usual day of the last week, or the same
  // hours a week ago when higher (per day), so a recurring nightly, weekday or weekly job is
  // not taken for a spike; nullopt under three days.
  std::optional<double> usual_rate_this_hour;
};

// Projects the runway from what the ledger holds, as of `now`. Pure: no I/O, no clock.
//
// The burn rate (P50) is the mean spend over `burn_window` (a whole weekly cycle by default)
// with only a record hour trimmed (recurring lumps are part of what an account spends); when
// the last 24 h and 72 h both stand well off it, it follows them (faster upward than
// downward, since a late alert costs more than an early one); a sustained jump within the
// last hours (a leaked key) is followed at once. The settled burn, which a new critical alert
// needs, is the same with the window's largest hour trimmed and without the surge.
// With less than a day observed it falls back to the plain recent rate and says so.
//
// P10 treats daily spend as independent draws with the observed day-to-day spread (a normal
// approximation of resampling the observed days): the runway such that the chance of running
// out sooner is 10 %, at the median burn (the settled one never exceeds it). `runway`
// warnings use P10; critical alerts also need the settled runways (see alerts/rules.cpp).
Forecast project(const SpendLedger& ledger, const Settings& settings, TimePoint now);

// Convenience for a batch of readings (oldest first).
Forecast project(std::span<const Point> history, const Settings& settings, TimePoint now);

// Rounds a top-up up to two significant digits (e.g. 1234.5 -> 1300), so people get a
// figure they would actually pay in.
Decimal round_up_topup(double amount);

}  // namespace creditwatch::forecast
