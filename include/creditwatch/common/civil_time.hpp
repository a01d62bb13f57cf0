#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace creditwatch {

// A date and time of day as a wall clock shows it, in no particular zone (proleptic
// Gregorian calendar). TimeZone turns it into instants and back.
struct CivilTime {
  int year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..59

  auto operator<=>(const CivilTime&) const = default;
};

// Days of the week as the tz database and POSIX number them: Sunday is 0.
enum class Weekday { sunday, monday, tuesday, wednesday, thursday, friday, saturday };

bool is_leap_year(int year);
int days_in_month(int year, int month);

// Days from 1970-01-01 to year-month-day (negative before), and back. Exact for any date
// an int year can hold (Howard Hinnant's algorithms).
std::int64_t days_from_civil(int year, int month, int day);
CivilTime civil_from_days(std::int64_t days);

Weekday weekday_of(const CivilTime& date);

// `civil` read as if it were UTC, in seconds since the epoch, and back: the arithmetic that
// time zones add their offsets to.
std::int64_t seconds_from_civil(const CivilTime& civil);
CivilTime civil_from_seconds(std::int64_t seconds);

// The same time of day `days` calendar days later (or earlier).
CivilTime add_days(const CivilTime& civil, std::int64_t days);

// "2026-03-29 02:30:00", for messages and test failures.
std::string to_string(const CivilTime& civil);

}  // namespace creditwatch
