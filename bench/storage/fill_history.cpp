// Fills a creditwatch database with the history of N accounts, as the daemon would have left
// it, for the memory and restart benchmarks (issue 16; docs/benchmarks.md, "Memory and
// restart"). Everything goes through the real SqliteStore:
//
// * each account's spend is simulated reading by reading at `--interval` over `--days`:
//   a level from cents to tens a day (log-uniform over accounts), a daily cycle, cent
//   rounding (so at short intervals the balance stays unchanged for several readings), a
//   third of the accounts behind a provider that refreshes the balance only hourly, and a
//   top-up whenever less than five days are left;
// * every reading feeds a forecast::SpendLedger, whose snapshot at `now - --snapshot-age`
//   is saved with Store::save_ledger, as the daemon's housekeeping would have saved it
//   before a kill -9 (0: a clean stop, which saves at the last reading);
// * the readings of the last `--raw-hours` go to Store::add_samples, one per reading (so
//   runs of unchanged balance are compacted by the store itself). Older readings only
//   shape the ledger: a restart with a snapshot never reads them, and writing a year of
//   them reading by reading would take hours here.
//
// Account names and the currency match bench/load/run_load.py's config (load-00000...,
// DeepSeek's CNY), so a daemon started on that config resumes these accounts.
//
// `BUILD/bench/fill_history --db PATH [--accounts N] [--days D] [--interval SECONDS]
//  [--raw-hours H] [--snapshot-age MINUTES] [--threads T]`
#include "creditwatch/forecast/ledger.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch;

namespace {

struct Options {
  std::string db;
  int accounts = 1000;
  int days = 35;
  int interval_s = 60;
  int raw_hours = 2;
  int snapshot_age_min = 30;
  int threads = 4;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--db") o.db = value;
    else if (key == "--accounts") o.accounts = std::atoi(value);
    else if (key == "--days") o.days = std::atoi(value);
    else if (key == "--interval") o.interval_s = std::atoi(value);
    else if (key == "--raw-hours") o.raw_hours = std::atoi(value);
    else if (key == "--snapshot-age") o.snapshot_age_min = std::atoi(value);
    else if (key == "--threads") o.threads = std::atoi(value);
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  if (o.db.empty()) {
    std::fprintf(stderr, "usage: fill_history --db PATH [--accounts N] [--days D] [--interval S] ...\n");
    std::exit(2);
  }
  return o;
}

// A deterministic number in [0, 1) for account i and a salt.
double unit(int i, int salt) {
  std::uint64_t x = static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(salt) * 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 31;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 29;
  return static_cast<double>(x >> 11) / static_cast<double>(1ULL << 53);
}

struct Totals {
  std::atomic<std::uint64_t> readings{0};
  std::atomic<std::uint64_t> stored{0};
  std::atomic<std::uint64_t> snapshot_bytes{0};
};

void fill_account(storage::Store& store, const Options& o, int i, TimePoint now, Totals& totals) {
  char name[32];
  std::snprintf(name, sizeof name, "load-%05d", i);
  const double per_day = 0.05 * std::pow(1000.0, unit(i, 1));  // 0.05 to 50 a day
  const bool hourly_refresh = unit(i, 2) < 1.0 / 3;
  const double phase = unit(i, 3) * 24;
  // The ledger keeps five weeks: readings before them change nothing in it.
  const int simulated_days = std::min(o.days, 36);
  const auto step = std::chrono::seconds(o.interval_s);
  const TimePoint first = now - std::chrono::hours(24 * simulated_days);
  const TimePoint raw_from = now - std::chrono::hours(o.raw_hours);
  const TimePoint snapshot_at = now - std::chrono::minutes(o.snapshot_age_min);
  double balance = per_day * 30;
  double shown = std::round(balance * 100) / 100;
  forecast::SpendLedger ledger;
  std::optional<storage::LedgerSnapshot> snapshot;
  for (TimePoint t = first; t <= now; t += step) {
    const double hour_of_day = std::fmod(static_cast<double>(to_unix_ms(t)) / 3.6e6 + phase, 24.0);
    const double cycle = 1 + 0.6 * std::sin(2 * M_PI * (hour_of_day - 14) / 24);
    balance = std::max(0.0, balance - per_day * cycle * o.interval_s / 86400.0);
    if (balance < per_day * 5) balance += std::ceil(per_day * 30 / 10) * 10;  // a top-up
    const bool refreshed = !hourly_refresh || to_unix_ms(t) % 3'600'000 < o.interval_s * 1000;
    if (refreshed) shown = std::round(balance * 100) / 100;
    const auto micros = Decimal::from_micros(static_cast<std::int64_t>(std::llround(shown * 1e6)));
    if (t > snapshot_at && !snapshot && ledger.last()) {
      snapshot = storage::LedgerSnapshot{ledger.last()->at, ledger.serialize()};
    }
    ledger.add({t, micros, std::nullopt});
    totals.readings.fetch_add(1, std::memory_order_relaxed);
    if (t >= raw_from) {
      storage::SampleRow row{name, t, "CNY", micros, std::nullopt, "{}"};
      store.add_samples({row}, storage::ProbeRow{name, t, "ok", 0, 0.05, ""});
      totals.stored.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (!snapshot) snapshot = storage::LedgerSnapshot{ledger.last()->at, ledger.serialize()};
  totals.snapshot_bytes.fetch_add(snapshot->state.size(), std::memory_order_relaxed);
  store.save_ledger(name, "CNY", *snapshot);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  storage::SqliteStore store(o.db);
  // Whole seconds, as a daemon started now would see the history end.
  const TimePoint now = from_unix_ms(to_unix_ms(std::chrono::system_clock::now()) / 1000 * 1000);
  Totals totals;
  std::atomic<int> next{0};
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < o.accounts; i = next++) fill_account(store, o, i, now, totals);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%d accounts x %d days at %d s: %llu readings simulated, %llu stored (last %d h), "
              "snapshots %.0f bytes each, %.1f s\n",
              o.accounts, o.days, o.interval_s, static_cast<unsigned long long>(totals.readings.load()),
              static_cast<unsigned long long>(totals.stored.load()), o.raw_hours,
              static_cast<double>(totals.snapshot_bytes.load()) / o.accounts, seconds);
  return 0;
}
