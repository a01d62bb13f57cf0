#include "creditwatch/forecast/forecaster.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::forecast::Forecast;
using creditwatch::forecast::Point;
using creditwatch::forecast::project;
using creditwatch::forecast::round_up_topup;
using creditwatch::forecast::Settings;
using namespace std::chrono_literals;

namespace {

// 2026-05-01T00:00:00Z
const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);
constexpr auto k_day = std::chrono::hours(24);

Decimal dec(double value) { return Decimal::from_double(value); }

Point at_day(double day, double balance, std::optional<double> spend = std::nullopt) {
  const auto offset = std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(day * 86400.0));
  return Point{k_t0 + offset, dec(balance), spend ? std::optional<Decimal>(dec(*spend)) : std::nullopt};
}

Forecast run(const std::vector<Point>& history, const Settings& settings = {}) {
  return project(history, settings, history.empty() ? k_t0 : history.back().at);
}

double lead_days(const Settings& settings) {
  return std::chrono::duration<double>(settings.topup_lead_time).count() / 86400;
}

// The recommended top-up is a figure people would pay (two significant digits) that brings
// the runway at the median burn to at least target_days plus the lead time, without
// overshooting wildly (a margin for uncertainty is allowed).
void check_topup(const Forecast& f, const Settings& settings) {
  REQUIRE(f.burn_per_day);
  const double horizon = settings.target_days + lead_days(settings);
  const double balance = std::max(0.0, f.balance.to_double());
  const Decimal least = round_up_topup(*f.burn_per_day * horizon - balance);
  CHECK(f.recommended_topup >= least);
  CHECK(f.recommended_topup <= round_up_topup(1.25 * *f.burn_per_day * horizon - balance));
  CHECK(round_up_topup(f.recommended_topup.to_double()) == f.recommended_topup);
}

}  // namespace

TEST_SUITE("forecast_forecaster") {
  TEST_CASE("steady spend gives the exact burn rate and runway") {
    const std::vector<Point> history = {at_day(0, 100), at_day(1, 90), at_day(2, 80), at_day(3, 70)};
    const auto f = run(history);
    REQUIRE(f.burn_per_day.has_value());
    CHECK(*f.burn_per_day == doctest::Approx(10.0));
    REQUIRE(f.runway_days.has_value());
    CHECK(*f.runway_days == doctest::Approx(7.0));
    CHECK(f.balance == dec(70));
    CHECK(f.at == history.back().at);
    CHECK(f.samples_used == 4);
    CHECK(f.deposits == Decimal());
    CHECK_FALSE(f.topped_up_last);
    CHECK(f.note.empty());
    REQUIRE(f.exhausted_at.has_value());
    CHECK(std::chrono::abs(*f.exhausted_at - (history.back().at + 7 * k_day)) < 1s);
    SUBCASE("the conservative runway never exceeds the median") {
      REQUIRE(f.runway_p10_days.has_value());
      CHECK(*f.runway_p10_days <= *f.runway_days);
    }
    SUBCASE("the recommended top-up covers target_days plus the lead time") {
      // At least 10/day * (30 + 2) days - 70 = 250.
      CHECK(f.recommended_topup >= dec(250));
      check_topup(f, Settings{});
    }
  }

  TEST_CASE("hourly readings give the same daily burn") {
    std::vector<Point> history;
    for (int hour = 0; hour <= 48; ++hour) history.push_back(at_day(hour / 24.0, 100 - hour * 0.5));
    const auto f = run(history);
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(12.0));
    CHECK(*f.runway_days == doctest::Approx(76.0 / 12.0));
  }

  TEST_CASE("a top-up in the window is a deposit, not negative spend") {
    // 10/day all along; 100 paid in a minute after day 2.
    const double minute = 1.0 / 1440;
    std::vector<Point> history = {at_day(0, 100),          at_day(1, 90),  at_day(2, 80),
                                  at_day(2 + minute, 180), at_day(3, 170), at_day(4, 160)};
    // The spend of the deposit minute may be estimated, so allow that much (0.01).
    const auto f = run(history);
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(10.0).epsilon(0.005));
    CHECK(f.deposits.to_double() == doctest::Approx(100.0).epsilon(0.0005));
    CHECK_FALSE(f.topped_up_last);
    CHECK(*f.runway_days == doctest::Approx(16.0).epsilon(0.005));
    SUBCASE("topped_up_last when the latest reading is the deposit") {
      history.resize(4);
      const auto g = run(history);
      CHECK(g.topped_up_last);
      CHECK(g.deposits.to_double() == doctest::Approx(100.0).epsilon(0.0005));
      REQUIRE(g.burn_per_day);
      CHECK(*g.burn_per_day == doctest::Approx(10.0).epsilon(0.005));
    }
  }

  TEST_CASE("a flat balance has no spend yet") {
    const auto f = run({at_day(0, 50), at_day(1, 50), at_day(2, 50)});
    CHECK_FALSE(f.burn_per_day.has_value());
    CHECK_FALSE(f.runway_days.has_value());
    CHECK_FALSE(f.runway_p10_days.has_value());
    CHECK_FALSE(f.exhausted_at.has_value());
    CHECK(f.note == "no spend yet");
    CHECK(f.balance == dec(50));
    CHECK(f.recommended_topup == Decimal());
    CHECK(f.samples_used == 3);
  }

  TEST_CASE("a rising-only balance has deposits and no spend") {
    const auto f = run({at_day(0, 50), at_day(1, 60)});
    CHECK_FALSE(f.burn_per_day.has_value());
    CHECK(f.deposits == dec(10));
    CHECK(f.topped_up_last);
    CHECK(f.note == "no spend yet");
  }

  TEST_CASE("two samples with spend project immediately") {
    const auto f = run({at_day(0, 100), at_day(1.0 / 24, 99)});
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(24.0));
    REQUIRE(f.runway_days);
    CHECK(*f.runway_days == doctest::Approx(99.0 / 24.0));
    CHECK(f.samples_used == 2);
  }

  TEST_CASE("one sample cannot project") {
    const auto f = run({at_day(0, 42)});
    CHECK_FALSE(f.burn_per_day.has_value());
    CHECK_FALSE(f.runway_days.has_value());
    CHECK(f.balance == dec(42));
    CHECK(f.samples_used == 1);
    CHECK(f.note == "one sample so far: no spend yet");
    CHECK_FALSE(f.topped_up_last);
  }

  TEST_CASE("no samples at all") {
    const auto f = run({});
    CHECK_FALSE(f.burn_per_day.has_value());
    CHECK(f.samples_used == 0);
    CHECK(f.note == "no samples yet");
  }

  TEST_CASE("two readings at the same instant cannot project") {
    const auto f = run({at_day(1, 100), at_day(1, 90)});
    CHECK_FALSE(f.burn_per_day.has_value());
    CHECK_FALSE(f.runway_days.has_value());
  }

  TEST_CASE("noisy samples give a burn rate within tolerance") {
    // Every 15 minutes for 5 days; the spend of each interval varies by up to 40% around
    // 10/day with an irregular pattern.
    std::vector<Point> history;
    double balance = 500;
    const double per_interval = 10.0 / 96;
    for (int i = 0; i <= 5 * 96; ++i) {
      history.push_back(at_day(i / 96.0, balance));
      const double wobble = 0.4 * std::sin(i * 1.7) * std::cos(i * 0.31);
      balance -= per_interval * (1 + wobble);
    }
    const auto f = run(history);
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(10.0).epsilon(0.05));
    REQUIRE(f.runway_days);
    CHECK(*f.runway_days == doctest::Approx(45.0).epsilon(0.05));
    CHECK(*f.runway_p10_days <= *f.runway_days);
    CHECK(f.deposits == Decimal());
  }

  TEST_CASE("the spend counter is preferred over the balance") {
    SUBCASE("counter rises while the balance lags") {
      const auto f = run({at_day(0, 100, 0), at_day(1, 100, 5), at_day(2, 100, 10)});
      REQUIRE(f.burn_per_day);
      CHECK(*f.burn_per_day == doctest::Approx(5.0));
      CHECK(*f.runway_days == doctest::Approx(20.0));
    }
    SUBCASE("counter and balance disagree: the counter wins") {
      const auto f = run({at_day(0, 100, 0), at_day(1, 80, 4), at_day(2, 60, 8)});
      REQUIRE(f.burn_per_day);
      CHECK(*f.burn_per_day == doctest::Approx(4.0));
      CHECK(f.deposits == Decimal());
    }
    SUBCASE("a deposit with the counter still running") {
      // 10 spent each day; 50 paid in on day 2: balance 90 -> 130.
      const auto f = run({at_day(0, 100, 0), at_day(1, 90, 10), at_day(2, 130, 20)});
      REQUIRE(f.burn_per_day);
      CHECK(*f.burn_per_day == doctest::Approx(10.0));
      CHECK(f.deposits == dec(50));
      CHECK(f.topped_up_last);
    }
    SUBCASE("a counter that goes backwards falls back to the balance") {
      const auto f = run({at_day(0, 100, 50), at_day(1, 90, 0)});
      REQUIRE(f.burn_per_day);
      CHECK(*f.burn_per_day == doctest::Approx(10.0));
    }
  }

  TEST_CASE("samples older than the burn window are ignored") {
    // 50/day for five days, then 10/day for two; a two-day window sees only the latter.
    std::vector<Point> history;
    for (int day = 0; day <= 5; ++day) history.push_back(at_day(day, 1000 - 50.0 * day));
    history.push_back(at_day(6, 740));
    history.push_back(at_day(7, 730));
    Settings settings;
    settings.burn_window = 2 * k_day;
    const auto f = run(history, settings);
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(10.0));
    CHECK(*f.runway_days == doctest::Approx(73.0));
    SUBCASE("a deposit before the window is not counted") {
      history.insert(history.begin() + 1, at_day(0.5, 2000));
      const auto g = run(history, settings);
      CHECK(g.deposits == Decimal());
      REQUIRE(g.burn_per_day);
      CHECK(*g.burn_per_day == doctest::Approx(10.0));
    }
    SUBCASE("a wider window sees the steeper spend") {
      const auto g = run(history);
      REQUIRE(g.burn_per_day);
      CHECK(*g.burn_per_day > 20.0);
    }
  }

  TEST_CASE("recommended top-up") {
    SUBCASE("at least burn * (target_days + lead days) - balance, in two significant digits") {
      // 14 spent in 2 days is 7/day; 7 * (30 + 2) - 13 = 211, rounded up to 220.
      const auto f = run({at_day(0, 27), at_day(1, 20), at_day(2, 13)});
      REQUIRE(f.burn_per_day);
      CHECK(*f.burn_per_day == doctest::Approx(7.0));
      CHECK(f.recommended_topup >= dec(220));
      check_topup(f, Settings{});
    }
    SUBCASE("target_days and the lead time are honoured") {
      const std::vector<Point> history = {at_day(0, 100), at_day(1, 90), at_day(2, 80)};
      Settings settings;
      settings.target_days = 10;
      settings.topup_lead_time = 0h;
      const auto short_target = run(history, settings);
      CHECK(short_target.recommended_topup >= dec(20));  // 10 * 10 - 80
      check_topup(short_target, settings);
      settings.topup_lead_time = 5 * k_day;
      const auto with_lead = run(history, settings);
      CHECK(with_lead.recommended_topup >= dec(70));  // 10 * 15 - 80
      check_topup(with_lead, settings);
      CHECK(with_lead.recommended_topup > short_target.recommended_topup);
      settings.target_days = 60;
      CHECK(run(history, settings).recommended_topup > with_lead.recommended_topup);
    }
    SUBCASE("nothing when the runway already reaches far beyond the target") {
      const auto f = run({at_day(0, 10000), at_day(1, 9999), at_day(2, 9998)});
      CHECK(f.recommended_topup == Decimal());
    }
    SUBCASE("an overdrawn balance counts as zero") {
      const auto f = run({at_day(0, 5), at_day(1, -5)});
      REQUIRE(f.runway_days);
      CHECK(*f.runway_days == doctest::Approx(0.0));
      CHECK(f.recommended_topup >= dec(320));  // 10 * 32 - 0
      check_topup(f, Settings{});
      REQUIRE(f.exhausted_at);
      CHECK(*f.exhausted_at == f.at);
    }
  }

  TEST_CASE("round_up_topup rounds up to two significant digits") {
    CHECK(round_up_topup(1234.5) == dec(1300));
    CHECK(round_up_topup(1200) == dec(1200));
    CHECK(round_up_topup(1201) == dec(1300));
    CHECK(round_up_topup(250) == dec(250));
    CHECK(round_up_topup(99.1) == dec(100));
    CHECK(round_up_topup(100) == dec(100));
    CHECK(round_up_topup(1000) == dec(1000));
    CHECK(round_up_topup(12) == dec(12));
    CHECK(round_up_topup(1.01) == dec(1.1));
    CHECK(round_up_topup(0.123) == dec(0.13));
    CHECK(round_up_topup(0.001) == dec(0.01));  // never below a cent
    CHECK(round_up_topup(0) == Decimal());
    CHECK(round_up_topup(-50) == Decimal());
  }

  TEST_CASE("the first day: the settled runway counts the spend so far as a day's") {
    // 10/day for six hours (2.5 spent). The median follows the rate; a new critical alert
    // needs the settled runway, which counts the 2.5 as a whole day's spend, so a busy first
    // morning does not page.
    std::vector<Point> history;
    for (int i = 0; i <= 36; ++i) history.push_back(at_day(i / 144.0, 100 - 10.0 * i / 144));
    const auto f = run(history);
    REQUIRE(f.runway_days);
    CHECK(*f.runway_days == doctest::Approx(97.5 / 10).epsilon(0.01));
    REQUIRE(f.settled_runway_days);
    CHECK(*f.settled_runway_days == doctest::Approx(97.5 / 2.5).epsilon(0.01));
    CHECK(f.first_day);
    SUBCASE("a burn window shorter than a day asks for the recent rate") {
      Settings settings;
      settings.burn_window = std::chrono::minutes(10);
      const auto g = run(history, settings);
      REQUIRE(g.settled_runway_days);
      REQUIRE(g.runway_days);
      CHECK(*g.settled_runway_days == doctest::Approx(*g.runway_days).epsilon(0.01));
      CHECK_FALSE(g.first_day);
    }
    SUBCASE("a full day observed is no longer the first day") {
      for (int i = 37; i <= 150; ++i) history.push_back(at_day(i / 144.0, 100 - 10.0 * i / 144));
      CHECK_FALSE(run(history).first_day);
    }
  }

  TEST_CASE("a tiny burn does not overflow the exhaustion date") {
    const auto f = run({at_day(0, 1'000'000), at_day(1, 999'999.99)});
    REQUIRE(f.runway_days);
    CHECK(*f.runway_days > 36500);
    CHECK_FALSE(f.exhausted_at.has_value());
  }
}
