// Writes a synthetic year of N accounts' readings through the real store, with the daemon's
// hourly housekeeping, and reports the bytes the database holds per account-year (issue 16,
// "bytes per account-year"; docs/benchmarks.md). Everything goes through the Store interface
// the daemon uses, with explicit timestamps (no clock, no sleeping):
//
// * every reading is one Store::add_samples call with its ProbeRow ("ok"), as a probe thread
//   writes it; `--threads` writers call it at once, so the store's group commit batches the
//   readings of many accounts per transaction, as it does in the daemon;
// * every hour of simulated time (at `--housekeeping-phase` seconds past the start, then
//   hourly: the daemon's housekeeping_every), with all writers paused, the housekeeping runs
//   as Monitor::housekeeping does: Store::prune(now - min(raw_retention, retention),
//   now - retention) again while it returns a full batch, then every account's
//   forecast::SpendLedger saved with Store::save_ledger;
// * balances: a DeepSeek-like account in CNY, a spend level log-uniform over the accounts
//   (15 to 1,500 a day), a daily cycle, cents, at least a cent per reading, a top-up when
//   fewer than five days are left; details as DeepSeek's ({"granted_balance",
//   "topped_up_balance"}, topped_up following the balance) or `--details static|none`.
//   `--refresh every`: the balance read changes at every reading; `--refresh hourly`: the
//   provider refreshes it only at the top of each hour (the readings in between repeat it).
//
// At the end it checks what the store kept against what was written (rollup hours without
// gaps, runs counted once, spend and deposits of rollups + raw runs equal to the simulated
// ones, no raw run older than the cutoff) and, for SQLite, measures the file: logical bytes
// ((page_count - freelist_count) * page_size after a TRUNCATE checkpoint) and dbstat per
// table and index. Output: human lines, then one line `RESULT {json}`.
//
// `BUILD/bench/year_history (--db PATH | --url URL) [--accounts 20] [--days 365]
//  [--interval 60] [--refresh every|hourly] [--details deepseek|static|none] [--threads 8]
//  [--raw-retention-days 35] [--retention-days 400] [--housekeeping-phase 1234]
//  [--name-prefix load-] [--end-ms MS] [--migrate-only] [--prune-only]`
// Account names load-00000... and the currency match bench/load/run_load.py's config.
#include "creditwatch/forecast/ledger.hpp"
#include "creditwatch/storage/run_rule.hpp"
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/store.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch;

namespace {

constexpr std::int64_t k_hour_ms = 3'600'000;
constexpr std::int64_t k_day_ms = 24 * k_hour_ms;

struct Options {
  std::string db;
  std::string url;
  int accounts = 20;
  int days = 365;
  int interval_s = 60;
  bool hourly_refresh = false;
  std::string details = "deepseek";
  int threads = 8;
  int raw_retention_days = 35;
  int retention_days = 400;
  int housekeeping_phase_s = 1234;
  std::string prefix = "load-";
  std::int64_t end_ms = 0;  // 0: now, whole minutes
  bool migrate_only = false;
  bool prune_only = false;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: year_history (--db PATH | --url URL) [--accounts N] [--days D] [--interval S] "
               "[--refresh every|hourly] [--details deepseek|static|none] [--threads T] [--raw-retention-days D] "
               "[--retention-days D] [--housekeeping-phase S] [--name-prefix P] [--end-ms MS]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--migrate-only") {  // creates (migrates) the schema and stops: an empty database
      o.migrate_only = true;
      --i;
      continue;
    }
    if (key == "--prune-only") {  // one housekeeping prune at the wall clock's now, timed, then stops
      o.prune_only = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value for " + key).c_str());
    const char* value = argv[i + 1];
    if (key == "--db") o.db = value;
    else if (key == "--url") o.url = value;
    else if (key == "--accounts") o.accounts = std::atoi(value);
    else if (key == "--days") o.days = std::atoi(value);
    else if (key == "--interval") o.interval_s = std::atoi(value);
    else if (key == "--refresh") {
      if (std::strcmp(value, "every") != 0 && std::strcmp(value, "hourly") != 0) usage("--refresh: every or hourly");
      o.hourly_refresh = std::strcmp(value, "hourly") == 0;
    } else if (key == "--details") {
      o.details = value;
      if (o.details != "deepseek" && o.details != "static" && o.details != "none") usage("--details: deepseek, static or none");
    } else if (key == "--threads") o.threads = std::atoi(value);
    else if (key == "--raw-retention-days") o.raw_retention_days = std::atoi(value);
    else if (key == "--retention-days") o.retention_days = std::atoi(value);
    else if (key == "--housekeeping-phase") o.housekeeping_phase_s = std::atoi(value);
    else if (key == "--name-prefix") o.prefix = value;
    else if (key == "--end-ms") o.end_ms = std::atoll(value);
    else usage(("unknown option " + key).c_str());
  }
  if (o.db.empty() == o.url.empty()) usage("give one of --db and --url");
  if (o.accounts < 1 || o.days < 1 || o.interval_s < 1 || o.threads < 1) usage("counts must be positive");
  if (o.housekeeping_phase_s < 0 || o.housekeeping_phase_s >= 3600) usage("--housekeeping-phase: 0 to 3599");
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

struct Account {
  std::string name;
  double per_day = 0;  // spend level, CNY a day
  double phase_h = 0;  // of the daily cycle
  std::int64_t true_cents = 0;
  std::int64_t shown_cents = 0;
  double carry = 0;  // spend not yet a whole cent
  forecast::SpendLedger ledger;
  bool ledger_changed = false;
  // What was written, for the checks at the end.
  std::optional<std::int64_t> last_written_cents;
  std::int64_t spend_cents = 0;     // drops of the balance read, summed
  std::int64_t deposit_cents = 0;   // rises
  std::int64_t runs = 0;            // runs the store should have started (run_rule.hpp)
  std::int64_t anchor_ms = 0;
  std::uint64_t readings = 0;
};

Decimal cents(std::int64_t c) { return Decimal::from_micros(c * 10'000); }

std::string details_of(const Options& o, std::int64_t shown_cents) {
  if (o.details == "none") return "{}";
  if (o.details == "static") return R"({"granted_balance":"10.00","topped_up_balance":"100.00"})";
  return R"({"granted_balance":"0.00","topped_up_balance":")" + cents(shown_cents).to_string() + "\"}";
}

// One reading of account `a` at `t_ms`: the true balance moves, the provider shows it (or
// the last refreshed one), the store gets it.
void read_one(storage::Store& store, const Options& o, Account& a, std::int64_t t_ms) {
  const double hour_of_day = std::fmod(static_cast<double>(t_ms) / 3.6e6 + a.phase_h, 24.0);
  const double cycle = 1 + 0.6 * std::sin(2 * M_PI * (hour_of_day - 14) / 24);
  a.carry += a.per_day * 100 * cycle * o.interval_s / 86400.0;
  std::int64_t spent = static_cast<std::int64_t>(a.carry);
  if (spent < 1) spent = 1;  // at least a cent per reading: the balance changes at every one
  a.carry = std::max(0.0, a.carry - static_cast<double>(spent));
  a.true_cents -= spent;
  if (a.true_cents < static_cast<std::int64_t>(a.per_day * 100 * 5)) {
    a.true_cents += static_cast<std::int64_t>(std::ceil(a.per_day * 30 / 10) * 10) * 100;  // a top-up
  }
  const bool refreshed = !o.hourly_refresh || t_ms % k_hour_ms < static_cast<std::int64_t>(o.interval_s) * 1000;
  if (refreshed || !a.last_written_cents) a.shown_cents = a.true_cents;

  const bool changed = !a.last_written_cents || *a.last_written_cents != a.shown_cents;
  if (a.last_written_cents) {
    const std::int64_t delta = a.shown_cents - *a.last_written_cents;
    if (delta < 0) a.spend_cents -= delta;
    else a.deposit_cents += delta;
  }
  // run_rule.hpp: a new run when the figures change (the details follow the balance, or are
  // static), or k_longest_run after the anchor.
  if (changed || t_ms - a.anchor_ms >= storage::k_longest_run_ms) {
    ++a.runs;
    a.anchor_ms = t_ms;
  }
  a.last_written_cents = a.shown_cents;

  const TimePoint t = from_unix_ms(t_ms);
  const Decimal balance = cents(a.shown_cents);
  storage::SampleRow row{a.name, t, "CNY", balance, std::nullopt, details_of(o, a.shown_cents)};
  store.add_samples({row}, storage::ProbeRow{a.name, t, "ok", 200, 0.05, ""});
  a.ledger.add({t, balance, std::nullopt});
  a.ledger_changed = true;
  ++a.readings;
}

struct Housekeeping {
  std::uint64_t runs = 0;
  std::uint64_t prune_calls = 0;
  std::uint64_t removed = 0;
  std::uint64_t ledgers_saved = 0;
  double seconds = 0;
};

struct Check {
  std::uint64_t problems = 0;
  void fail(const std::string& what) {
    if (++problems <= 20) std::printf("CHECK FAILED: %s\n", what.c_str());
  }
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const bool sqlite = !o.db.empty();
  auto store = storage::open_store(sqlite ? storage::StoreLocation{o.db, std::nullopt}
                                          : storage::StoreLocation{"", o.url});
  if (o.migrate_only) return 0;
  if (o.prune_only) {
    // What a daemon's first housekeeping does on this database (it runs at start).
    const auto now = std::chrono::system_clock::now();
    const auto raw_keep = std::chrono::hours(24 * std::min(o.raw_retention_days, o.retention_days));
    const auto keep = std::chrono::hours(24 * o.retention_days);
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t removed = 0;
    int calls = 0;
    for (;;) {
      const auto step = store->prune(now - raw_keep, now - keep);
      ++calls;
      removed += step;
      if (step < storage::Store::k_prune_batch) break;
    }
    std::printf("prune at now: %zu rows in %d calls, %.2f s\n", removed, calls,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
  }
  // As the daemon (app/daemon.cpp: WAL checkpoints off the commit path every 500 ms).
  store->start_background_work(std::chrono::milliseconds(500));

  const std::int64_t interval_ms = static_cast<std::int64_t>(o.interval_s) * 1000;
  std::int64_t end_ms = o.end_ms;
  if (end_ms == 0) end_ms = to_unix_ms(std::chrono::system_clock::now()) / 60'000 * 60'000;
  end_ms = end_ms / interval_ms * interval_ms;
  const std::int64_t start_ms = end_ms - static_cast<std::int64_t>(o.days) * k_day_ms;
  const std::int64_t raw_keep_ms = static_cast<std::int64_t>(std::min(o.raw_retention_days, o.retention_days)) * k_day_ms;
  const std::int64_t keep_ms = static_cast<std::int64_t>(o.retention_days) * k_day_ms;

  std::vector<Account> accounts(static_cast<std::size_t>(o.accounts));
  for (int i = 0; i < o.accounts; ++i) {
    auto& a = accounts[static_cast<std::size_t>(i)];
    char name[64];
    std::snprintf(name, sizeof name, "%s%05d", o.prefix.c_str(), i);
    a.name = name;
    a.per_day = 15 * std::pow(100.0, unit(i, 1));  // 15 to 1,500 a day
    a.phase_h = unit(i, 3) * 24;
    a.true_cents = static_cast<std::int64_t>(a.per_day * 30) * 100;
  }

  // Housekeeping points: start + phase, then hourly; the writers stop at each.
  std::vector<std::int64_t> stops;
  for (std::int64_t h = start_ms + static_cast<std::int64_t>(o.housekeeping_phase_s) * 1000; h <= end_ms; h += k_hour_ms) {
    stops.push_back(h);
  }
  stops.push_back(end_ms + 1);  // the last stretch, readings up to end_ms included; no housekeeping after it

  Housekeeping hk;
  std::size_t stop_index = 0;
  const int threads = std::min(o.threads, o.accounts);
  const auto started = std::chrono::steady_clock::now();
  auto last_report = started;
  auto housekeeping = [&]() noexcept {
    const std::int64_t now_ms = stops[stop_index];
    if (stop_index + 1 < stops.size()) {
      const auto t0 = std::chrono::steady_clock::now();
      try {
        for (;;) {
          const auto step = store->prune(from_unix_ms(now_ms - raw_keep_ms), from_unix_ms(now_ms - keep_ms));
          ++hk.prune_calls;
          hk.removed += step;
          if (step < storage::Store::k_prune_batch) break;
        }
        for (auto& a : accounts) {
          if (!a.ledger_changed || !a.ledger.last()) continue;
          store->save_ledger(a.name, "CNY", storage::LedgerSnapshot{a.ledger.last()->at, a.ledger.serialize()});
          a.ledger_changed = false;
          ++hk.ledgers_saved;
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "housekeeping at %lld: %s\n", static_cast<long long>(now_ms), e.what());
        std::abort();
      }
      ++hk.runs;
      hk.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    ++stop_index;
    const auto wall = std::chrono::steady_clock::now();
    if (wall - last_report > std::chrono::seconds(30)) {
      last_report = wall;
      std::fprintf(stderr, "  day %.1f of %d, %.0f s\n", static_cast<double>(now_ms - start_ms) / k_day_ms, o.days,
                   std::chrono::duration<double>(wall - started).count());
    }
  };
  std::barrier sync(threads, housekeeping);
  std::vector<std::thread> writers;
  for (int w = 0; w < threads; ++w) {
    writers.emplace_back([&, w] {
      std::int64_t t = start_ms;
      for (const std::int64_t stop : stops) {
        for (; t < stop; t += interval_ms) {
          for (std::size_t i = static_cast<std::size_t>(w); i < accounts.size(); i += static_cast<std::size_t>(threads)) {
            read_one(*store, o, accounts[i], t);
          }
        }
        sync.arrive_and_wait();
      }
    });
  }
  for (auto& t : writers) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto stats = store->write_stats();
  std::uint64_t readings = 0;
  std::int64_t runs = 0;
  for (const auto& a : accounts) {
    readings += a.readings;
    runs += a.runs;
  }
  std::printf("%d accounts x %d days at %d s (%s): %llu readings, %lld runs expected, %.1f s (%.1f us a reading); "
              "%llu transactions (%.1f readings each); housekeeping %llu times, %llu prune calls, %llu rows removed, "
              "%llu ledger saves, %.1f s\n",
              o.accounts, o.days, o.interval_s, o.hourly_refresh ? "hourly refresh" : "changing every reading",
              static_cast<unsigned long long>(readings), static_cast<long long>(runs), seconds,
              seconds * 1e6 / static_cast<double>(readings), static_cast<unsigned long long>(stats.transactions),
              static_cast<double>(stats.writes) / static_cast<double>(std::max<std::uint64_t>(stats.transactions, 1)),
              static_cast<unsigned long long>(hk.runs), static_cast<unsigned long long>(hk.prune_calls),
              static_cast<unsigned long long>(hk.removed), static_cast<unsigned long long>(hk.ledgers_saved),
              hk.seconds);

  // What the store kept, against what was written.
  Check check;
  const std::int64_t last_hk_ms = stops.size() >= 2 ? stops[stops.size() - 2] : start_ms;
  const std::int64_t raw_cutoff_ms = last_hk_ms - raw_keep_ms;
  const bool rollups_pruned = start_ms < last_hk_ms - keep_ms;
  std::uint64_t raw_rows = 0;
  std::uint64_t rollup_rows = 0;
  for (const auto& a : accounts) {
    const auto hours = store->rollups(a.name, "CNY", from_unix_ms(start_ms - k_hour_ms), from_unix_ms(end_ms + k_hour_ms));
    const auto raw = store->samples(a.name, from_unix_ms(start_ms - k_hour_ms), "CNY");
    raw_rows += raw.size();
    rollup_rows += hours.size();
    std::int64_t rolled_runs = 0;
    std::int64_t spend = 0;
    std::int64_t deposits = 0;
    for (std::size_t i = 0; i < hours.size(); ++i) {
      rolled_runs += hours[i].readings;
      spend += hours[i].spend.micros() / 10'000;
      deposits += hours[i].deposits.micros() / 10'000;
      if (i > 0 && to_unix_ms(hours[i].hour) != to_unix_ms(hours[i - 1].hour) + k_hour_ms) {
        check.fail(a.name + ": rollups jump from hour " + std::to_string(to_unix_ms(hours[i - 1].hour)) + " to " +
                   std::to_string(to_unix_ms(hours[i].hour)));
      }
    }
    if (!raw.empty()) {
      if (to_unix_ms(raw.front().at) + storage::k_longest_run_ms < raw_cutoff_ms) {
        check.fail(a.name + ": a raw run from " + std::to_string(to_unix_ms(raw.front().at)) +
                   " outlived the cutoff " + std::to_string(raw_cutoff_ms));
      }
      if (!hours.empty() && to_unix_ms(hours.back().hour) + k_hour_ms < storage::hour_start_ms(to_unix_ms(raw.front().at))) {
        check.fail(a.name + ": no rollup for the hours between the last rollup and the first raw run");
      }
    }
    if (!hours.empty()) {
      const std::int64_t expect_first = rollups_pruned ? (last_hk_ms - keep_ms + k_hour_ms - 1) / k_hour_ms * k_hour_ms
                                                       : start_ms / k_hour_ms * k_hour_ms;
      if (to_unix_ms(hours.front().hour) != expect_first) {
        check.fail(a.name + ": first rollup hour " + std::to_string(to_unix_ms(hours.front().hour)) + ", expected " +
                   std::to_string(expect_first));
      }
    }
    // The raw runs' own changes, from the last rolled-up close (or nothing) on.
    std::optional<std::int64_t> before;
    if (!hours.empty()) before = hours.back().close.micros() / 10'000;
    for (const auto& r : raw) {
      const std::int64_t c = r.balance.micros() / 10'000;
      if (before) {
        if (c < *before) spend += *before - c;
        else deposits += c - *before;
      }
      before = c;
    }
    if (!rollups_pruned) {
      if (rolled_runs + static_cast<std::int64_t>(raw.size()) != a.runs) {
        check.fail(a.name + ": " + std::to_string(rolled_runs) + " runs rolled up + " + std::to_string(raw.size()) +
                   " raw != " + std::to_string(a.runs) + " written");
      }
      if (spend != a.spend_cents || deposits != a.deposit_cents) {
        check.fail(a.name + ": spend " + std::to_string(spend) + " / deposits " + std::to_string(deposits) +
                   " cents kept, " + std::to_string(a.spend_cents) + " / " + std::to_string(a.deposit_cents) +
                   " written");
      }
    }
    if (!store->ledger(a.name, "CNY")) check.fail(a.name + ": no ledger snapshot");
  }
  std::printf("kept: %llu raw runs (%.0f per account), %llu rollup hours (%.0f per account); checks: %s\n",
              static_cast<unsigned long long>(raw_rows), static_cast<double>(raw_rows) / o.accounts,
              static_cast<unsigned long long>(rollup_rows), static_cast<double>(rollup_rows) / o.accounts,
              check.problems == 0 ? "all passed" : (std::to_string(check.problems) + " failed").c_str());
  store.reset();

  std::string json = "{\"backend\":\"" + std::string(sqlite ? "sqlite" : "postgresql") + "\",\"accounts\":" +
                     std::to_string(o.accounts) + ",\"days\":" + std::to_string(o.days) + ",\"interval_s\":" +
                     std::to_string(o.interval_s) + ",\"refresh\":\"" + (o.hourly_refresh ? "hourly" : "every") +
                     "\",\"details\":\"" + o.details + "\",\"readings\":" + std::to_string(readings) +
                     ",\"runs_written\":" + std::to_string(runs) + ",\"raw_rows\":" + std::to_string(raw_rows) +
                     ",\"rollup_rows\":" + std::to_string(rollup_rows) + ",\"seconds\":" + std::to_string(seconds) +
                     ",\"transactions\":" + std::to_string(stats.transactions) + ",\"housekeeping_seconds\":" +
                     std::to_string(hk.seconds) + ",\"check_failures\":" + std::to_string(check.problems) +
                     ",\"start_ms\":" + std::to_string(start_ms) + ",\"end_ms\":" + std::to_string(end_ms);
  if (sqlite) {
    storage::Database db(o.db);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    auto pragma = [&](const char* name) {
      auto s = db.prepare(std::string("PRAGMA ") + name);
      s.step();
      return s.int64(0);
    };
    const std::int64_t page_size = pragma("page_size");
    const std::int64_t page_count = pragma("page_count");
    const std::int64_t freelist = pragma("freelist_count");
    const std::int64_t logical = (page_count - freelist) * page_size;
    std::printf("SQLite: page_size %lld, %lld pages, %lld free: logical %.3f MB = %.3f MB per account (%.3f MB per "
                "account-year)\n",
                static_cast<long long>(page_size), static_cast<long long>(page_count), static_cast<long long>(freelist),
                static_cast<double>(logical) / 1e6, static_cast<double>(logical) / 1e6 / o.accounts,
                static_cast<double>(logical) / 1e6 / o.accounts * 365.0 / o.days);
    json += ",\"page_size\":" + std::to_string(page_size) + ",\"page_count\":" + std::to_string(page_count) +
            ",\"freelist_count\":" + std::to_string(freelist) + ",\"logical_bytes\":" + std::to_string(logical) +
            ",\"tables\":{";
    try {
      auto s = db.prepare("SELECT name, COUNT(*), SUM(pgsize), SUM(payload), SUM(unused) FROM dbstat GROUP BY name "
                          "ORDER BY SUM(pgsize) DESC");
      bool first = true;
      std::printf("  %-40s %8s %12s %12s %10s %12s\n", "table/index (dbstat)", "pages", "bytes", "payload", "unused",
                  "per account");
      while (s.step()) {
        std::printf("  %-40s %8lld %12lld %12lld %10lld %12.0f\n", s.text(0).c_str(), static_cast<long long>(s.int64(1)),
                    static_cast<long long>(s.int64(2)), static_cast<long long>(s.int64(3)),
                    static_cast<long long>(s.int64(4)), static_cast<double>(s.int64(2)) / o.accounts);
        json += std::string(first ? "" : ",") + "\"" + s.text(0) + "\":{\"pages\":" + std::to_string(s.int64(1)) +
                ",\"bytes\":" + std::to_string(s.int64(2)) + ",\"payload\":" + std::to_string(s.int64(3)) +
                ",\"unused\":" + std::to_string(s.int64(4)) + "}";
        first = false;
      }
    } catch (const std::exception& e) {
      std::printf("  dbstat not available: %s\n", e.what());
    }
    json += "}";
  }
  json += "}";
  std::printf("RESULT %s\n", json.c_str());
  return check.problems == 0 ? 0 : 1;
}
