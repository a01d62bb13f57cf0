#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/time_zone.hpp"

#include <array>
#include <optional>

namespace creditwatch {

// A stretch of local time that comes back every week: on each listed weekday from `start` to
// `end` (minutes after local midnight) in `zone`. An end that is not after the start runs
// over midnight into the next day, and the stretch belongs to the day it starts on
// (Saturday 22:00-02:00 ends on Sunday at 02:00; a start equal to the end lasts a day).
// Each start and end is read in `zone` as TimeZone::resolve does, so across a DST change a
// stretch runs once, from the first occurrence of a repeated time, and a time the clocks
// skipped moves forward by the gap's length (02:30 on Berlin's spring-forward night is 03:30
// CEST), so a window wholly inside the skipped hour does not run that night.
struct WeeklyWindow {
  std::array<bool, 7> days{};  // by Weekday (Sunday first)
  int start_minute = 0;        // 0..1439
  int end_minute = 0;          // 0..1439
  TimeZone zone;

  struct Interval {
    TimePoint start;
    TimePoint end;  // exclusive
  };

  // The stretch that holds `t` (start <= t < end), else the next one to start; stretches
  // that meet or overlap count as one. Nothing when no day is listed.
  std::optional<Interval> current_or_next(TimePoint t) const;
  bool contains(TimePoint t) const;

  bool operator==(const WeeklyWindow&) const = default;
};

}  // namespace creditwatch
