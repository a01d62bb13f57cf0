#pragma once

#include <chrono>

namespace creditwatch {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::milliseconds;
// A point on a clock that never jumps (CLOCK_MONOTONIC): for schedules, backoff, timeouts
// and "how long since", which must not stall or fire in a burst when the wall clock steps.
using SteadyPoint = std::chrono::steady_clock::time_point;

// The one seam through which code learns the time, so tests can run schedules fast and
// exactly. Implementations must be thread-safe.
class Clock {
public:
  virtual ~Clock() = default;
  // Wall-clock time: what is stored, shown and sent. It may step (NTP, a VM resume).
  virtual TimePoint now() const = 0;
  // Elapsed time that never steps. A clock that cannot step (a replay) may keep this
  // default, which follows now().
  virtual SteadyPoint monotonic() const {
    return SteadyPoint(std::chrono::duration_cast<SteadyPoint::duration>(now().time_since_epoch()));
  }
};

class SystemClock final : public Clock {
public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  SteadyPoint monotonic() const override { return std::chrono::steady_clock::now(); }
};

inline std::int64_t to_unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline TimePoint from_unix_ms(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}
inline double to_days(std::chrono::duration<double> d) { return d.count() / 86400.0; }

}  // namespace creditwatch
