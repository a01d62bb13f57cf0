#pragma once

// The POSIX TZ string that ends a TZif file ("CET-1CEST,M3.5.0,M10.5.0/3"): the rule for
// every instant after the file's last transition. Private to common (time_zone.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace creditwatch::posix_tz {

// One local time type: seconds east of UTC (POSIX writes them west: "CET-1" is +3600).
struct ZoneType {
  std::int32_t offset = 0;
  bool dst = false;
  std::string abbreviation;
};

// The day a change happens each year and the local time of day it happens at.
struct ChangeRule {
  enum class Form { month_week_day, julian_no_leap, day_of_year };
  Form form = Form::month_week_day;
  int month = 0;    // Mm.w.d: 1..12
  int week = 0;     // Mm.w.d: 1..5, 5 being the last such weekday of the month
  int weekday = 0;  // Mm.w.d: 0 (Sunday)..6
  int day = 0;      // Jn: 1..365, February 29 never counted; n: 0..365, counted
  std::int32_t time = 7200;  // seconds after local midnight; RFC 8536 allows -167h..167h
};

struct Rule {
  ZoneType standard;
  std::optional<ZoneType> daylight;
  ChangeRule start;  // into daylight time, at local standard time
  ChangeRule end;    // back to standard time, at local daylight time
};

// Parses a TZ string; nullopt when it is not one (or uses a form we do not read).
std::optional<Rule> parse(std::string_view text);

// The type in effect at `unix_seconds` under `rule`.
const ZoneType& type_at(const Rule& rule, std::int64_t unix_seconds);

}  // namespace creditwatch::posix_tz
