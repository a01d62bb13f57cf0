#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/config/config.hpp"

namespace creditwatch::scheduler {

// When digests are due (`digest:`). A period of whole days follows the wall clock of the
// digest's time zone: `at` (a weekday and a time, or a time alone) on every `every`-th day
// from the first such day after 1970-01-01, so "Mon 09:00" every 7d is 09:00 local on every
// Monday, before and after a DST change, and every 14d is every other Monday. A 09:00 that a
// DST change skips is read as the time after the gap (TimeZone::resolve). Shorter periods
// are counted in real time from `at` on 1970-01-01 UTC (config load allows them only in UTC).

// The first digest time strictly after `after`.
TimePoint next_digest_at(const config::DigestConfig& config, TimePoint after);

// The latest digest time at or before `now`: the end of the last period that has ended.
TimePoint last_digest_at(const config::DigestConfig& config, TimePoint now);

}  // namespace creditwatch::scheduler
