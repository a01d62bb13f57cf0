#include "creditwatch/common/civil_time.hpp"

#include <doctest/doctest.h>

using namespace creditwatch;

TEST_SUITE("common_civil_time") {
  TEST_CASE("days_from_civil and civil_from_days agree with known dates") {
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(days_from_civil(2000, 3, 1) == 11017);
    CHECK(days_from_civil(1969, 12, 31) == -1);
    CHECK(civil_from_days(11016) == CivilTime{2000, 2, 29});
    for (std::int64_t day = -800000; day < 800000; day += 997) {
      const CivilTime date = civil_from_days(day);
      CHECK(days_from_civil(date.year, date.month, date.day) == day);
    }
  }

  TEST_CASE("weekday_of counts Sunday as 0, before and after 1970") {
    CHECK(weekday_of({1970, 1, 1}) == Weekday::thursday);
    CHECK(weekday_of({2026, 3, 29}) == Weekday::sunday);
    CHECK(weekday_of({2026, 12, 7}) == Weekday::monday);
    CHECK(weekday_of({1969, 12, 28}) == Weekday::sunday);
    CHECK(weekday_of({1900, 1, 1}) == Weekday::monday);
  }

  TEST_CASE("seconds_from_civil and civil_from_seconds round-trip, negative seconds too") {
    const CivilTime t{2026, 3, 29, 2, 30, 15};
    CHECK(civil_from_seconds(seconds_from_civil(t)) == t);
    CHECK(civil_from_seconds(-1) == CivilTime{1969, 12, 31, 23, 59, 59});
    CHECK(to_string(add_days(t, 3)) == "2026-04-01 02:30:15");
    CHECK(to_string(add_days(t, -29)) == "2026-02-28 02:30:15");
    CHECK(days_in_month(2028, 2) == 29);
    CHECK(days_in_month(2100, 2) == 28);
  }
}
