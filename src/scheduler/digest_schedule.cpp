#include "creditwatch/scheduler/digest_schedule.hpp"

#include "creditwatch/common/civil_time.hpp"

namespace creditwatch::scheduler {
namespace {

constexpr Duration k_day = std::chrono::hours(24);
constexpr int k_epoch_weekday = 4;  // 1970-01-01 was a Thursday

// Floor division that rounds towards minus infinity (times before the anchor).
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The first digest day (days since 1970-01-01 on the zone's calendar).
std::int64_t anchor_day(const config::DigestConfig& config) {
  return config.weekday ? (*config.weekday - k_epoch_weekday + 7) % 7 : 0;
}

// `at` on local day `day`, as an instant (a time skipped by a DST change moves forward).
TimePoint at_on_day(const config::DigestConfig& config, std::int64_t day) {
  CivilTime local = civil_from_days(day);
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(config.time_of_day).count();
  local.hour = static_cast<int>(minutes / 60);
  local.minute = static_cast<int>(minutes % 60);
  return config.timezone.resolve(local);
}

// Periods of whole days follow the wall clock: the same local time on every digest day,
// whatever DST did in between.
TimePoint last_on_calendar(const config::DigestConfig& config, TimePoint now) {
  const std::int64_t every_days = config.every / k_day;
  const CivilTime today = config.timezone.to_local(now);
  const std::int64_t first = anchor_day(config);
  std::int64_t day = first + floor_div(days_from_civil(today.year, today.month, today.day) - first, every_days) * every_days;
  if (at_on_day(config, day) > now) day -= every_days;  // today's (or this period's) is still ahead
  return at_on_day(config, day);
}

// Shorter periods run on real time from the first `at` in UTC (config load admits no other zone).
TimePoint last_in_real_time(const config::DigestConfig& config, TimePoint now) {
  const TimePoint first = TimePoint{} + config.time_of_day;
  const auto elapsed = std::chrono::floor<Duration>(now - first).count();
  return first + floor_div(elapsed, config.every.count()) * config.every;
}

}  // namespace

TimePoint last_digest_at(const config::DigestConfig& config, TimePoint now) {
  if (config.every % k_day == Duration(0)) return last_on_calendar(config, now);
  return last_in_real_time(config, now);
}

TimePoint next_digest_at(const config::DigestConfig& config, TimePoint after) {
  if (config.every % k_day != Duration(0)) return last_in_real_time(config, after) + config.every;
  // The day after the last one's: found on the calendar, not by adding hours across a DST change.
  const TimePoint last = last_on_calendar(config, after);
  const CivilTime local = config.timezone.to_local(last);
  const std::int64_t day = days_from_civil(local.year, local.month, local.day);
  return at_on_day(config, day + config.every / k_day);
}

}  // namespace creditwatch::scheduler
