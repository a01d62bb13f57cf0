#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"

#include <optional>
#include <span>
#include <string>

namespace creditwatch::forecast {

// One stored reading as the forecaster sees it.
struct Point {
  TimePoint at;
  Decimal balance;
  std::optional<Decimal> spend_total;  // provider's cumulative spend counter, if any
};

struct Settings {
  Duration burn_window = std::chrono::hours(24 * 7);
  double target_days = 30;
  Duration topup_lead_time = std::chrono::hours(48);
};

struct Forecast {
  Decimal balance;                          // the latest reading
  TimePoint at;                             // when it was taken
  std::optional<double> burn_per_day;       // nullopt: no spend seen in the window
  std::optional<double> runway_days;        // median estimate
  std::optional<double> runway_p10_days;    // conservative estimate (<= runway_days)
  std::optional<TimePoint> exhausted_at;    // at + runway_days
  Decimal recommended_topup;                // brings the runway to target_days plus lead time
  Decimal deposits;                         // sum of balance rises in the window
  bool topped_up_last = false;              // the latest reading rose above the one before
  std::size_t samples_used = 0;
  std::string note;                         // why there is no projection, if there is none
};

// Projects the runway from `history` (oldest first). Pure: no I/O, no clock but `now`.
// A rise in balance is a deposit, never negative spend; the burn rate uses the spend
// counter where the provider has one. Projects as soon as two samples show spend.
Forecast project(std::span<const Point> history, const Settings& settings, TimePoint now);

// Rounds a top-up up to two significant digits (e.g. 1234.5 -> 1300), so people get a
// figure they would actually pay in.
Decimal round_up_topup(double amount);

}  // namespace creditwatch::forecast
