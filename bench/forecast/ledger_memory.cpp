// Heap bytes per account of forecast::SpendLedger when full (issue 16: 5,000 accounts in
// 64 MiB): N ledgers each fed five weeks of 5-minute readings and then six hours at 1 s
// (so the hourly buckets and the recent segments are both at their most), measured with
// glibc's mallinfo2() around building them. Prints bytes per ledger and its snapshot size.
//
// `BUILD/bench/ledger_memory [N]` (default 1000).
#include "creditwatch/forecast/ledger.hpp"

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace creditwatch;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const TimePoint start = from_unix_ms(1'777'593'600'000);
  std::vector<forecast::SpendLedger> ledgers;
  ledgers.reserve(static_cast<std::size_t>(n));
  const auto before = mallinfo2().uordblks;
  for (int i = 0; i < n; ++i) {
    forecast::SpendLedger ledger;
    std::int64_t balance = 10'000'000'000;
    TimePoint t = start;
    for (int step = 0; step < 35 * 288; ++step, t += std::chrono::minutes(5)) {
      balance -= 1'000 + (step * 7919 + i) % 5'000;
      ledger.add({t, Decimal::from_micros(balance), std::nullopt});
    }
    for (int s = 0; s < 6 * 3600; ++s, t += std::chrono::seconds(1)) {
      balance -= 3 + (s + i) % 5;
      ledger.add({t, Decimal::from_micros(balance), std::nullopt});
    }
    ledgers.push_back(std::move(ledger));
  }
  const auto after = mallinfo2().uordblks;
  std::printf("%d ledgers: %.0f heap bytes each (five weeks of hours, %zu recent segments)\n", n,
              static_cast<double>(after - before) / n, ledgers.front().segment_count());
#ifdef LEDGER_HAS_SNAPSHOT
  std::printf("snapshot: %zu bytes\n", ledgers.front().serialize().size());
#endif
  return 0;
}
