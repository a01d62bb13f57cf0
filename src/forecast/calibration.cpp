#include "creditwatch/forecast/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace creditwatch::forecast {
namespace {

constexpr double k_min_week_days = 3;   // observed days a week needs before its rate makes a trend
constexpr double k_min_rate_days = 1;   // observed days the last week needs for a rate at all
constexpr std::size_t k_week_hours = 24 * 7;
constexpr std::size_t k_origin_step_hours = 24;
// A realised window must be observed for at least this share of its length (time at zero
// balance and outages are unobserved; the rest is scaled up to the whole window).
constexpr double k_min_realised_share = 0.5;
// Log residuals are bounded: an account that stopped spending would give -infinity.
constexpr double k_residual_bound = 4;
// Earlier residuals a past forecast needs before it counts in the track record.
constexpr std::size_t k_least_for_track_record = 4;

// Linear interpolation between order statistics (the usual "type 7" sample quantile).
double quantile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double at = p * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(at));
  const auto hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (at - static_cast<double>(lo));
}

// Spend and observed days of the hours [from, to), from prefix sums.
struct Prefix {
  std::vector<double> spend{0};
  std::vector<double> days{0};
  double spend_in(std::size_t from, std::size_t to) const { return spend[to] - spend[from]; }
  double days_in(std::size_t from, std::size_t to) const { return days[to] - days[from]; }
};

struct Residual {
  std::size_t origin;   // hour index the forecast was made at
  std::size_t matured;  // hour index its horizon ended at
  double value;         // log(realised / predicted)
};

SpendModel model_at(const Prefix& p, std::size_t origin) {
  const std::size_t week_start = origin >= k_week_hours ? origin - k_week_hours : 0;
  const std::size_t before_start = week_start >= k_week_hours ? week_start - k_week_hours : 0;
  return SpendModel::from_weeks(p.spend_in(week_start, origin), p.days_in(week_start, origin),
                                p.spend_in(before_start, week_start), p.days_in(before_start, week_start));
}

std::vector<Residual> residuals_for(const Prefix& p, std::size_t hours, double horizon_days) {
  std::vector<Residual> out;
  const auto length = static_cast<std::size_t>(horizon_days * 24);
  if (hours < length + k_week_hours) return out;
  for (std::size_t origin = hours - length; origin >= k_week_hours; origin -= k_origin_step_hours) {
    const auto model = model_at(p, origin);
    const double predicted = model.spend(horizon_days);
    const double observed = p.days_in(origin, origin + length);
    if (predicted > 0 && observed >= k_min_realised_share * horizon_days) {
      const double realised = p.spend_in(origin, origin + length) * horizon_days / observed;
      const double value = std::log(std::max(realised, 0.02 * predicted) / predicted);
      out.push_back(Residual{origin, origin + length, std::clamp(value, -k_residual_bound, k_residual_bound)});
    }
    if (origin < k_week_hours + k_origin_step_hours) break;
  }
  return out;
}

// How the residuals would have fared against the quantiles their own past gave: for each,
// the residuals of the same horizon that had matured by its origin.
void add_track_record(Calibration& c, const std::vector<Residual>& residuals) {
  for (const auto& r : residuals) {
    std::vector<double> earlier;
    for (const auto& e : residuals) {
      if (e.matured <= r.origin) earlier.push_back(e.value);
    }
    if (earlier.size() < k_least_for_track_record) continue;
    ++c.checked;
    // Within rounding of its quantile is not above it (exact forecasts give zeros that the
    // float buckets blur by 1e-16).
    constexpr double tolerance = 1e-9;
    if (r.value > quantile(earlier, 0.9) + tolerance) ++c.above_upper;
    if (r.value > quantile(earlier, 0.5) + tolerance) ++c.above_median;
  }
}

}  // namespace

SpendModel SpendModel::from_weeks(double last_spend, double last_days, double before_spend, double before_days) {
  SpendModel m;
  if (last_days < k_min_rate_days || last_spend <= 0) return m;
  m.rate_per_day = last_spend / last_days;
  if (last_days >= k_min_week_days && before_days >= k_min_week_days && before_spend > 0) {
    const double weekly = std::log(m.rate_per_day / (before_spend / before_days));
    m.measured_weekly_growth = std::clamp(weekly, -k_max_weekly_growth, k_max_weekly_growth);
    m.growth_per_day = k_trend_damping * std::clamp(weekly, -k_max_weekly_growth, k_max_weekly_growth) / 7;
  }
  return m;
}

double SpendModel::spend(double days) const {
  if (rate_per_day <= 0 || days <= 0) return 0;
  const double g = growth_per_day;
  if (std::abs(g) < 1e-9) return rate_per_day * days;
  // The week's mean is the rate 3.5 days back; the trend runs on from there.
  const double start = rate_per_day * std::exp(g * 3.5);
  const double trended = std::min(days, k_trend_days);
  const double during = start * std::expm1(g * trended) / g;
  const double after = start * std::exp(g * trended) * std::max(0.0, days - k_trend_days);
  return during + after;
}

Calibration calibrate(std::span<const float> spend, std::span<const float> covered_ms) {
  Prefix p;
  const std::size_t hours = std::min(spend.size(), covered_ms.size());
  p.spend.reserve(hours + 1);
  p.days.reserve(hours + 1);
  for (std::size_t i = 0; i < hours; ++i) {
    p.spend.push_back(p.spend.back() + spend[i]);
    p.days.push_back(p.days.back() + covered_ms[i] / 86'400'000.0);
  }
  Calibration c;
  std::array<std::vector<Residual>, 4> by_horizon;
  for (std::size_t h = 0; h < Calibration::k_horizons_days.size(); ++h) {
    by_horizon[h] = residuals_for(p, hours, Calibration::k_horizons_days[h]);
    add_track_record(c, by_horizon[h]);
  }
  // Adaptive conformal (Gibbs & Candes): where the account's own past shows its 90th
  // percentile missed more often than one time in ten (a world that moves), the level rises by
  // the excess, up to 0.98; likewise the median's.
  double upper_level = 0.9;
  double median_level = 0.5;
  if (c.checked >= 10) {
    upper_level = std::clamp(0.9 + (static_cast<double>(c.above_upper) / c.checked - 0.1), 0.9, 0.98);
    median_level = std::clamp(0.5 + (static_cast<double>(c.above_median) / c.checked - 0.5), 0.4, 0.7);
  }
  for (std::size_t h = 0; h < Calibration::k_horizons_days.size(); ++h) {
    const auto& residuals = by_horizon[h];
    if (residuals.empty()) continue;
    std::vector<double> values;
    values.reserve(residuals.size());
    for (const auto& r : residuals) values.push_back(r.value);
    // Split-conformal's finite-sample level: the ceil((n + 1) * level)-th of n.
    const double n = static_cast<double>(values.size());
    const double upper = std::min(1.0, std::ceil((n + 1) * upper_level) / n);
    c.horizons[h] = Calibration::Horizon{static_cast<float>(quantile(values, median_level)),
                                         static_cast<float>(quantile(values, upper)),
                                         static_cast<std::uint16_t>(values.size())};
  }
  return c;
}

}  // namespace creditwatch::forecast
