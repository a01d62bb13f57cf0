#include "creditwatch/common/weekly_window.hpp"

#include <algorithm>

namespace creditwatch {
namespace {

CivilTime at_minute(std::int64_t day, int minute) {
  CivilTime civil = civil_from_days(day);
  civil.hour = minute / 60;
  civil.minute = minute % 60;
  return civil;
}

}  // namespace

std::optional<WeeklyWindow::Interval> WeeklyWindow::current_or_next(TimePoint t) const {
  const CivilTime local = zone.to_local(t);
  const std::int64_t today = days_from_civil(local.year, local.month, local.day);
  const bool over_midnight = end_minute <= start_minute;
  std::optional<Interval> found;
  // Yesterday's stretch may still run past midnight; a week and a day ahead holds the next
  // start of any listed day.
  for (std::int64_t day = today - 1; day <= today + 8; ++day) {
    if (!days[static_cast<std::size_t>(weekday_of(civil_from_days(day)))]) continue;
    const Interval stretch{zone.resolve(at_minute(day, start_minute)),
                           zone.resolve(at_minute(over_midnight ? day + 1 : day, end_minute))};
    if (stretch.end <= t || stretch.end <= stretch.start) continue;
    if (!found) {
      found = stretch;
    } else if (stretch.start <= found->end) {
      found->end = std::max(found->end, stretch.end);
    } else {
      break;
    }
  }
  return found;
}

bool WeeklyWindow::contains(TimePoint t) const {
  auto stretch = current_or_next(t);
  return stretch && stretch->start <= t;
}

}  // namespace creditwatch
