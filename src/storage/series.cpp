#include "creditwatch/storage/series.hpp"

#include "creditwatch/storage/rollup.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace creditwatch::storage {
namespace {

constexpr std::int64_t k_hour_ms = 3'600'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::int64_t step_start_ms(TimePoint t, std::int64_t step_ms) { return floor_div(to_unix_ms(t), step_ms) * step_ms; }

// roll_up() buckets by the hour. A step under an hour is rolled by the same function on a
// stretched clock where each step lasts an hour: the map is monotonic, so the runs keep
// their order and with it every open, close, low, spend and deposit. `base_ms` is the start
// of the first step; stretched hours count steps from an arbitrary fixed hour.
constexpr std::int64_t k_stretch_origin_ms = 946'684'800'000;  // 2000-01-01T00:00:00Z

TimePoint stretched(TimePoint t, std::int64_t base_ms, std::int64_t step_ms) {
  const std::int64_t offset = to_unix_ms(t) - base_ms;
  const std::int64_t steps = floor_div(offset, step_ms);
  const std::int64_t within = offset - steps * step_ms;
  return from_unix_ms(k_stretch_origin_ms + steps * k_hour_ms + within * k_hour_ms / step_ms);
}

TimePoint unstretched_step(TimePoint hour, std::int64_t base_ms, std::int64_t step_ms) {
  return from_unix_ms(base_ms + floor_div(to_unix_ms(hour) - k_stretch_origin_ms, k_hour_ms) * step_ms);
}

SeriesPoint point_of(TimePoint at, const RollupRow& r) {
  return SeriesPoint{at, r.open, r.close, r.low, r.spend, r.deposits, r.readings};
}

std::vector<SeriesPoint> raw_steps(std::vector<SampleRow> runs, std::int64_t from_ms, TimePoint to, std::int64_t step_ms) {
  for (auto& run : runs) {
    run.at = stretched(run.at, from_ms, step_ms);
    run.seen_until = stretched(run.seen_until, from_ms, step_ms);
  }
  std::vector<SeriesPoint> out;
  for (const auto& row : roll_up(runs)) {
    const TimePoint at = unstretched_step(row.hour, from_ms, step_ms);
    if (to_unix_ms(at) >= from_ms && at < to) out.push_back(point_of(at, row));
  }
  return out;
}

// Hourly rows over [from, to): rollups where the runs are gone, the runs rolled up where not.
std::map<std::int64_t, RollupRow> hours(Store& store, const std::string& account, const std::string& currency,
                                        TimePoint from, TimePoint to, const std::vector<SampleRow>& runs) {
  std::map<std::int64_t, RollupRow> out;
  for (auto& r : store.rollups(account, currency, from, to)) out.emplace(to_unix_ms(r.hour), std::move(r));
  if (runs.empty()) return out;
  // The runs' first hour may also hold an earlier part already rolled up (a prune cuts
  // between runs, not hours), and the change from the last rolled-up balance to the first
  // run belongs to that run's hour: the rolled-up close stands in for the pruned run.
  const std::int64_t first_hour = step_start_ms(runs.front().at, k_hour_ms);
  std::optional<SampleRow> previous;
  for (auto it = out.begin(); it != out.end() && it->first <= first_hour; ++it) {
    previous = SampleRow{account, it->second.hour, currency, it->second.close, std::nullopt, "", it->second.hour};
  }
  for (const auto& row : roll_up(runs, previous)) {
    auto [it, added] = out.try_emplace(to_unix_ms(row.hour), row);
    if (!added) merge_rollup(it->second, row);
  }
  return out;
}

}  // namespace

std::vector<SeriesPoint> series(Store& store, const std::string& account, const std::string& currency,
                                TimePoint from, TimePoint to, Duration step) {
  const std::int64_t step_ms = step.count();
  if (step_ms <= 0 || from >= to) return {};
  const std::int64_t from_ms = step_start_ms(from, step_ms);
  // The run holding at `from` comes too: its balance is where the first step's change starts.
  auto runs = store.samples(account, from_unix_ms(from_ms), currency);
  std::erase_if(runs, [&](const SampleRow& r) { return r.at >= to || r.currency != currency; });
  if (step_ms < k_hour_ms) return raw_steps(std::move(runs), from_ms, to, step_ms);

  std::vector<SeriesPoint> out;
  for (const auto& [hour_ms, row] : hours(store, account, currency, from_unix_ms(from_ms), to, runs)) {
    if (hour_ms < from_ms || from_unix_ms(hour_ms) >= to) continue;
    const TimePoint at = from_unix_ms(step_start_ms(from_unix_ms(hour_ms), step_ms));
    if (!out.empty() && out.back().at == at) {
      auto& p = out.back();
      p.close = row.close;
      p.low = std::min(p.low, row.low);
      p.spend += row.spend;
      p.deposits += row.deposits;
      p.readings += row.readings;  // as merge_rollup() folds an hour's later part
    } else {
      out.push_back(point_of(at, row));
    }
  }
  return out;
}

}  // namespace creditwatch::storage
