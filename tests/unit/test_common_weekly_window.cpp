#include "creditwatch/common/weekly_window.hpp"

#include "creditwatch/common/time_format.hpp"

#include <doctest/doctest.h>

#include <string>

using creditwatch::TimePoint;
using creditwatch::TimeZone;
using creditwatch::Weekday;
using creditwatch::WeeklyWindow;

namespace {

TimePoint utc(const char* text) {
  auto t = creditwatch::parse_rfc3339(text);
  REQUIRE_MESSAGE(t.has_value(), text);
  return *t;
}

WeeklyWindow window(const char* zone, std::initializer_list<Weekday> days, int start_hhmm, int end_hhmm) {
  WeeklyWindow w;
  for (auto day : days) w.days[static_cast<std::size_t>(day)] = true;
  w.start_minute = start_hhmm / 100 * 60 + start_hhmm % 100;
  w.end_minute = end_hhmm / 100 * 60 + end_hhmm % 100;
  auto loaded = TimeZone::load(zone);
  REQUIRE(loaded.ok());
  w.zone = *loaded;
  return w;
}

// "START..END" of the stretch holding `at` or the next one, in UTC.
std::string stretch(const WeeklyWindow& w, const char* at) {
  auto found = w.current_or_next(utc(at));
  if (!found) return "none";
  return creditwatch::format_rfc3339(found->start) + ".." + creditwatch::format_rfc3339(found->end);
}

}  // namespace

TEST_SUITE("common_weekly_window") {
  TEST_CASE("Berlin, Sundays 01:30-03:30: an hour on the spring-forward night, three on the fall-back night") {
    const auto w = window("Europe/Berlin", {Weekday::sunday}, 130, 330);
    // 2026-03-29: 01:30 CET is 00:30Z; 03:30 CEST is 01:30Z (02:00-03:00 never happened).
    CHECK(stretch(w, "2026-03-28T12:00:00Z") == "2026-03-29T00:30:00Z..2026-03-29T01:30:00Z");
    CHECK_FALSE(w.contains(utc("2026-03-29T00:29:59Z")));
    CHECK(w.contains(utc("2026-03-29T00:30:00Z")));
    CHECK(w.contains(utc("2026-03-29T01:29:59Z")));
    CHECK_FALSE(w.contains(utc("2026-03-29T01:30:00Z")));
    // 2026-10-25: 01:30 CEST is 23:30Z the day before; 03:30 CET is 02:30Z (02:00-03:00 twice).
    CHECK(stretch(w, "2026-10-24T12:00:00Z") == "2026-10-24T23:30:00Z..2026-10-25T02:30:00Z");
    CHECK(w.contains(utc("2026-10-24T23:30:00Z")));
    CHECK(w.contains(utc("2026-10-25T01:45:00Z")));  // the second 02:45, CET
    CHECK_FALSE(w.contains(utc("2026-10-25T02:30:00Z")));
    // An ordinary summer Sunday: CEST all night.
    CHECK(stretch(w, "2026-07-04T12:00:00Z") == "2026-07-04T23:30:00Z..2026-07-05T01:30:00Z");
  }

  TEST_CASE("Berlin: a window inside the skipped hour does not run, and one inside the repeated hour runs once") {
    const auto skipped = window("Europe/Berlin", {Weekday::sunday}, 200, 300);
    CHECK(stretch(skipped, "2026-03-28T12:00:00Z") == "2026-04-05T00:00:00Z..2026-04-05T01:00:00Z");
    const auto starts_in_gap = window("Europe/Berlin", {Weekday::sunday}, 230, 400);
    CHECK(stretch(starts_in_gap, "2026-03-28T12:00:00Z") == "2026-03-29T01:30:00Z..2026-03-29T02:00:00Z");
    const auto repeated = window("Europe/Berlin", {Weekday::sunday}, 215, 245);
    CHECK(stretch(repeated, "2026-10-24T12:00:00Z") == "2026-10-25T00:15:00Z..2026-10-25T00:45:00Z");
    CHECK_FALSE(repeated.contains(utc("2026-10-25T01:20:00Z")));  // 02:20 CET, the second time round
  }

  TEST_CASE("America/New_York, Sundays 01:30-03:30 across both changes") {
    const auto w = window("America/New_York", {Weekday::sunday}, 130, 330);
    CHECK(stretch(w, "2026-03-07T12:00:00Z") == "2026-03-08T06:30:00Z..2026-03-08T07:30:00Z");
    CHECK(stretch(w, "2026-10-31T12:00:00Z") == "2026-11-01T05:30:00Z..2026-11-01T08:30:00Z");
    CHECK(stretch(w, "2026-11-07T12:00:00Z") == "2026-11-08T06:30:00Z..2026-11-08T08:30:00Z");
  }

  TEST_CASE("an end not after the start runs over midnight and belongs to its starting day") {
    const auto w = window("UTC", {Weekday::saturday}, 2200, 200);
    CHECK(stretch(w, "2026-12-05T12:00:00Z") == "2026-12-05T22:00:00Z..2026-12-06T02:00:00Z");
    CHECK(w.contains(utc("2026-12-06T01:59:00Z")));  // Sunday morning, Saturday's window
    CHECK_FALSE(w.contains(utc("2026-12-06T22:30:00Z")));  // Sunday night is not listed
    CHECK_FALSE(w.contains(utc("2026-12-04T23:00:00Z")));  // nor Friday night
    CHECK(stretch(w, "2026-12-06T03:00:00Z") == "2026-12-12T22:00:00Z..2026-12-13T02:00:00Z");
  }

  TEST_CASE("stretches that meet are one, and a window with no days never comes") {
    const auto every_day = window("UTC", {Weekday::sunday, Weekday::monday, Weekday::tuesday, Weekday::wednesday,
                                          Weekday::thursday, Weekday::friday, Weekday::saturday},
                                  0, 0);
    auto found = every_day.current_or_next(utc("2026-12-06T10:00:00Z"));
    REQUIRE(found);
    CHECK(found->start <= utc("2026-12-06T10:00:00Z"));
    CHECK(found->end >= utc("2026-12-13T00:00:00Z"));
    const auto weekend = window("UTC", {Weekday::saturday, Weekday::sunday}, 0, 0);
    CHECK(stretch(weekend, "2026-12-03T00:00:00Z") == "2026-12-05T00:00:00Z..2026-12-07T00:00:00Z");
    CHECK(stretch(window("UTC", {}, 100, 200), "2026-12-03T00:00:00Z") == "none");
    CHECK_FALSE(window("UTC", {}, 100, 200).contains(utc("2026-12-03T01:30:00Z")));
  }
}
