#pragma once

#include "creditwatch/storage/store.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace creditwatch::storage {

// One step of an account's balance history in one currency.
struct SeriesPoint {
  TimePoint at;      // the start of the step
  Decimal open;      // the first balance read in the step
  Decimal close;     // the last
  Decimal low;       // the lowest
  Decimal spend;     // as RollupRow::spend
  Decimal deposits;  // as RollupRow::deposits
  std::uint32_t readings = 0;  // runs of identical readings that started in the step
};

// The most points one answer may hold; a caller asking for more is told to take a coarser step.
inline constexpr std::size_t k_max_series_points = 2000;

// The history of one account and currency over [from, to), oldest first, one point per step
// that holds a reading. Steps start at multiples of `step` since the Unix epoch (so whole
// hours start on the hour, UTC). A step of whole hours is served from the hourly rollups
// where the raw runs are gone and from the runs rolled up the same way (roll_up) where they
// are not; a step under an hour from the raw runs alone (an hour already rolled up has no
// finer detail, so it shows no points). Steps of an hour or more that are not whole hours
// are the caller's to refuse.
std::vector<SeriesPoint> series(Store& store, const std::string& account, const std::string& currency,
                                TimePoint from, TimePoint to, Duration step);

}  // namespace creditwatch::storage
