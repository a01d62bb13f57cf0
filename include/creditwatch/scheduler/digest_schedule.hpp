#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/config/config.hpp"

namespace creditwatch::scheduler {

// When digests are due (`digest:`): the instants anchor + k * every, where the anchor is the
// first `at` (weekday and time of day, or time of day alone) at or after the Unix epoch in
// the digest's time zone. "Mon 09:00" every 7d is every Monday at 09:00; every 14d, every
// other Monday. Config load admits only UTC for now, so these are UTC instants; a
// tz-database zone would change only these two functions.

// The first digest time strictly after `after`.
TimePoint next_digest_at(const config::DigestConfig& config, TimePoint after);

// The latest digest time at or before `now`: the end of the last period that has ended.
TimePoint last_digest_at(const config::DigestConfig& config, TimePoint now);

}  // namespace creditwatch::scheduler
