#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace creditwatch::forecast {

// The spend model every runway quantile starts from: the mean rate of the last week, and the
// trend from the week before it (bounded, so two noisy weeks cannot project an explosion).
// The same model is re-run at past origins to calibrate it (see Calibration), so it must only
// read the two weeks before its origin.
struct SpendModel {
  double rate_per_day = 0;      // the last week's mean, centred 3.5 days before the origin
  double growth_per_day = 0;    // log growth per day, applied over at most k_trend_days
  double measured_weekly_growth = 0;  // log growth a week between the two weeks, bounded
  static constexpr double k_max_weekly_growth = 0.5;   // ln(1.65): +65 % or -39 % a week at most
  static constexpr double k_trend_days = 14;           // the trend is projected this far, then flat
  // Share of the measured trend projected: none. Projected (0.7, bounded as above) it lost on
  // the benchmark's median error (0.208 against 0.181) with no better coverage; the growth
  // is still measured and shown, and its effect reaches the runways through the residuals.
  static constexpr double k_trend_damping = 0;

  // From the spend and observed days of the last week and of the week before it; a week
  // observed for under `k_min_days` days gives no trend (a week with no observed day, no rate).
  static SpendModel from_weeks(double last_spend, double last_days, double before_spend, double before_days);
  // Spend expected over the next `days` days.
  double spend(double days) const;
};

// How the account's own past forecasts fared: the model above re-run at past origins (every
// day back through the ledger's five weeks of hours), each compared with the spend that really
// followed over 1, 3, 7 and 14 days, as log(realised / predicted). Split conformal: what the
// forecast may use are the quantiles of those residuals, all of which lie before the origin of
// the forecast being made. Empirical quantiles only; the forecaster blends them with a prior
// from the day-to-day spread, weighted by how many there are.
struct Calibration {
  static constexpr std::array<double, 4> k_horizons_days{1, 3, 7, 14};
  struct Horizon {
    float median = 0;  // of log(realised / predicted): the model's bias at this horizon
    float upper = 0;   // its 90th percentile: what the P10 runway's spend must allow for
    std::uint16_t count = 0;
  };
  std::array<Horizon, 4> horizons{};
  // Track record: the residuals that had, at their own origin, enough earlier residuals of
  // their horizon to set quantiles from, and how many of them exceeded those quantiles
  // (spend outran the P10 spend, the median spend).
  std::uint16_t checked = 0;
  std::uint16_t above_upper = 0;
  std::uint16_t above_median = 0;
};

// Calibrates on consecutive hourly buckets (oldest first, the last ending at `end`, a closed
// hour): spend and observed milliseconds of each.
Calibration calibrate(std::span<const float> spend, std::span<const float> covered_ms);

}  // namespace creditwatch::forecast
