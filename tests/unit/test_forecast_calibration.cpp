#include "creditwatch/forecast/calibration.hpp"
#include "creditwatch/forecast/forecaster.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::forecast::calibrate;
using creditwatch::forecast::Calibration;
using creditwatch::forecast::Forecast;
using creditwatch::forecast::project;
using creditwatch::forecast::Settings;
using creditwatch::forecast::SpendLedger;
using creditwatch::forecast::SpendModel;

namespace {

const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);  // 2026-05-01T00:00:00Z, a Friday
constexpr int k_hours = 24 * 60;

TimePoint at_hour(int hour) { return k_t0 + std::chrono::hours(hour); }

// An account's spend per hour for 60 days: `weekly_growth` compounding (0.25: +25 % a week),
// day-to-day noise (log-normal, sigma 0.25) and a business-hours shape, from a fixed seed.
std::vector<double> spend_plan(double weekly_growth, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<double> noise(0, 0.25);
  std::vector<double> hours(k_hours);
  double day_factor = 1;
  for (int h = 0; h < k_hours; ++h) {
    if (h % 24 == 0) day_factor = std::exp(noise(random));
    const double shape = (h % 24 >= 8 && h % 24 < 18) ? 2.0 : 0.5;
    hours[static_cast<std::size_t>(h)] = 10 * shape * day_factor * std::pow(1 + weekly_growth, h / 168.0);
  }
  return hours;
}

// Days from `hour` until the plan spends `balance` (the true runway, ignoring top-ups).
double true_runway(const std::vector<double>& plan, int hour, double balance) {
  double spent = 0;
  for (auto h = static_cast<std::size_t>(hour); h < plan.size(); ++h) {
    if (spent + plan[h] >= balance) return (static_cast<double>(h) - hour + (balance - spent) / plan[h]) / 24;
    spent += plan[h];
  }
  return 1e9;
}

struct Coverage {
  int checks = 0;
  int below_p10 = 0;
  int below_p50 = 0;
  double p10_share() const { return static_cast<double>(below_p10) / checks; }
  double p50_share() const { return static_cast<double>(below_p50) / checks; }
};

// Hourly readings of an account topped up to ten days of spend whenever under five; from day
// 21 on, every six hours, whether the true runway fell below the forecast's P10 and P50.
Coverage replay(const std::vector<double>& plan) {
  SpendLedger ledger;
  double balance = 0;
  Coverage c;
  for (int h = 0; h + 24 * 15 < k_hours; ++h) {
    const double day = plan[static_cast<std::size_t>(h)] * 24;
    if (balance < 5 * day) balance = 10 * day;
    ledger.add({at_hour(h), Decimal::from_double(balance), std::nullopt});
    if (h >= 24 * 21 && h % 6 == 0) {
      const auto f = project(ledger, Settings{}, at_hour(h));
      REQUIRE(f.runway_p10_days);
      const double truth = true_runway(plan, h, Decimal::from_double(balance).to_double());
      ++c.checks;
      if (truth < *f.runway_p10_days) ++c.below_p10;
      if (truth < *f.runway_days) ++c.below_p50;
    }
    balance -= plan[static_cast<std::size_t>(h)];
  }
  return c;
}

// Consecutive hours of constant spend, with `hot_hours` at the end spending three times as much.
Calibration calibrate_constant(std::size_t hours, std::size_t hot_hours) {
  std::vector<float> spend(hours, 1.0F);
  std::vector<float> covered(hours, 3'600'000.0F);
  for (std::size_t i = hours - hot_hours; i < hours; ++i) spend[i] = 3.0F;
  return calibrate(spend, covered);
}

// 34 days of hourly readings spending exactly 10 an hour from 100,000.
struct SteadyLedger {
  SpendLedger ledger;
  double balance = 100'000;
};

SteadyLedger steady_ledger() {
  SteadyLedger steady;
  for (int h = 0; h < 24 * 34; ++h) {
    steady.ledger.add({at_hour(h), Decimal::from_double(steady.balance), std::nullopt});
    steady.balance -= 10;
  }
  return steady;
}

}  // namespace

TEST_SUITE("forecast_calibration") {
  TEST_CASE("growing spend gets a P10 that covers about one check in ten") {
    // +25 % a week: the uncalibrated P10 (the mean of the last week, a normal band) fell
    // below the truth in most checks on such traces. Pooled over three seeds.
    Coverage total;
    for (unsigned seed : {1U, 2U, 3U}) {
      const auto c = replay(spend_plan(0.25, seed));
      total.checks += c.checks;
      total.below_p10 += c.below_p10;
      total.below_p50 += c.below_p50;
    }
    REQUIRE(total.checks > 250);
    INFO("P10 coverage ", total.p10_share(), ", P50 coverage ", total.p50_share());
    CHECK(total.p10_share() <= 0.2);
    CHECK(total.p10_share() >= 0.0);
    // The median lags steady growth (0.78 here, goal 0.5): the trend is not projected and the
    // median's bias is learned at a prior weight of five checks. Pinned so a change shows.
    CHECK(total.p50_share() >= 0.3);
    CHECK(total.p50_share() <= 0.85);
  }

  TEST_CASE("declining spend is not covered by a needlessly low P10 either") {
    const auto c = replay(spend_plan(-0.2, 4));
    CHECK(c.p10_share() <= 0.2);
    CHECK(c.p50_share() >= 0.25);
  }

  TEST_CASE("steady spend keeps a tight band") {
    const auto steady = steady_ledger();
    const auto f = project(steady.ledger, Settings{}, at_hour(24 * 34 - 1));
    REQUIRE(f.runway_days);
    REQUIRE(f.runway_p10_days);
    REQUIRE(f.calibration);
    CHECK(*f.runway_days == doctest::Approx(steady.balance / 240).epsilon(0.02));
    // Exact re-forecasts leave only the margin for what whole days do not show (+35 % spend).
    CHECK(*f.runway_p10_days >= 0.7 * *f.runway_days);
    CHECK(f.calibration->bias_factor == doctest::Approx(1).epsilon(0.01));
    CHECK(f.calibration->weekly_checks > 10);
  }

  TEST_CASE("no peeking: the forecast at t is the same whatever follows t") {
    const auto calm = spend_plan(0, 5);
    auto surge = calm;
    const int t = 24 * 30 + 7;
    for (std::size_t h = t + 1; h < surge.size(); ++h) surge[h] *= 8;
    auto forecast_at = [&](const std::vector<double>& plan, int until) {
      SpendLedger ledger;
      double balance = 50'000;
      Forecast at_t;
      for (int h = 0; h <= until; ++h) {
        ledger.add({at_hour(h), Decimal::from_double(balance), std::nullopt});
        if (h == t) at_t = project(ledger, Settings{}, at_hour(t));
        balance -= plan[static_cast<std::size_t>(h)];
      }
      return at_t;
    };
    const auto calm_t = forecast_at(calm, t + 24 * 5);
    const auto surge_t = forecast_at(surge, t + 24 * 5);
    REQUIRE(calm_t.runway_p10_days);
    CHECK(*calm_t.runway_days == *surge_t.runway_days);
    CHECK(*calm_t.runway_p10_days == *surge_t.runway_p10_days);
    CHECK(calm_t.calibration->bias_factor == surge_t.calibration->bias_factor);
    CHECK(calm_t.calibration->spread_factor == surge_t.calibration->spread_factor);
  }

  TEST_CASE("a new account falls back to the prior") {
    SpendLedger ledger;
    double balance = 100'000;
    const auto plan = spend_plan(0, 6);
    for (int h = 0; h < 24 * 4; ++h) {
      ledger.add({at_hour(h), Decimal::from_double(balance), std::nullopt});
      balance -= plan[static_cast<std::size_t>(h)];
    }
    const auto f = project(ledger, Settings{}, at_hour(24 * 4 - 1));
    REQUIRE(f.calibration);
    CHECK(f.calibration->weekly_checks == 0);
    CHECK(f.calibration->bias_factor == 1);
    CHECK(f.calibration->spread_factor > 1.05);  // the day-to-day spread, not a made-up zero
    CHECK_FALSE(f.track_record);
    REQUIRE(f.runway_p10_days);
    CHECK(*f.runway_p10_days < *f.runway_days);
  }

  TEST_CASE("the track record counts the past forecasts that had a past of their own") {
    // 35 days of hours, one origin a day. A residual counts once four of its horizon matured
    // before its origin: 24 of the 1-day forecasts, 20 of the 3-day, 12 of the 7-day, none of
    // the 14-day ones. Constant spend: none of them is above its quantiles.
    const auto steady = calibrate_constant(24 * 35, 0);
    CHECK(steady.checked == 56);
    CHECK(steady.above_upper == 0);
    CHECK(steady.above_median == 0);
    CHECK(steady.horizons[0].count == 28);
    CHECK(steady.horizons[3].count == 15);
    // The last two days at three times the rate: two forecasts of each horizon up to 7 days
    // ran into them, all from a past of exact forecasts.
    const auto hot = calibrate_constant(24 * 35, 48);
    CHECK(hot.checked == 56);
    CHECK(hot.above_upper == 6);
    CHECK(hot.above_median == 6);
  }

  TEST_CASE("the account's track record is reported once there is enough of it") {
    const auto steady = steady_ledger();
    const auto f = project(steady.ledger, Settings{}, at_hour(24 * 34 - 1));
    REQUIRE(f.track_record);
    CHECK(f.track_record->forecasts_checked >= 40);
    CHECK(f.track_record->p10_coverage == 0);
  }

  TEST_CASE("the measured trend is bounded") {
    const auto wild = SpendModel::from_weeks(70, 7, 1, 7);  // 70x in a week
    CHECK(wild.growth_per_day * 7 ==
          doctest::Approx(SpendModel::k_trend_damping * SpendModel::k_max_weekly_growth));
    const auto flat = SpendModel::from_weeks(70, 7, 70, 7);
    CHECK(flat.spend(3) == doctest::Approx(30));
    CHECK(SpendModel::from_weeks(0, 7, 70, 7).spend(3) == 0);
  }
}
