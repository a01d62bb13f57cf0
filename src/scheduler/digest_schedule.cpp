#include "creditwatch/scheduler/digest_schedule.hpp"

namespace creditwatch::scheduler {
namespace {

constexpr Duration k_day = std::chrono::hours(24);
constexpr int k_epoch_weekday = 4;  // 1970-01-01 was a Thursday

// The first digest time at or after the epoch.
TimePoint anchor(const config::DigestConfig& config) {
  int days = 0;
  if (config.weekday) days = (*config.weekday - k_epoch_weekday + 7) % 7;
  return TimePoint{} + days * k_day + config.time_of_day;
}

// Floor division that rounds towards minus infinity (times before the anchor).
std::int64_t floor_div(Duration a, Duration b) {
  const auto q = a / b;
  return (a % b < Duration(0)) ? q - 1 : q;
}

}  // namespace

TimePoint last_digest_at(const config::DigestConfig& config, TimePoint now) {
  const TimePoint first = anchor(config);
  return first + floor_div(std::chrono::floor<Duration>(now - first), config.every) * config.every;
}

TimePoint next_digest_at(const config::DigestConfig& config, TimePoint after) {
  return last_digest_at(config, after) + config.every;
}

}  // namespace creditwatch::scheduler
