#include "creditwatch/common/civil_time.hpp"

#include <cstdio>

namespace creditwatch {

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return k_days[month - 1] + (month == 2 && is_leap_year(year) ? 1 : 0);
}

std::int64_t days_from_civil(int year, int month, int day) {
  // Years start in March, so the leap day is the last day of its year.
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

CivilTime civil_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t day_of_era = z - era * 146097;
  const std::int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  CivilTime out;
  out.day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  out.month = static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  out.year = static_cast<int>(year_of_era + era * 400 + (out.month <= 2 ? 1 : 0));
  return out;
}

Weekday weekday_of(const CivilTime& date) {
  const std::int64_t days = days_from_civil(date.year, date.month, date.day);
  // 1970-01-01 was a Thursday (4).
  return static_cast<Weekday>(((days % 7 + 7) % 7 + 4) % 7);
}

std::int64_t seconds_from_civil(const CivilTime& civil) {
  return days_from_civil(civil.year, civil.month, civil.day) * 86400 + civil.hour * 3600 + civil.minute * 60 +
         civil.second;
}

CivilTime civil_from_seconds(std::int64_t seconds) {
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  CivilTime out = civil_from_days(days);
  out.hour = static_cast<int>(rest / 3600);
  out.minute = static_cast<int>(rest / 60 % 60);
  out.second = static_cast<int>(rest % 60);
  return out;
}

CivilTime add_days(const CivilTime& civil, std::int64_t days) {
  CivilTime out = civil_from_days(days_from_civil(civil.year, civil.month, civil.day) + days);
  out.hour = civil.hour;
  out.minute = civil.minute;
  out.second = civil.second;
  return out;
}

std::string to_string(const CivilTime& civil) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d:%02d", civil.year, civil.month, civil.day, civil.hour,
                civil.minute, civil.second);
  return buffer;
}

}  // namespace creditwatch
