// What loading every forecast ledger at start costs, on one thread and no contention, on a
// database bench/storage/fill_history made (accounts load-00000 ... as restart_bench.py
// names them): the bulk read alone (Store::saved_ledgers), Assessor::preload (that read,
// each snapshot restored and the runs after it replayed), and for contrast what the probes
// did before it, per account: Store::ledger and Store::samples after the snapshot.
//
//   build/bench/preload_bench DB ACCOUNTS
//
// Work on a copy of the database: the store opens it for writing (migrations, WAL).
#include "creditwatch/common/clock.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

using namespace creditwatch;

namespace {

struct Timer {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_seconds();
  static double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  void report(const char* what, std::size_t accounts) const {
    const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    const double c = cpu_seconds() - cpu;
    std::printf("%-44s %8.3f s wall %8.3f s CPU %8.1f us CPU per account\n", what, w, c,
                c * 1e6 / static_cast<double>(accounts));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DB ACCOUNTS\n", argv[0]);
    return 2;
  }
  const std::size_t n = std::strtoul(argv[2], nullptr, 10);
  storage::SqliteStore store(argv[1]);
  SystemClock clock;
  std::vector<config::AccountConfig> configs(n);
  std::vector<std::string> names;
  std::vector<const config::AccountConfig*> accounts;
  for (std::size_t i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "load-%05zu", i);
    configs[i].name = name;
    configs[i].provider = "deepseek";
    names.push_back(name);
    accounts.push_back(&configs[i]);
  }
  const TimePoint since = clock.now() - std::chrono::hours(24 * 40);
  std::vector<std::pair<std::string, std::string>> snapshots;  // (account, currency) of each snapshot
  store.saved_ledgers(names, since, [&](storage::SavedLedger& saved) {
    snapshots.emplace_back(saved.account, saved.currency);
    return true;
  });
  for (int round = 0; round < 2; ++round) {  // the first round also warms the page cache
    std::printf("round %d, %zu accounts\n", round + 1, n);
    {
      Timer t;
      std::size_t ledgers = 0, runs = 0;
      store.saved_ledgers(names, since, [&](storage::SavedLedger& saved) {
        ++ledgers;
        runs += saved.runs.size();
        return true;
      });
      t.report("Store::saved_ledgers", n);
      std::printf("  %zu snapshots, %zu runs after them\n", ledgers, runs);
    }
    {
      Timer t;
      std::size_t runs = 0;
      for (const auto& [name, currency] : snapshots) {
        if (auto snapshot = store.ledger(name, currency)) runs += store.samples(name, snapshot->at, currency).size();
      }
      t.report("Store::ledger + Store::samples per account", n);
      std::printf("  %zu runs\n", runs);
    }
    {
      scheduler::Assessor assessor(store, clock);
      Timer t;
      const auto loaded = assessor.preload(accounts, [] { return false; });
      t.report("Assessor::preload", n);
      std::printf("  %zu ledgers loaded\n", loaded);
    }
  }
  return 0;
}
