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

  TEST_CASE("a snapshot restores the ledger it was taken from") {
    // Six weeks of 10-minute readings (the hourly ring has wrapped), with a top-up and a
    // spend counter on the last readings, so every part of the state is in the bytes.
    SpendLedger ledger;
    std::int64_t balance = 500'000'000;
    for (int i = 0; i < 6 * 7 * 144; ++i) {
      if (i == 3000) balance += 200'000'000;
      std::optional<Decimal> counter;
      if (i > 6 * 7 * 144 - 10) counter = Decimal::from_micros(1'000'000 + i * 50);
      ledger.add({k_t0 + std::chrono::minutes(10 * i), Decimal::from_micros(balance), counter});
      balance -= 9'000 + (i % 24) * 700;
    }
    const std::string bytes = ledger.serialize();
    const auto restored = SpendLedger::restore(bytes);
    REQUIRE(restored.has_value());
    CHECK(restored->serialize() == bytes);
    const TimePoint end = ledger.last()->at;
    CHECK(restored->last()->at == end);
    CHECK(restored->points() == ledger.points());
    CHECK(restored->deposits_since(k_t0) == ledger.deposits_since(k_t0));
    CHECK(restored->segment_count() == ledger.segment_count());
    for (auto from = end - 24h * 36; from < end; from += 1h) {
      const auto a = ledger.window(from, from + 1h);
      const auto b = restored->window(from, from + 1h);
      CHECK(a.spend == b.spend);
      CHECK(a.covered_days == b.covered_days);
    }
    CHECK(restored->daily_spend(end, 35) == ledger.daily_spend(end, 35));
    // The restored ring keeps turning as the original does.
    SpendLedger live = ledger;
    SpendLedger resumed = *restored;
    for (int i = 1; i <= 300; ++i) {
      const creditwatch::forecast::Point p{end + std::chrono::minutes(10 * i), Decimal::from_micros(balance - i * 10'000), std::nullopt};
      live.add(p);
      resumed.add(p);
    }
    CHECK(resumed.serialize() == live.serialize());
  }

  TEST_CASE("a snapshot that is truncated, garbage or another version is refused") {
    SpendLedger ledger;
    for (int i = 0; i < 500; ++i) {
      ledger.add({k_t0 + std::chrono::minutes(7 * i), Decimal::from_micros(1'000'000'000 - i * 3'000), std::nullopt});
    }
    const std::string bytes = ledger.serialize();
    REQUIRE(SpendLedger::restore(bytes).has_value());
    SUBCASE("every truncation") {
      for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        CHECK_FALSE(SpendLedger::restore(std::string_view(bytes).substr(0, n)).has_value());
      }
    }
    SUBCASE("trailing bytes") { CHECK_FALSE(SpendLedger::restore(bytes + "x").has_value()); }
    SUBCASE("another version") {
      std::string other = bytes;
      other[4] = static_cast<char>(SpendLedger::k_snapshot_version + 1);
      CHECK_FALSE(SpendLedger::restore(other).has_value());
    }
    SUBCASE("not a snapshot") {
      CHECK_FALSE(SpendLedger::restore("").has_value());
      CHECK_FALSE(SpendLedger::restore("hello, world").has_value());
      CHECK_FALSE(SpendLedger::restore(std::string(bytes.size(), '\xff')).has_value());
    }
    SUBCASE("a count larger than the ledger keeps") {
      // The bucket count follows the header: magic, version, three points, deposit, total,
      // points, first hour.
      std::string huge = bytes;
      const std::size_t at = 4 + 1 + 17 + 17 + 17 + 8 + 8 + 8 + 8;
      REQUIRE(static_cast<unsigned char>(huge[at]) == 500 * 7 / 60 + 1);
      huge[at + 2] = 0x10;  // 0x100000 + ... buckets
      CHECK_FALSE(SpendLedger::restore(huge).has_value());
    }
    SUBCASE("a time too far off to subtract from") {
      // The first hour's start follows magic, version, three points, deposit, total, points.
      std::string far = bytes;
      const std::size_t first_hour = 4 + 1 + 17 + 17 + 17 + 8 + 8 + 8;
      for (std::size_t i = 0; i < 7; ++i) far[first_hour + i] = '\0';
      far[first_hour + 7] = '\x80';  // INT64_MIN, little-endian
      CHECK_FALSE(SpendLedger::restore(far).has_value());
    }
    SUBCASE("a value that is not a number") {
      std::string nan = bytes;
      // The first bucket's spend, after its one-byte covered-time kind.
      const std::size_t first_spend = 4 + 1 + 17 + 17 + 17 + 8 + 8 + 8 + 8 + 4 + 1;
      REQUIRE(static_cast<unsigned char>(nan[first_spend - 1]) <= 2);
      for (std::size_t i = 0; i < 4; ++i) nan[first_spend + i] = '\xff';
      CHECK_FALSE(SpendLedger::restore(nan).has_value());
    }
  }

  TEST_CASE("more partial hours than one-byte codes keep their exact covered time") {
    // Two-hour cycles: spent dry at :40, dry until 1:50 (unobserved), topped up at 2:10. Every
    // hour is partly covered (30, then 10 and 40 minutes), 400 of them: more than the side
    // table of exact partial values holds, so the ledger must widen, never round.
    SpendLedger ledger;
    for (int cycle = 0; cycle < 200; ++cycle) {
      const TimePoint at = k_t0 + 2h * cycle;
      ledger.add({at + 10min, Decimal::from_micros(1'000'000), std::nullopt});
      ledger.add({at + 40min, Decimal::from_micros(0), std::nullopt});
      ledger.add({at + 110min, Decimal::from_micros(0), std::nullopt});
    }
    const auto covered_minutes = [](const SpendLedger& l, TimePoint hour) {
      return l.window(hour, hour + 1h).covered_days * 24 * 60;
    };
    const auto restored = SpendLedger::restore(ledger.serialize());
    REQUIRE(restored.has_value());
    CHECK(restored->serialize() == ledger.serialize());
    for (int cycle = 0; cycle < 199; ++cycle) {
      CAPTURE(cycle);
      const TimePoint at = k_t0 + 2h * cycle;
      CHECK(covered_minutes(ledger, at) == doctest::Approx(cycle == 0 ? 30 : 40).epsilon(1e-12));
      CHECK(covered_minutes(ledger, at + 1h) == doctest::Approx(10).epsilon(1e-12));
      CHECK(covered_minutes(*restored, at) == covered_minutes(ledger, at));
      CHECK(covered_minutes(*restored, at + 1h) == covered_minutes(ledger, at + 1h));
    }
  }

  TEST_CASE("five weeks of hours stay within k_max_buckets, each hour where the windows look for it") {
    SpendLedger ledger;
    // For 66 days and 5 hours, hour h spends (h % 24) + 1 units: only the last 35 are kept, each in its
    // own hour (the ring of buckets has turned over, to a place that is not its start nor a
    // whole number of days from it).
    std::int64_t balance = 100'000'000'000;
    for (int h = 0; h <= 24 * 66 + 5; ++h) {
      ledger.add({k_t0 + std::chrono::hours(h), Decimal::from_micros(balance), std::nullopt});
      balance -= std::int64_t{(h % 24) + 1} * 1'000'000;
    }
    const TimePoint end = ledger.last()->at;
    for (int back = 1; back <= 24 * 35; back += 37) {
      CAPTURE(back);
      const int h = 24 * 66 + 5 - back;  // the hour [h, h + 1) spends what the reading at h saw next
      CHECK(ledger.window(end - std::chrono::hours(back), end - std::chrono::hours(back - 1)).spend ==
            doctest::Approx((h % 24) + 1));
    }
    const auto kept = ledger.window(end - 24h * 35, end);
    CHECK(kept.spend == doctest::Approx(35 * (24 * 25 / 2)).epsilon(1e-6));
    CHECK(kept.covered_days == doctest::Approx(35));
    CHECK(ledger.window(end - 24h * 66, end - 24h * 35).covered_days == 0);
    CHECK(ledger.daily_spend(end, 35).size() == 35);
  }

  TEST_CASE("five-minute readings are never thinned") {
    const auto ledger = fast_ledger(300s, 6h, 6h);
    CHECK(ledger.segment_count() == 72);
  }
}
