#include "creditwatch/forecast/ledger.hpp"

#include <doctest/doctest.h>

#include <chrono>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::forecast::SpendLedger;
using namespace std::chrono_literals;

namespace {

const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

// Readings every `step` for `span`, spending `per_second` (in micros) each second, and ten
// times that during [spike_from, span).
SpendLedger fast_ledger(std::chrono::seconds step, std::chrono::seconds span, std::chrono::seconds spike_from) {
  SpendLedger ledger;
  std::int64_t balance = 1'000'000'000'000;
  for (auto t = 0s; t <= span; t += step) {
    ledger.add({k_t0 + t, Decimal::from_micros(balance), std::nullopt});
    balance -= (t >= spike_from ? 10'000 : 1'000) * step.count();
  }
  return ledger;
}

}  // namespace

TEST_SUITE("forecast_ledger") {
  TEST_CASE("a 1 s probe interval keeps a bounded number of segments") {
    const auto ledger = fast_ledger(1s, 6h, 6h);
    CHECK(ledger.segment_count() <= SpendLedger::k_max_segments);
    CHECK(ledger.segment_count() > SpendLedger::k_max_segments / 2);
  }

  TEST_CASE("thinned segments keep the spend and the covered time") {
    const TimePoint end = k_t0 + 6h;
    // 0.001 per second; a spike of 0.01 per second in the last ten minutes.
    const auto ledger = fast_ledger(1s, 6h, 6h - 10min);
    const auto six_hours = ledger.recent(end - 6h + 1min, end);
    CHECK(six_hours.covered_days * 24 * 60 == doctest::Approx(359).epsilon(0.01));
    CHECK(six_hours.spend == doctest::Approx((350 * 60 * 0.001) + (10 * 60 * 0.01)).epsilon(0.01));
    // The newest readings are exact: the spike is seen at full size.
    const auto last_five = ledger.recent(end - 5min, end);
    CHECK(last_five.spend == doctest::Approx(5 * 60 * 0.01).epsilon(0.001));
    // Segments span about a tenth of their age, so the spike's start (ten minutes back)
    // is not smeared into the hour before it.
    const auto before_spike = ledger.recent(end - 2h, end - 1h);
    CHECK(before_spike.spend == doctest::Approx(3600 * 0.001).epsilon(0.001));
    CHECK(before_spike.covered_days * 24 == doctest::Approx(1).epsilon(0.001));
  }

  TEST_CASE("at a 1 s interval resolution falls with age: exact seconds now, minutes hours back") {
    const auto ledger = fast_ledger(1s, 6h, 6h);
    const auto end_ms = creditwatch::to_unix_ms(k_t0 + 6h);
    std::size_t newest_exact = 0;
    for (const auto& s : ledger.segments()) {
      const auto age_ms = end_ms - s.to_ms;
      const auto length_ms = s.to_ms - s.from_ms;
      CAPTURE(age_ms);
      CAPTURE(length_ms);
      if (age_ms < 10'000) {
        CHECK(length_ms == 1'000);
        ++newest_exact;
      } else {
        CHECK(length_ms <= age_ms / 4);
      }
    }
    CHECK(newest_exact == 10);
    // Six hours are still covered.
    CHECK(ledger.segments().front().from_ms <= end_ms - 5 * 3'600'000);
  }

  TEST_CASE("five-minute readings are never thinned") {
    const auto ledger = fast_ledger(300s, 6h, 6h);
    CHECK(ledger.segment_count() == 72);
  }
}
