// The proof that compacting readings into runs loses nothing the forecaster uses: a sequence
// written through the store and replayed from samples() (each run as its two ends, as
// scheduler/assessment.cpp replays it) fills forecast::SpendLedger's hourly buckets exactly as
// adding every reading directly does. Random sequences: repeats, holds past 90 min, dropped
// probes, drops, deposits, dry spells, details that change without the balance, with and
// without spend counters.
#include "creditwatch/forecast/ledger.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::forecast::Point;
using creditwatch::forecast::SpendLedger;
using creditwatch::storage::ProbeRow;
using creditwatch::storage::SampleRow;
using creditwatch::storage::SqliteStore;
using creditwatch::storage::Store;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

// One account's readings over about a day and a half.
std::vector<SampleRow> random_sequence(std::mt19937& rng, bool counters) {
  auto pick = [&](int below) { return static_cast<int>(rng() % static_cast<unsigned>(below)); };
  std::vector<SampleRow> out;
  std::int64_t balance = 50'000'000;
  std::int64_t spent = 1'000'000;
  std::string details = R"({"granted":"10.00"})";
  TimePoint at = k_t0 + std::chrono::milliseconds(pick(3'600'000));
  const std::vector<int> intervals_s = {5, 20, 60, 300, 1800};
  int interval_s = intervals_s[static_cast<std::size_t>(pick(5))];
  TimePoint quiet_until = at;
  while (at < k_t0 + 30h) {
    int roll = pick(1000);
    if (roll >= 950) quiet_until = at + std::chrono::minutes(60 + pick(180));  // an idle spell begins
    // While idle the balance holds (read on and on: the hold passes 90 min), details may change.
    if (at < quiet_until && roll >= 30 && roll < 88) roll = 999;
    if (roll < 10) interval_s = intervals_s[static_cast<std::size_t>(pick(5))];  // the interval changes
    if (roll < 30) {
      // holds: the same balance for up to 4 h (an hourly-refreshing provider, an idle key)
      at += std::chrono::seconds(pick(4 * 3600));
    } else if (roll < 80) {
      // a drop
      const std::int64_t cost = 1 + pick(3'000'000);
      balance -= cost;
      spent += cost;
    } else if (roll < 85) {
      balance += 10'000'000 + pick(50'000'000);  // a deposit
    } else if (roll < 88) {
      spent += balance;  // runs dry, and stays there for a while
      balance = 0;
    } else if (roll < 92) {
      details = R"({"granted":")" + std::to_string(pick(20)) + R"(.00"})";  // details alone change
    } else if (roll < 94) {
      at += std::chrono::seconds(interval_s * (2 + pick(20)));  // dropped probes
    }
    if (balance < 0) balance = 0;
    SampleRow row{"acct", at, "USD", Decimal::from_micros(balance), std::nullopt, details};
    if (counters) row.spend_total = Decimal::from_micros(spent);
    out.push_back(row);
    at += std::chrono::seconds(interval_s) + std::chrono::milliseconds(pick(1000));
  }
  return out;
}

SpendLedger direct(const std::vector<SampleRow>& readings) {
  SpendLedger ledger;
  for (const auto& r : readings) ledger.add(Point{r.at, r.balance, r.spend_total});
  return ledger;
}

SpendLedger replayed(Store& store) {
  SpendLedger ledger;
  for (const auto& run : store.samples("acct", k_t0 - 24h)) {
    ledger.add(Point{run.at, run.balance, run.spend_total});
    if (run.seen_until > run.at) ledger.add(Point{run.seen_until, run.balance, run.spend_total});
  }
  return ledger;
}

void check_same_buckets(const SpendLedger& expected, const SpendLedger& actual) {
  for (TimePoint hour = k_t0 - 1h; hour < k_t0 + 36h; hour += 1h) {
    CAPTURE(hour.time_since_epoch().count());
    const auto e = expected.window(hour, hour + 1h);
    const auto a = actual.window(hour, hour + 1h);
    CHECK(a.spend == e.spend);
    CHECK(a.covered_days == e.covered_days);
  }
  const auto e = expected.window(k_t0 - 24h, k_t0 + 120h);
  const auto a = actual.window(k_t0 - 24h, k_t0 + 120h);
  CHECK(a.spend == e.spend);
  CHECK(a.covered_days == e.covered_days);
  CHECK(a.largest_hour == e.largest_hour);
  CHECK(a.hours_with_spend == e.hours_with_spend);
  CHECK(actual.deposits_since(k_t0 - 24h) == expected.deposits_since(k_t0 - 24h));
}

}  // namespace

TEST_SUITE("storage_runs_replay") {
  TEST_CASE("a change of details alone while the balance holds does not move where runs are cut") {
    // 10.00 read every minute for 200 min, the details changing at 30 min, then a drop: the
    // ledger re-anchors at 90 and 180 min and spreads the drop over [180, 201]. Cutting runs
    // 90 min after each run's own start (30 -> 120) would anchor the replay at 119 instead.
    std::vector<SampleRow> readings;
    for (int minute = 0; minute <= 200; ++minute) {
      readings.push_back(SampleRow{"acct", k_t0 + minute * 1min, "USD", Decimal::from_micros(10'000'000), std::nullopt,
                                   minute < 30 ? "{}" : R"({"note":"x"})"});
    }
    readings.push_back(SampleRow{"acct", k_t0 + 201min, "USD", Decimal::from_micros(9'000'000), std::nullopt, "{}"});
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    for (const auto& r : readings) store.add_samples({r}, ProbeRow{"acct", r.at, "ok", 200, 0.1, ""});
    check_same_buckets(direct(readings), replayed(store));
  }

  TEST_CASE("replaying stored runs fills the ledger's buckets as every reading did") {
    for (const bool counters : {false, true}) {
      for (unsigned seed = 1; seed <= 6; ++seed) {
        CAPTURE(counters);
        CAPTURE(seed);
        std::mt19937 rng(seed);
        const auto readings = random_sequence(rng, counters);
        TempDir dir;
        SqliteStore store(dir.file("cw.db"));
        for (const auto& r : readings) store.add_samples({r}, ProbeRow{"acct", r.at, "ok", 200, 0.1, ""});
        const auto runs = store.samples("acct", k_t0 - 24h);
        // Compaction happened: far fewer runs than readings, never overlapping.
        CHECK(runs.size() < readings.size());
        for (std::size_t i = 1; i < runs.size(); ++i) CHECK(runs[i - 1].seen_until < runs[i].at);
        check_same_buckets(direct(readings), replayed(store));
      }
    }
  }
}
