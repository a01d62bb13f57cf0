#pragma once

#include "creditwatch/common/clock.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace creditwatch {

// RFC 3339 in UTC with second precision: "2026-05-01T10:00:00Z".
std::string format_rfc3339(TimePoint t);
// Accepts "2026-05-01T10:00:00Z", fractional seconds and numeric offsets ("+02:00").
std::optional<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace creditwatch
