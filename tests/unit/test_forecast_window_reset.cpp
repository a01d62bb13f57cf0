// A quota window (unit `percent`) refilling at its announced reset: neither a deposit nor
// spend (forecast/ledger.hpp, Point::resets_at). The same rise without an announced reset,
// or before it, stays a deposit.
#include "creditwatch/forecast/forecaster.hpp"
#include "creditwatch/forecast/ledger.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::forecast::Point;
using creditwatch::forecast::SpendLedger;
using namespace std::chrono_literals;

namespace {

const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

Decimal percent(std::int64_t whole) { return Decimal::from_micros(whole * 1'000'000); }

// A 5-hour window from k_t0 used at 2 % every 10 minutes, read every 10 minutes until `until`;
// at k_t0 + 5h it refills to 100 % and the next window resets at k_t0 + 10h. With
// `announce` false the readings carry no reset time (as any wallet provider's).
SpendLedger window_ledger(std::chrono::minutes until, bool announce) {
  SpendLedger ledger;
  for (auto t = 0min; t <= until; t += 10min) {
    const bool second_window = t >= 5h;
    const auto used = 2 * ((second_window ? t - 5h : t) / 10min);
    const TimePoint reset = k_t0 + (second_window ? 10h : 5h);
    ledger.add(Point{k_t0 + t, percent(100 - used), std::nullopt,
                     announce ? std::optional<TimePoint>(reset) : std::nullopt});
  }
  return ledger;
}

}  // namespace

TEST_SUITE("forecast_window_reset") {
  TEST_CASE("a refill at the announced reset is neither a deposit nor spend") {
    const auto ledger = window_ledger(7h, true);
    CHECK(ledger.deposits_since(k_t0) == Decimal());
    CHECK(ledger.last_deposit() == Decimal());
    const auto w = ledger.window(k_t0, k_t0 + 8h);
    // 29 intervals of 2 % before the reset, 12 after it; the interval across it unobserved.
    CHECK(w.spend == doctest::Approx(58 + 24));
    CHECK(w.covered_days == doctest::Approx((4.0 + 50.0 / 60 + 2.0) / 24));
  }

  TEST_CASE("a reset moved later while the balance stood still keeps the use after the first time") {
    SpendLedger ledger;
    ledger.add(Point{k_t0, percent(40), std::nullopt, k_t0 + 1h});
    ledger.add(Point{k_t0 + 30min, percent(40), std::nullopt, k_t0 + 2h});  // the reset moved
    ledger.add(Point{k_t0 + 65min, percent(30), std::nullopt, k_t0 + 2h});
    const auto w = ledger.window(k_t0, k_t0 + 2h);
    CHECK(w.spend == doctest::Approx(10));
    CHECK(ledger.deposits_since(k_t0) == Decimal());
  }

  TEST_CASE("the reading that carries the refill is no deposit in the forecast either") {
    const auto ledger = window_ledger(5h, true);
    const auto f = creditwatch::forecast::project(ledger, {}, k_t0 + 5h);
    CHECK(f.balance == percent(100));
    CHECK_FALSE(f.topped_up_last);
    CHECK(f.deposits == Decimal());
  }

  TEST_CASE("without an announced reset the same refill is a deposit") {
    const auto ledger = window_ledger(7h, false);
    CHECK(ledger.deposits_since(k_t0) > percent(50));
    const auto f = creditwatch::forecast::project(window_ledger(5h, false), {}, k_t0 + 5h);
    CHECK(f.topped_up_last);
  }

  TEST_CASE("a rise before the announced reset is still a deposit") {
    SpendLedger ledger;
    const TimePoint reset = k_t0 + 5h;
    ledger.add(Point{k_t0, percent(80), std::nullopt, reset});
    ledger.add(Point{k_t0 + 10min, percent(70), std::nullopt, reset});
    // A plan upgrade an hour before the reset: more quota now, which is a deposit.
    ledger.add(Point{k_t0 + 4h, percent(90), std::nullopt, reset});
    CHECK(ledger.last_deposit() > Decimal());
    CHECK(ledger.deposits_since(k_t0) > Decimal());
  }

  TEST_CASE("the announced reset survives a snapshot") {
    SpendLedger ledger;
    const TimePoint reset = k_t0 + 5h;
    ledger.add(Point{k_t0 + 4h + 40min, percent(30), std::nullopt, reset});
    ledger.add(Point{k_t0 + 4h + 50min, percent(20), std::nullopt, reset});
    auto restored = SpendLedger::restore(ledger.serialize());
    REQUIRE(restored.has_value());
    REQUIRE(restored->last().has_value());
    REQUIRE(restored->last()->resets_at.has_value());
    CHECK(*restored->last()->resets_at == reset);
    restored->add(Point{k_t0 + 5h + 10min, percent(98), std::nullopt, k_t0 + 10h});
    CHECK(restored->last_deposit() == Decimal());
    CHECK(restored->deposits_since(k_t0) == Decimal());
  }

  TEST_CASE("a snapshot without reset times reads as before") {
    SpendLedger ledger;
    ledger.add(Point{k_t0, percent(30), Decimal::from_micros(5), std::nullopt});
    ledger.add(Point{k_t0 + 10min, percent(20), Decimal::from_micros(7), std::nullopt});
    auto restored = SpendLedger::restore(ledger.serialize());
    REQUIRE(restored.has_value());
    CHECK_FALSE(restored->last()->resets_at.has_value());
    CHECK(restored->serialize() == ledger.serialize());
  }
}
