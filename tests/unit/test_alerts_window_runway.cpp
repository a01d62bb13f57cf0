// The runway rule for a quota window (alerts/window_runway.hpp): the question is whether the
// window runs out before it resets, and the words say when each happens.
#include "creditwatch/alerts/rules.hpp"
#include "creditwatch/common/duration.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <map>

using namespace creditwatch;
using namespace creditwatch::alerts;
using namespace std::chrono_literals;

namespace {

const TimePoint k_now = from_unix_ms(1'777'593'600'000);

double days(Duration d) { return std::chrono::duration<double>(d).count() / 86400.0; }

// A 5-hour window read at k_now with `percent` left, resetting in 2 h 10 min, whose median
// and P10 runways are the given spans (nullopt: no use seen).
Observation window(const char* percent, std::optional<Duration> p50, std::optional<Duration> p10) {
  Observation o;
  o.at = k_now;
  o.window_label = "5-hour window";
  forecast::Forecast f;
  f.balance = *Decimal::parse(percent);
  f.at = k_now;
  f.window_resets_at = k_now + 2h + 10min;
  if (p50) {
    f.runway_days = days(*p50);
    f.exhausted_at = k_now + *p50;
    f.runs_out_before_reset = *f.exhausted_at < *f.window_resets_at;
  }
  if (p10) f.runway_p10_days = days(*p10);
  o.forecast = f;
  return o;
}

Finding runway_of(const Observation& o, const std::map<Rule, Severity>& firing = {}) {
  for (const auto& f : evaluate(o, Thresholds{}, firing)) {
    if (f.rule == Rule::runway) return f;
  }
  FAIL("no runway finding");
  return {};
}

}  // namespace

TEST_SUITE("alerts_window_runway") {
  TEST_CASE("a window the median burn empties before its reset pages, saying when each happens") {
    const auto f = runway_of(window("12", 40min, 30min));
    CHECK(f.firing);
    CHECK(f.severity == Severity::critical);
    CHECK(f.summary == "5-hour window: 12 % left, runs out in 40 minutes, resets in 2 h 10 min");
  }

  TEST_CASE("only the P10 runway ending before the reset warns") {
    const auto f = runway_of(window("55.5", 3h, 1h + 5min));
    CHECK(f.firing);
    CHECK(f.severity == Severity::warning);
    CHECK(f.summary == "5-hour window: 55.5 % left, may run out in 1 h 5 min, resets in 2 h 10 min");
  }

  TEST_CASE("a window that lasts until its reset does not fire, however short in days") {
    // Wallet rules would page: 4 hours is far under critical_days.
    const auto f = runway_of(window("60", 5h, 4h));
    CHECK_FALSE(f.firing);
    CHECK(f.summary == "5-hour window: 60 % left, lasts until it resets in 2 h 10 min");
  }

  TEST_CASE("a tiny burn whose runway is millennia lasts until the reset, without overflow") {
    auto o = window("99", std::nullopt, std::nullopt);
    o.forecast->runway_days = 1e9;
    o.forecast->runway_p10_days = 1e9;
    const auto f = runway_of(o);
    CHECK_FALSE(f.firing);
    CHECK(f.summary == "5-hour window: 99 % left, lasts until it resets in 2 h 10 min");
  }

  TEST_CASE("no use yet says so") {
    const auto f = runway_of(window("100", std::nullopt, std::nullopt));
    CHECK_FALSE(f.firing);
    CHECK(f.summary == "5-hour window: 100 % left, no use yet, resets in 2 h 10 min");
  }

  TEST_CASE("a firing window alert holds until its runway clears the reset by the hysteresis margin") {
    // Resets in 130 minutes; the default margin is 10 %, so a level holds below 143 minutes.
    const std::map<Rule, Severity> warning = {{Rule::runway, Severity::warning}};
    const std::map<Rule, Severity> critical = {{Rule::runway, Severity::critical}};
    SUBCASE("a warning") {
      CHECK_FALSE(runway_of(window("50", 4h, 135min)).firing);
      const auto held = runway_of(window("50", 4h, 135min), warning);
      CHECK(held.firing);
      CHECK(held.severity == Severity::warning);
      CHECK(held.summary == "5-hour window: 50 % left, may run out in 2 h 15 min, resets in 2 h 10 min");
      CHECK_FALSE(runway_of(window("50", 4h, 145min), warning).firing);
    }
    SUBCASE("a page") {
      CHECK(runway_of(window("50", 135min, 100min)).severity == Severity::warning);
      const auto held = runway_of(window("50", 135min, 100min), critical);
      CHECK(held.firing);
      CHECK(held.severity == Severity::critical);
      CHECK(held.summary == "5-hour window: 50 % left, may run out in 2 h 15 min, resets in 2 h 10 min");
      const auto eased = runway_of(window("50", 145min, 100min), critical);
      CHECK(eased.firing);
      CHECK(eased.severity == Severity::warning);
    }
  }

  TEST_CASE("describe_span words minutes, hours and days") {
    CHECK(describe_span(30s) == "under a minute");
    CHECK(describe_span(1min) == "1 minute");
    CHECK(describe_span(40min) == "40 minutes");
    CHECK(describe_span(2h) == "2 h");
    CHECK(describe_span(2h + 10min + 59s) == "2 h 10 min");
    CHECK(describe_span(76h) == "3 d 4 h");
    CHECK(describe_span(48h) == "2 d");
  }
}

TEST_SUITE("alerts_window_runway_units") {
  TEST_CASE("a window counted in characters says how many are left, not a percent") {
    auto o = window("4200", 40min, 30min);
    o.window_label = "";
    o.currency = "characters";
    const auto f = runway_of(o);
    CHECK(f.firing);
    CHECK(f.summary == "quota window: 4200 characters left, runs out in 40 minutes, resets in 2 h 10 min");
  }

  TEST_CASE("the unit percent keeps the percent wording") {
    auto o = window("12", 40min, 30min);
    o.currency = "percent";
    CHECK(runway_of(o).summary == "5-hour window: 12 % left, runs out in 40 minutes, resets in 2 h 10 min");
  }
}
