#pragma once

#include "creditwatch/common/clock.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace creditwatch {

// Parses "500ms", "30s", "5m", "2h", "7d" and compound forms like "1h30m".
// Returns nullopt on anything else (no unit, negative, unknown unit, overflow).
std::optional<Duration> parse_duration(std::string_view text);

// Formats back to the shortest exact form: 90000ms -> "1m30s".
std::string format_duration(Duration d);

// A runway for people: "12.3 days", "5.2 hours", "17 minutes", "40 seconds".
std::string describe_days(double days);

// A stretch of time on a clock for people, to the minute: "40 minutes", "2 h 10 min",
// "3 d 4 h"; "under a minute" below one.
std::string describe_span(Duration d);

}  // namespace creditwatch
