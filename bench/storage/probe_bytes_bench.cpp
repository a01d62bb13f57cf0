// Bytes of database per stored probe (issue 16: <= 16 B while the balance is unchanged, <= 48 B
// while it changes every probe, at 2,000 accounts). Writes N accounts x M probes through
// SqliteStore::add_samples from several threads, as the daemon does (DeepSeek-sized details),
// and prints the logical growth (page_count * page_size minus free pages, after a checkpoint)
// per probe for each case.
//   probe_bytes_bench [accounts=2000] [probes=60] [threads=8] [dir=/tmp]
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::storage;

namespace {

std::int64_t pragma(Database& db, const char* sql) {
  auto s = db.prepare(sql);
  s.step();
  return s.int64(0);
}

std::int64_t logical_bytes(const std::string& path) {
  Database db(path);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return (pragma(db, "PRAGMA page_count") - pragma(db, "PRAGMA freelist_count")) * pragma(db, "PRAGMA page_size");
}

enum class Balance { unchanged, changing, changing_details };

// Writes `probes` rounds of every account starting at `round0` (one probe per account per
// second of fake time), from `threads` threads; returns the probes written.
long write_rounds(SqliteStore& store, int accounts, int round0, int probes, int threads, Balance balance) {
  const TimePoint t0 = from_unix_ms(1'796'000'000'000);
  std::atomic<long> written{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      for (int round = round0; round < round0 + probes; ++round) {
        for (int a = w; a < accounts; a += threads) {
          const std::string name = "deepseek-" + std::to_string(a);
          const TimePoint at = t0 + std::chrono::seconds(round) + std::chrono::milliseconds(a % 1000);
          std::int64_t micros = 110'000'000;
          if (balance != Balance::unchanged) micros -= static_cast<std::int64_t>(round) * 1'000 + a;
          const Decimal topped_up = Decimal::from_micros(micros - 10'000'000);
          const std::string details = balance == Balance::changing_details
                                          ? R"({"granted":"10.00","topped_up":")" + topped_up.to_string() + R"("})"
                                          : std::string(R"({"granted":"10.00","topped_up":"100.00"})");
          store.add_samples({SampleRow{name, at, "CNY", Decimal::from_micros(micros), std::nullopt, details}},
                            ProbeRow{name, at, "ok", 200, 0.05, ""});
          ++written;
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  return written;
}

}  // namespace

int main(int argc, char** argv) {
  const int accounts = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int probes = argc > 2 ? std::atoi(argv[2]) : 60;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 8;
  const std::string dir = argc > 4 ? argv[4] : "/tmp";
  std::printf("accounts=%d probes/account=%d threads=%d\n", accounts, probes, threads);
  for (const auto balance : {Balance::unchanged, Balance::changing, Balance::changing_details}) {
    const std::string path = dir + "/probe_bytes_bench.db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    long growth_probes = 0;
    std::int64_t before = 0;
    std::int64_t after = 0;
    double seconds = 0;
    {
      SqliteStore store(path);
      store.start_background_work(std::chrono::seconds(1));
      // Warm-up round: every account, currency and head exists, as in a running daemon.
      write_rounds(store, accounts, 0, 1, threads, balance);
      before = logical_bytes(path);
      const auto start = std::chrono::steady_clock::now();
      growth_probes = write_rounds(store, accounts, 1, probes, threads, balance);
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      after = logical_bytes(path);
    }
    const char* name = balance == Balance::unchanged  ? "unchanged"
                       : balance == Balance::changing ? "changing (details unchanged)"
                                                      : "changing (details change too)";
    std::printf("%-32s %8.1f B/probe  (%ld probes, %.1f us/probe wall, db %.1f MB)\n", name,
                static_cast<double>(after - before) / static_cast<double>(growth_probes), growth_probes,
                seconds * 1e6 / static_cast<double>(growth_probes), static_cast<double>(after) / 1e6);
  }
  return 0;
}
