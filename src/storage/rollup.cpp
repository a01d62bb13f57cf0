#include "creditwatch/storage/rollup.hpp"

#include <algorithm>
#include <cstdint>

namespace creditwatch::storage {
namespace {

constexpr std::int64_t k_hour_ms = 3'600'000;

std::int64_t hour_of(TimePoint at) {
  const std::int64_t ms = to_unix_ms(at);
  return ms >= 0 ? ms / k_hour_ms * k_hour_ms : ((ms - k_hour_ms + 1) / k_hour_ms) * k_hour_ms;
}

struct Change {
  Decimal spend;
  Decimal deposit;
};

Change change_between(const SampleRow& before, const SampleRow& after) {
  Change c;
  if (before.spend_total && after.spend_total && *after.spend_total >= *before.spend_total) {
    const Decimal counted = *after.spend_total - *before.spend_total;
    c.spend = counted;
    const Decimal deposit = after.balance - before.balance + counted;
    if (deposit > Decimal()) c.deposit = deposit;
  } else if (after.balance <= before.balance) {
    c.spend = before.balance - after.balance;
  } else {
    c.deposit = after.balance - before.balance;
  }
  return c;
}

}  // namespace

std::vector<RollupRow> roll_up(const std::vector<SampleRow>& runs, const std::optional<SampleRow>& previous) {
  std::vector<RollupRow> hours;
  const SampleRow* before = previous ? &*previous : nullptr;
  for (const auto& run : runs) {
    const auto hour = from_unix_ms(hour_of(run.at));
    if (hours.empty() || hours.back().hour != hour) {
      hours.push_back(RollupRow{run.account, run.currency, hour, run.balance, run.balance, run.balance, Decimal(),
                                Decimal(), 0});
    }
    RollupRow& row = hours.back();
    row.close = run.balance;
    row.low = std::min(row.low, run.balance);
    ++row.readings;
    if (before) {
      const Change c = change_between(*before, run);
      row.spend += c.spend;
      row.deposits += c.deposit;
    }
    before = &run;
  }
  return hours;
}

void merge_rollup(RollupRow& earlier, const RollupRow& later) {
  earlier.close = later.close;
  earlier.low = std::min(earlier.low, later.low);
  earlier.spend += later.spend;
  earlier.deposits += later.deposits;
  earlier.readings += later.readings;
}

}  // namespace creditwatch::storage
