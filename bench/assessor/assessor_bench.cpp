// What a probe's forecast costs with a year of history behind it, and proof that the
// Assessor's per-account ledger cache keeps it from rescanning that history every probe.
//
//   1. ledger:   a year of 5-minute readings (105,120) added one by one to a SpendLedger,
//                with forecast::project after each; the time per reading and per projection
//                must stay flat from the first week to the last.
//   2. assessor: the same year stored in SQLite for one account, then Assessor::probe with a
//                provider that answers from memory (no network): the first probe loads the
//                ledger from the database, every later one only adds to it. For contrast,
//                the cost of rebuilding the ledger from SQLite (what a rescan per probe
//                would cost) is timed too.
//
// Build with -DCREDITWATCH_BENCH=ON; run `build-release-h/bench/assessor_bench [DB_DIR]`.
#include "creditwatch/forecast/forecaster.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace creditwatch;
using namespace std::chrono_literals;

namespace {

using Steady = std::chrono::steady_clock;

double micros_since(Steady::time_point start) {
  return std::chrono::duration<double, std::micro>(Steady::now() - start).count();
}

constexpr auto k_step = std::chrono::minutes(5);
constexpr long k_year_steps = 365L * 24 * 12;
const TimePoint k_start = from_unix_ms(1'767'225'600'000);  // 2026-01-01T00:00:00Z

// A daily cycle around 40/day with a top-up whenever the balance falls under 100.
Decimal balance_at(long step, double& balance) {
  const double day = static_cast<double>(step) / 288.0;
  const double rate = 40.0 * (1.0 + 0.5 * std::sin(day * 2 * M_PI));
  balance -= rate / 288.0;
  if (balance < 100) balance += 1000;
  return Decimal::from_double(std::round(balance * 100) / 100);
}

class ManualClock final : public Clock {
public:
  TimePoint now() const override { return m_now; }
  void set(TimePoint t) { m_now = t; }

private:
  TimePoint m_now = k_start;
};

// Answers every probe with the next balance of the trace; no network.
class TraceProvider final : public providers::Provider {
public:
  explicit TraceProvider(long step) : m_step(step) {}
  providers::ProbeResult probe(http::Client&) override {
    providers::Reading reading;
    reading.balances.push_back({"USD", balance_at(m_step++, m_balance), std::nullopt, nlohmann::json::object()});
    return reading;
  }

private:
  long m_step;
  double m_balance = 1000;
};

class NoHttp final : public http::Client {
public:
  http::Outcome send(const http::Request&) override { return http::Failure{http::FailureKind::internal, "no network", 0ms}; }
};

void bench_ledger() {
  const forecast::Settings settings{std::chrono::hours(24 * 7), 30, std::chrono::hours(48)};
  forecast::SpendLedger ledger;
  double balance = 1000;
  double add_us = 0;
  double project_us = 0;
  double first_week_project_us = 0;
  double last_week_project_us = 0;
  const long week = 7 * 288;
  for (long i = 0; i < k_year_steps; ++i) {
    const TimePoint at = k_start + i * k_step;
    auto start = Steady::now();
    ledger.add({at, balance_at(i, balance), std::nullopt});
    add_us += micros_since(start);
    start = Steady::now();
    const auto f = forecast::project(ledger, settings, at);
    const double us = micros_since(start);
    project_us += us;
    if (i < week) first_week_project_us += us;
    if (i >= k_year_steps - week) last_week_project_us += us;
    if (f.balance < Decimal()) std::printf("impossible\n");  // keeps `f` alive
  }
  std::printf("ledger: %ld readings (a year of 5-minute samples)\n", k_year_steps);
  std::printf("  add:     %.2f us per reading\n", add_us / static_cast<double>(k_year_steps));
  std::printf("  project: %.2f us per forecast (mean), first week %.2f us, last week %.2f us\n",
              project_us / static_cast<double>(k_year_steps), first_week_project_us / week,
              last_week_project_us / week);
}

void fill_store(storage::Store& store, const std::string& account) {
  double balance = 1000;
  std::vector<storage::SampleRow> rows;
  for (long i = 0; i < k_year_steps; ++i) {
    rows.push_back({account, k_start + i * k_step, "USD", balance_at(i, balance), std::nullopt, "{}"});
    if (rows.size() == 1000 || i + 1 == k_year_steps) {
      for (const auto& r : rows) store.add_samples({r}, storage::ProbeRow{account, r.at, "ok", 200, 0.1, ""});
      rows.clear();
    }
  }
}

void bench_assessor(const std::string& dir) {
  const std::string path = dir + "/assessor-bench.db";
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  storage::SqliteStore store(path);
  const std::string account_name = "year";
  auto start = Steady::now();
  fill_store(store, account_name);
  std::printf("assessor: stored %ld samples in %.1f s\n", k_year_steps, micros_since(start) / 1e6);

  config::AccountConfig account;
  account.name = account_name;
  account.provider = "trace";
  account.tuning.burn_window = std::chrono::hours(24 * 7);
  account.tuning.interval = k_step;
  ManualClock clock;
  scheduler::Assessor assessor(store, clock);
  TraceProvider provider(k_year_steps);
  NoHttp http;
  const std::map<alerts::Rule, alerts::Severity> none;

  long step = k_year_steps;
  clock.set(k_start + step * k_step);
  start = Steady::now();
  auto first = assessor.probe(account, provider, http, none);
  const double first_us = micros_since(start);
  constexpr int k_probes = 5000;
  start = Steady::now();
  for (int i = 0; i < k_probes; ++i) {
    clock.set(k_start + ++step * k_step);
    auto a = assessor.probe(account, provider, http, none);
    if (!a.forecast) std::printf("no forecast at probe %d\n", i);
  }
  const double later_us = micros_since(start) / k_probes;

  // What every probe would cost without the cache: read the burn windows back and rebuild.
  const auto since = clock.now() - 2 * account.tuning.burn_window - std::chrono::hours(24);
  start = Steady::now();
  constexpr int k_rescans = 50;
  std::size_t points = 0;
  for (int i = 0; i < k_rescans; ++i) {
    forecast::SpendLedger ledger;
    for (const auto& r : store.samples(account_name, since, "USD")) ledger.add({r.at, r.balance, r.spend_total});
    points = ledger.points();
  }
  const double rescan_us = micros_since(start) / k_rescans;
  std::printf("  first probe (loads the ledger from SQLite): %.0f us, forecast %s\n", first_us,
              first.forecast ? "yes" : "no");
  std::printf("  later probes (cached ledger, incl. one SQLite commit each): %.0f us per probe over %d probes\n",
              later_us, k_probes);
  std::printf("  rebuilding the ledger from SQLite (%zu readings): %.0f us -- what a rescan per probe would add\n",
              points, rescan_us);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  bench_ledger();
  bench_assessor(dir);
  return 0;
}
