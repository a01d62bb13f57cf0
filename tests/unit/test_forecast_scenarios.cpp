// Crafted spend series fed through the incremental SpendLedger, the forecaster and the alert
// rules, one reading at a time as the daemon does: the situations issue 6 names (steady,
// top-up mid-window, weekend dip, one huge burst, flat then sudden spend, dropped samples,
// cent rounding, spike detection).
#include "creditwatch/alerts/rules.hpp"
#include "creditwatch/forecast/forecaster.hpp"
#include "creditwatch/forecast/ledger.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::alerts::evaluate;
using creditwatch::alerts::Observation;
using creditwatch::alerts::Rule;
using creditwatch::alerts::Severity;
using creditwatch::alerts::Thresholds;
using creditwatch::forecast::Forecast;
using creditwatch::forecast::Point;
using creditwatch::forecast::project;
using creditwatch::forecast::Settings;
using creditwatch::forecast::SpendLedger;

namespace {

// 2026-05-01T00:00:00Z, a Friday.
const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

TimePoint at_minutes(double minutes) {
  return k_t0 + std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(minutes * 60.0));
}

struct Scenario {
  double start_balance = 1000;
  double days = 14;
  double step_minutes = 10;
  std::function<double(double day)> rate = [](double) { return 10.0; };  // spend per day at `day`
  std::function<double(double day)> deposit = [](double) { return 0.0; };  // deposited in the step ending at `day`
  std::function<bool(long step)> dropped = [](long) { return false; };
  bool round_to_cents = false;
};

// Replays a scenario reading by reading; `each` sees the forecast after every kept reading.
Forecast replay(const Scenario& s, const std::function<void(const Forecast&, double day)>& each = nullptr) {
  SpendLedger ledger;
  Settings settings;
  double balance = s.start_balance;
  const long steps = static_cast<long>(std::llround(s.days * 1440 / s.step_minutes));
  Forecast last;
  for (long i = 0; i <= steps; ++i) {
    const double day = i * s.step_minutes / 1440;
    if (i > 0) {
      // Midpoint rule: the spend over the step that just ended.
      const double mid = day - s.step_minutes / 2880;
      balance = std::max(0.0, balance - s.rate(mid) * s.step_minutes / 1440);
      balance += s.deposit(day);
    }
    if (s.dropped(i)) continue;
    const double shown = s.round_to_cents ? std::round(balance * 100) / 100 : balance;
    const TimePoint at = at_minutes(day * 1440);
    ledger.add(Point{at, Decimal::from_double(shown), std::nullopt});
    last = project(ledger, settings, at);
    if (each) each(last, day);
  }
  return last;
}

// The runway alert's severity for a forecast, given what fires (nullopt when it is quiet).
std::optional<Severity> runway_severity(const Forecast& f, const std::map<Rule, Severity>& firing) {
  Observation o;
  o.at = f.at;
  o.forecast = f;
  for (const auto& finding : evaluate(o, Thresholds{}, firing)) {
    if (finding.rule == Rule::runway && finding.firing) return finding.severity;
  }
  return std::nullopt;
}

// Replays a scenario through the rules and returns the day of each spend_spike onset.
std::vector<double> spike_onsets(const Scenario& s) {
  std::map<Rule, Severity> firing;
  std::vector<double> onsets;
  Thresholds thresholds;
  replay(s, [&](const Forecast& f, double day) {
    Observation o;
    o.at = f.at;
    o.forecast = f;
    for (const auto& finding : evaluate(o, thresholds, firing)) {
      if (finding.rule != Rule::spend_spike) continue;
      if (finding.firing) {
        if (!firing.count(Rule::spend_spike)) onsets.push_back(day);
        firing[Rule::spend_spike] = finding.severity;
      } else {
        firing.erase(Rule::spend_spike);
      }
    }
  });
  return onsets;
}

void check_p10_not_above_p50(const Forecast& f) {
  if (f.runway_days) {
    REQUIRE(f.runway_p10_days.has_value());
    CHECK(*f.runway_p10_days <= *f.runway_days + 1e-9);
    CHECK(*f.runway_p10_days >= 0);
  } else {
    CHECK_FALSE(f.runway_p10_days.has_value());
  }
}

}  // namespace

TEST_SUITE("forecast_scenarios") {
  TEST_CASE("steady spend: burn and runway match the truth") {
    Scenario s;
    const auto f = replay(s, [](const Forecast& g, double) { check_p10_not_above_p50(g); });
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(10).epsilon(0.03));
    REQUIRE(f.runway_days);
    CHECK(*f.runway_days == doctest::Approx(f.balance.to_double() / 10).epsilon(0.03));
    REQUIRE(f.runway_p10_days);
    CHECK(*f.runway_p10_days > 0.7 * *f.runway_days);
  }

  TEST_CASE("a top-up in the middle of the window leaves the burn unchanged") {
    Scenario s;
    s.deposit = [](double day) { return std::abs(day - 7.0) < 1e-9 ? 500.0 : 0.0; };
    bool saw_deposit = false;
    const auto f = replay(s, [&](const Forecast& g, double day) {
      check_p10_not_above_p50(g);
      if (day > 2 && g.burn_per_day) CHECK(*g.burn_per_day == doctest::Approx(10).epsilon(0.05));
      saw_deposit = saw_deposit || g.topped_up_last;
    });
    CHECK(saw_deposit);
    REQUIRE(f.runway_days);
    CHECK(*f.runway_days == doctest::Approx((1000 + 500 - 140) / 10.0).epsilon(0.05));
  }

  TEST_CASE("weekend dip: the runway does not jump on a Sunday") {
    // Weekdays 10/day, weekends 2/day; k_t0 is a Friday, so day 2 and 3 are Sat and Sun.
    Scenario s;
    s.days = 30;  // ends on Sunday 2026-05-31 00:00 (after three... four full weekends)
    s.start_balance = 3000;
    s.rate = [](double day) {
      const int weekday = (static_cast<int>(std::floor(day)) + 4) % 7;  // 0 = Monday
      return weekday >= 5 ? 2.0 : 10.0;
    };
    const double weekly_average = (5 * 10.0 + 2 * 2.0) / 7;
    double worst_ratio = 0;
    replay(s, [&](const Forecast& f, double day) {
      check_p10_not_above_p50(f);
      if (day < 8 || !f.runway_days) return;
      worst_ratio = std::max(worst_ratio, *f.runway_days / (f.balance.to_double() / weekly_average));
    });
    // At worst (late Sunday) the runway may lean on the quiet days a little, never a lot.
    CHECK(worst_ratio < 1.5);
  }

  TEST_CASE("one huge one-hour burst barely moves the burn") {
    Scenario s;
    s.days = 14;
    // Five days' worth of spend within one hour on day 10.
    s.rate = [](double day) { return day >= 10 && day < 10 + 1.0 / 24 ? 10.0 + 50.0 * 24 : 10.0; };
    replay(s, [](const Forecast& f, double day) {
      check_p10_not_above_p50(f);
      if (day >= 10 + 3.0 / 24 && f.burn_per_day) CHECK(*f.burn_per_day < 10 * 1.5);
    });
    const auto f = replay(s);
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(10).epsilon(0.25));
  }

  TEST_CASE("flat, then sudden sustained spend: the forecast follows within hours") {
    Scenario s;
    s.days = 14;
    s.start_balance = 2000;
    s.rate = [](double day) { return day < 10 ? 0.0 : 50.0; };
    replay(s, [](const Forecast& f, double day) {
      check_p10_not_above_p50(f);
      if (day < 10) {
        CHECK_FALSE(f.runway_days.has_value());
      } else if (day >= 10 + 6.0 / 24) {
        REQUIRE(f.burn_per_day);
        CHECK(*f.burn_per_day <= 1.5 * 50);
        if (day <= 11) {
          // The leak reaction follows the jump within hours.
          CHECK(*f.burn_per_day >= 0.7 * 50);
        } else {
          // Once the settled burn has climbed past a third of the new level, the new level no
          // longer counts as a surge and the level shift takes over: it follows the lower of
          // the 24 h and 72 h rates, which still hold quiet days, so the burn dips to about
          // 60 % of the new level for a day before it climbs back (it sagged to about a third
          // before the shift was measured with lumps capped and added to the plain mean).
          CHECK(*f.burn_per_day >= 0.55 * 50);
        }
      }
    });
  }

  TEST_CASE("a surge's age is counted past the six hours of readings kept") {
    Scenario s;
    s.days = 8 + 10.0 / 24;  // 20 a day for eight days, then 15x for the last ten hours
    s.start_balance = 5000;
    s.rate = [](double day) { return day < 8 ? 20.0 : 300.0; };
    const auto f = replay(s);
    CHECK(f.surge_hours == doctest::Approx(10).epsilon(0.1));
  }

  TEST_CASE("an earlier burst with normal spend after it does not age a new surge") {
    Scenario s;
    const double end = 8 + 10.0 / 24;
    s.days = end;
    s.start_balance = 5000;
    // A 300/day job from 8.5 to 5.5 hours before the end, back to 20/day, then 600/day for
    // the last 2.5 hours.
    s.rate = [=](double day) {
      const double hours_left = (end - day) * 24;
      if (hours_left < 2.5) return 600.0;
      if (hours_left >= 5.5 && hours_left < 8.5) return 300.0;
      return 20.0;
    };
    const auto f = replay(s);
    CHECK(f.surge_hours == doctest::Approx(2.5).epsilon(0.15));
  }

  TEST_CASE("a burst that is over does not move the burn the next day") {
    Scenario s;
    s.days = 14;
    s.start_balance = 5000;
    // A steady 10 a day with a 4-hour 12x burst on day 12 (a retry loop that was fixed). The
    // 24 h and 72 h windows still hold the burst for days, and are followed on purpose (late
    // costs more than early), but half a day later it must not count as a new level.
    s.rate = [](double day) { return day >= 12 && day < 12 + 4.0 / 24 ? 120.0 : 10.0; };
    replay(s, [](const Forecast& f, double day) {
      if (day >= 12.5 && f.burn_per_day) CHECK(*f.burn_per_day < 10 * 2);
    });
  }

  TEST_CASE("a short cluster of lumps is let go of once it is over") {
    Scenario s;
    s.days = 10;
    s.start_balance = 5000;
    // 10 a day, then on day 9 four lumps spread over two hours. While it lasts it cannot be
    // told from a leak; an hour after the last lump the burn must be back near 10.
    s.rate = [](double day) {
      const double minute = (day - 9) * 1440;
      const bool lump = minute >= 0 && minute < 120 && std::fmod(minute, 30.0) < 10;
      return lump ? 1500.0 : 10.0;
    };
    replay(s, [](const Forecast& f, double day) {
      if (day >= 9 + 3.0 / 24 && f.burn_per_day) {
        INFO("day " << day);
        CHECK(*f.burn_per_day < 10 * 3);
      }
    });
  }

  TEST_CASE("dropped samples and an outage do not distort the burn") {
    Scenario s;
    s.days = 14;
    s.dropped = [](long i) { return i % 5 == 3 || (i >= 1000 && i < 1036); };  // 20 % lost, one 6 h gap
    const auto f = replay(s, [](const Forecast& g, double) { check_p10_not_above_p50(g); });
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(10).epsilon(0.05));
  }

  TEST_CASE("cent rounding of a small spend does not distort the burn") {
    Scenario s;
    s.days = 14;
    s.step_minutes = 5;
    s.start_balance = 50;
    s.rate = [](double) { return 1.0; };  // 0.35 cents per sample
    s.round_to_cents = true;
    const auto f = replay(s, [](const Forecast& g, double) { check_p10_not_above_p50(g); });
    REQUIRE(f.burn_per_day);
    CHECK(*f.burn_per_day == doctest::Approx(1).epsilon(0.05));
    REQUIRE(f.runway_days);
    CHECK(*f.runway_days == doctest::Approx(36).epsilon(0.06));
  }

  TEST_CASE("P10 never exceeds P50 on a noisy, bursty series") {
    Scenario s;
    s.days = 40;
    s.start_balance = 5000;
    // Deterministic pseudo-noise: daily cycle, lumps, quiet days, a level change.
    s.rate = [](double day) {
      const double cycle = 1 + 0.8 * std::sin(day * 2 * M_PI);
      const double lump = std::fmod(day * 7.31, 1.0) < 0.02 ? 40 : 0;
      const double level = day > 25 ? 3 : 1;
      const bool quiet = static_cast<int>(day) % 9 == 4;
      return quiet ? 0.0 : level * (10 * cycle + lump);
    };
    s.deposit = [](double day) { return std::abs(day - 20) < 1e-9 ? 2000.0 : 0.0; };
    s.round_to_cents = true;
    replay(s, [](const Forecast& f, double) { check_p10_not_above_p50(f); });
  }

  TEST_CASE("an account that spent down to zero has a runway of zero, however long it sits there") {
    // 10 a day: empty on day 3, then at zero past a whole burn window.
    Scenario s;
    s.start_balance = 30;
    const auto f = replay(s);
    REQUIRE(f.runway_days.has_value());
    CHECK(*f.runway_days == 0);
    CHECK(*f.runway_p10_days == 0);
    // The burn is the one before it ran dry, so the top-up figure is still there.
    REQUIRE(f.burn_per_day.has_value());
    CHECK(*f.burn_per_day == doctest::Approx(10).epsilon(0.2));
    CHECK(f.recommended_topup > Decimal::from_double(300));
    CHECK(runway_severity(f, {}) == Severity::critical);

    Scenario never_spent;
    never_spent.start_balance = 0;
    never_spent.rate = [](double) { return 0.0; };
    CHECK_FALSE(replay(never_spent).runway_days.has_value());  // no spend: no runway at all
  }

  TEST_CASE("a tiny top-up after nine days at zero buys hours, and the runway alert stays critical") {
    Scenario s;
    s.start_balance = 30;  // 10 a day: empty on day 3
    s.days = 12.5;
    s.deposit = [](double day) { return std::abs(day - 12) < 1e-9 ? 0.5 : 0.0; };
    std::map<Rule, Severity> firing;
    bool left_critical = false;
    std::optional<double> runway_after_topup;
    replay(s, [&](const Forecast& f, double day) {
      if (day < 3.5) return;
      if (std::abs(day - 12) < 1e-9) runway_after_topup = f.runway_days;
      const auto severity = runway_severity(f, firing);
      if (firing.count(Rule::runway) && severity != Severity::critical) left_critical = true;
      if (severity) firing[Rule::runway] = *severity; else firing.erase(Rule::runway);
    });
    REQUIRE(runway_after_topup.has_value());
    CHECK(*runway_after_topup == doctest::Approx(0.05).epsilon(0.3));  // 0.5 at 10 a day
    CHECK_FALSE(left_critical);
  }

  TEST_CASE("spend_spike fires within 30 minutes of a sustained 10x jump") {
    Scenario s;
    s.days = 8;
    s.step_minutes = 5;
    s.start_balance = 10000;
    const double jump_day = 7.5;
    s.rate = [=](double day) { return day < jump_day ? 20.0 : 200.0; };
    const auto onsets = spike_onsets(s);
    REQUIRE(!onsets.empty());
    CHECK(onsets.front() >= jump_day);
    CHECK((onsets.front() - jump_day) * 1440 <= 30);
  }

  TEST_CASE("spend_spike stays quiet on a 2x daily peak") {
    Scenario s;
    s.days = 21;
    s.step_minutes = 5;
    s.start_balance = 10000;
    // Peaks at twice the mean for a few hours every afternoon, near zero at night.
    s.rate = [](double day) { return 20.0 * (1 + std::sin((day - 0.3) * 2 * M_PI)); };
    CHECK(spike_onsets(s).empty());
  }

  TEST_CASE("spend_spike learns a nightly batch job and still fires on a leak beside it") {
    Scenario s;
    s.days = 21;
    s.step_minutes = 5;
    s.start_balance = 100000;
    // 7/day of chat traffic, and a 90-minute job at 02:00 that spends 3 more: its hour runs
    // about 6x the day's mean. On day 18 a leaked key adds 10x the mean from 14:00 on.
    const double leak_day = 18 + 14.0 / 24;
    s.rate = [=](double day) {
      const double hour = (day - std::floor(day)) * 24;
      const double job = hour >= 2 && hour < 3.5 ? 3.0 * 24 / 1.5 : 0.0;
      return 7.0 + job + (day >= leak_day ? 100.0 : 0.0);
    };
    const auto onsets = spike_onsets(s);
    // The first nights, before three days of history, may fire; none after that but the leak.
    std::vector<double> later;
    for (double day : onsets) {
      if (day >= 3.5) later.push_back(day);
    }
    REQUIRE(later.size() == 1);
    CHECK(later.front() >= leak_day);
    CHECK((later.front() - leak_day) * 1440 <= 30);
  }
}
