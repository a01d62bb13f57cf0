// storage::series() against a real SqliteStore: whole-hour steps from the runs rolled up, the
// same figures once prune() has turned the runs into hourly rollups (and across the boundary
// between the two), steps under an hour from the raw runs, and the [from, to) bounds.
#include "creditwatch/storage/series.hpp"

#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::Duration;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::storage::ProbeRow;
using creditwatch::storage::SampleRow;
using creditwatch::storage::series;
using creditwatch::storage::SeriesPoint;
using creditwatch::storage::SqliteStore;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// 2026-05-01T00:00:00Z, on the hour.
const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

Decimal money(double v) { return Decimal::from_double(v); }

void read(SqliteStore& store, TimePoint at, double balance) {
  store.add_samples({SampleRow{"acct", at, "USD", money(balance), std::nullopt, "{}", {}}},
                    ProbeRow{"acct", at, "ok", 200, 0.1, ""});
}

// Every 10 minutes for `hours` hours: 1 spent per reading, the same balance read twice in a
// row now and then (a run of two), and a deposit of 50 at 02:30.
double fill(SqliteStore& store, int hours) {
  double balance = 1000;
  for (int i = 0; i < hours * 6; ++i) {
    if (i % 4 != 3) balance -= 1;  // every fourth reading unchanged
    if (i == 15) balance += 50;
    read(store, k_t0 + std::chrono::minutes(10 * i), balance);
  }
  return balance;
}

void check_same(const std::vector<SeriesPoint>& a, const std::vector<SeriesPoint>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].at == b[i].at);
    CHECK(a[i].open == b[i].open);
    CHECK(a[i].close == b[i].close);
    CHECK(a[i].low == b[i].low);
    CHECK(a[i].spend == b[i].spend);
    CHECK(a[i].deposits == b[i].deposits);
    CHECK(a[i].readings == b[i].readings);
  }
}

Decimal total_spend(const std::vector<SeriesPoint>& points) {
  Decimal sum;
  for (const auto& p : points) sum += p.spend;
  return sum;
}

}  // namespace

TEST_SUITE("storage_series") {
  TEST_CASE("whole-hour steps: open, close, low, spend and deposits per hour, and per two hours") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    const double last = fill(store, 6);
    const auto hourly = series(store, "acct", "USD", k_t0, k_t0 + 6h, 1h);
    REQUIRE(hourly.size() == 6);
    CHECK(hourly[0].at == k_t0);
    CHECK(hourly[0].open == money(999));
    CHECK(hourly[0].close == money(995));  // six readings, one of them unchanged
    CHECK(hourly[0].low == money(995));
    CHECK(hourly[0].spend == money(4));
    CHECK(hourly[0].deposits == Decimal());
    // 02:30 (reading 15): -1 then +50.
    CHECK(hourly[2].deposits == money(50));
    CHECK(hourly[2].low <= hourly[2].open);
    CHECK(hourly[5].close == money(last));
    CHECK(hourly[5].at == k_t0 + 5h);
    // Spend over the whole range is every drop: the change into each hour's first reading counts.
    CHECK(total_spend(hourly) == money(1000 + 50 - last - 1));  // less the first reading's own drop

    const auto two_hourly = series(store, "acct", "USD", k_t0, k_t0 + 6h, 2h);
    REQUIRE(two_hourly.size() == 3);
    CHECK(two_hourly[1].at == k_t0 + 2h);
    CHECK(two_hourly[1].open == hourly[2].open);
    CHECK(two_hourly[1].close == hourly[3].close);
    CHECK(two_hourly[1].low == std::min(hourly[2].low, hourly[3].low));
    CHECK(two_hourly[1].spend == hourly[2].spend + hourly[3].spend);
    CHECK(two_hourly[1].deposits == hourly[2].deposits + hourly[3].deposits);
    CHECK(two_hourly[1].readings == hourly[2].readings + hourly[3].readings);
    CHECK(total_spend(two_hourly) == total_spend(hourly));
  }

  TEST_CASE("hours whose runs were pruned read from the rollups exactly as they did from the runs") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    fill(store, 10);
    const auto before_1h = series(store, "acct", "USD", k_t0, k_t0 + 10h, 1h);
    const auto before_3h = series(store, "acct", "USD", k_t0, k_t0 + 10h, 3h);
    const auto before_day = series(store, "acct", "USD", k_t0, k_t0 + 24h, 24h);
    REQUIRE(before_1h.size() == 10);
    // Runs that ended before 04:25 become rollups: a cut in the middle of an hour.
    while (store.prune(k_t0 + 4h + 25min, k_t0 - 24h) > 0) {
    }
    CHECK(store.rollups("acct", "USD", k_t0, k_t0 + 10h).size() >= 4);
    CHECK(store.samples("acct", k_t0).front().at > k_t0 + 3h);  // the raw runs are gone
    check_same(series(store, "acct", "USD", k_t0, k_t0 + 10h, 1h), before_1h);
    check_same(series(store, "acct", "USD", k_t0, k_t0 + 10h, 3h), before_3h);
    check_same(series(store, "acct", "USD", k_t0, k_t0 + 24h, 24h), before_day);
  }

  TEST_CASE("steps under an hour come from the raw runs, and hours already rolled up have none") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    fill(store, 3);
    const auto quarter = series(store, "acct", "USD", k_t0, k_t0 + 3h, 20min);
    REQUIRE(quarter.size() == 9);
    for (std::size_t i = 0; i < quarter.size(); ++i) {
      CAPTURE(i);
      CHECK(quarter[i].at == k_t0 + std::chrono::minutes(20 * static_cast<int>(i)));
      CHECK(quarter[i].readings >= 1);
    }
    CHECK(quarter[0].open == money(999));
    CHECK(quarter[0].close == money(998));
    CHECK(quarter[1].spend == money(1));  // 998 -> 997 (unchanged) -> 997: one drop
    CHECK(total_spend(quarter) == total_spend(series(store, "acct", "USD", k_t0, k_t0 + 3h, 1h)));
    Decimal deposits;
    for (const auto& p : quarter) deposits += p.deposits;
    CHECK(deposits == money(50));

    while (store.prune(k_t0 + 1h + 5min, k_t0 - 24h) > 0) {
    }
    const auto after = series(store, "acct", "USD", k_t0, k_t0 + 3h, 20min);
    REQUIRE_FALSE(after.empty());
    CHECK(after.front().at >= k_t0 + 1h);
  }

  TEST_CASE("only steps starting from `from` and before `to`, aligned to the step, and other accounts and currencies apart") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    fill(store, 6);
    store.add_samples({SampleRow{"other", k_t0 + 1h, "USD", money(5), std::nullopt, "{}", {}}},
                      ProbeRow{"other", k_t0 + 1h, "ok", 200, 0.1, ""});
    const auto middle = series(store, "acct", "USD", k_t0 + 2h + 10min, k_t0 + 4h, 1h);
    REQUIRE(middle.size() == 2);
    CHECK(middle[0].at == k_t0 + 2h);
    CHECK(middle[1].at == k_t0 + 3h);
    CHECK(series(store, "acct", "EUR", k_t0, k_t0 + 6h, 1h).empty());
    CHECK(series(store, "nobody", "USD", k_t0, k_t0 + 6h, 1h).empty());
    CHECK(series(store, "acct", "USD", k_t0 + 6h, k_t0 + 6h, 1h).empty());
    const auto other = series(store, "other", "USD", k_t0, k_t0 + 6h, 1h);
    REQUIRE(other.size() == 1);
    CHECK(other[0].close == money(5));
  }
}
