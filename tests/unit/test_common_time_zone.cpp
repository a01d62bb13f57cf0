#include "creditwatch/common/time_zone.hpp"

#include "creditwatch/common/time_format.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using creditwatch::CivilTime;
using creditwatch::TimePoint;
using creditwatch::TimeZone;

namespace {

// The expected values below were read off Python's zoneinfo for the same instants.

TimeZone zone(const char* name) {
  auto loaded = TimeZone::load(name);
  REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error()));
  return *loaded;
}

TimePoint utc(const char* text) {
  auto t = creditwatch::parse_rfc3339(text);
  REQUIRE_MESSAGE(t.has_value(), text);
  return *t;
}

long offset(const TimeZone& z, const char* instant) { return static_cast<long>(z.offset_at(utc(instant)).count()); }

std::string local(const TimeZone& z, const char* instant) { return to_string(z.to_local(utc(instant))); }

std::string error_of(const char* name) {
  auto loaded = TimeZone::load(name);
  return loaded.ok() ? "(loaded)" : loaded.error();
}

std::vector<std::string> instants(const TimeZone& z, CivilTime civil) {
  std::vector<std::string> out;
  for (auto t : z.instants_of(civil)) out.push_back(creditwatch::format_rfc3339(t));
  return out;
}

}  // namespace

TEST_SUITE("common_time_zone") {
  TEST_CASE("Europe/Berlin changes at 01:00 UTC on the last Sundays of March and October") {
    const auto berlin = zone("Europe/Berlin");
    CHECK(offset(berlin, "2026-03-29T00:59:59Z") == 3600);
    CHECK(offset(berlin, "2026-03-29T01:00:00Z") == 7200);
    CHECK(local(berlin, "2026-03-29T01:00:00Z") == "2026-03-29 03:00:00");
    CHECK(berlin.abbreviation_at(utc("2026-03-29T01:00:00Z")) == "CEST");
    CHECK(berlin.is_dst_at(utc("2026-03-29T01:00:00Z")));
    CHECK(offset(berlin, "2026-10-25T00:59:59Z") == 7200);
    CHECK(offset(berlin, "2026-10-25T01:00:00Z") == 3600);
    CHECK(local(berlin, "2026-10-25T01:00:00Z") == "2026-10-25 02:00:00");
    CHECK(berlin.abbreviation_at(utc("2026-10-25T01:00:00Z")) == "CET");
  }

  TEST_CASE("Europe/Berlin's history: 1995, 1916 and local mean time before 1893") {
    const auto berlin = zone("Europe/Berlin");
    CHECK(offset(berlin, "1995-06-01T00:00:00Z") == 7200);
    CHECK(offset(berlin, "1916-06-01T00:00:00Z") == 7200);
    CHECK(offset(berlin, "1800-01-01T00:00:00Z") == 3208);
    CHECK(berlin.abbreviation_at(utc("1800-01-01T00:00:00Z")) == "LMT");
  }

  TEST_CASE("America/New_York changes on the second Sunday of March and the first of November") {
    const auto new_york = zone("America/New_York");
    CHECK(offset(new_york, "2026-03-08T06:59:59Z") == -18000);
    CHECK(offset(new_york, "2026-03-08T07:00:00Z") == -14400);
    CHECK(local(new_york, "2026-03-08T07:00:00Z") == "2026-03-08 03:00:00");
    CHECK(offset(new_york, "2026-11-01T05:59:59Z") == -14400);
    CHECK(offset(new_york, "2026-11-01T06:00:00Z") == -18000);
    CHECK(local(new_york, "2026-11-01T06:00:00Z") == "2026-11-01 01:00:00");
  }

  TEST_CASE("Australia/Lord_Howe moves by half an hour, with daylight time across the new year") {
    const auto lord_howe = zone("Australia/Lord_Howe");
    CHECK(offset(lord_howe, "2026-10-03T15:29:59Z") == 37800);
    CHECK(offset(lord_howe, "2026-10-03T15:30:00Z") == 39600);
    CHECK(local(lord_howe, "2026-10-03T15:30:00Z") == "2026-10-04 02:30:00");
    CHECK(offset(lord_howe, "2026-04-04T14:59:59Z") == 39600);
    CHECK(offset(lord_howe, "2026-04-04T15:00:00Z") == 37800);
    CHECK(local(lord_howe, "2026-04-04T15:00:00Z") == "2026-04-05 01:30:00");
    CHECK(offset(lord_howe, "2027-01-15T12:00:00Z") == 39600);
  }

  TEST_CASE("Asia/Kolkata is +05:30 now and was +06:30 in 1943") {
    const auto kolkata = zone("Asia/Kolkata");
    CHECK(offset(kolkata, "2026-06-01T00:00:00Z") == 19800);
    CHECK(local(kolkata, "2026-06-01T00:00:00Z") == "2026-06-01 05:30:00");
    CHECK(kolkata.abbreviation_at(utc("2026-06-01T00:00:00Z")) == "IST");
    CHECK(offset(kolkata, "1943-06-01T00:00:00Z") == 23400);
  }

  TEST_CASE("far-future instants follow the file's closing POSIX rule") {
    CHECK(offset(zone("Europe/Berlin"), "2100-07-01T12:00:00Z") == 7200);
    CHECK(offset(zone("America/New_York"), "2100-01-01T12:00:00Z") == -18000);
    CHECK(offset(zone("America/New_York"), "2100-03-14T06:59:59Z") == -18000);
    CHECK(offset(zone("America/New_York"), "2100-03-14T07:00:00Z") == -14400);
    CHECK(offset(zone("Australia/Lord_Howe"), "2100-01-01T12:00:00Z") == 39600);
    // (TimePoint counts nanoseconds in 64 bits, which ends in 2262.)
    CHECK(offset(zone("Asia/Kolkata"), "2200-01-01T00:00:00Z") == 19800);
  }

  TEST_CASE("POSIX rules on their own: M, J and day-of-year forms, quoted names, minutes") {
    auto tehran = TimeZone::from_posix_rule("<+0330>-3:30");
    REQUIRE(tehran.ok());
    CHECK(tehran->offset_at(utc("2026-06-01T00:00:00Z")).count() == 12600);
    CHECK(tehran->abbreviation_at(utc("2026-06-01T00:00:00Z")) == "+0330");
    auto eastern = TimeZone::from_posix_rule("EST5EDT,M3.2.0,M11.1.0");
    REQUIRE(eastern.ok());
    CHECK(eastern->offset_at(utc("2026-03-08T06:59:59Z")).count() == -18000);
    CHECK(eastern->offset_at(utc("2026-03-08T07:00:00Z")).count() == -14400);
    // J60 is March 1 in every year; 59 (zero-based, Feb 29 counted) is March 1 only in a
    // common year. Both with the change at 02:00 standard time.
    auto julian = TimeZone::from_posix_rule("AAA0BBB,J60,J300");
    REQUIRE(julian.ok());
    CHECK(julian->offset_at(utc("2028-03-01T01:59:59Z")).count() == 0);
    CHECK(julian->offset_at(utc("2028-03-01T02:00:00Z")).count() == 3600);
    auto zero_based = TimeZone::from_posix_rule("AAA0BBB,59,300");
    REQUIRE(zero_based.ok());
    CHECK(zero_based->offset_at(utc("2028-02-29T02:00:00Z")).count() == 3600);
    CHECK(zero_based->offset_at(utc("2028-02-29T01:59:59Z")).count() == 0);
    // A time past 24h (RFC 8536 version 3): Greenland-style "-1" at 25:00 the day before.
    auto late = TimeZone::from_posix_rule("XXX3YYY,M3.5.0/-2,M10.5.0/-1");
    REQUIRE(late.ok());
    CHECK(late->offset_at(utc("2026-03-29T00:59:59Z")).count() == -10800);
    CHECK(late->offset_at(utc("2026-03-29T01:00:00Z")).count() == -7200);
    CHECK_FALSE(TimeZone::from_posix_rule("CET").ok());
    CHECK_FALSE(TimeZone::from_posix_rule("CET-1CEST,M13.5.0,M10.5.0").ok());
    CHECK_FALSE(TimeZone::from_posix_rule("CET-1CEST,M3.5.0").ok());
  }

  TEST_CASE("UTC and Etc/UTC need no file") {
    auto utc_zone = TimeZone::load("UTC");
    REQUIRE(utc_zone.ok());
    CHECK(utc_zone->offset_at(utc("2026-06-01T00:00:00Z")).count() == 0);
    CHECK(TimeZone::load("Etc/UTC").ok());
    CHECK(TimeZone().name() == "UTC");
    CHECK(TimeZone() == *utc_zone);
  }

  TEST_CASE("names that are not zones are refused with a reason") {
    CHECK(error_of("Europe/Berln").find("unknown time zone \"Europe/Berln\"") == 0);
    CHECK(error_of("Europe/Berln").find("tzdata") != std::string::npos);
    CHECK(error_of("../../etc/passwd") == "\"../../etc/passwd\" is not a time zone name (like Europe/Berlin or UTC)");
    CHECK(error_of("/etc/localtime").find("is not a time zone name") != std::string::npos);
    CHECK(error_of("Europe/./Berlin").find("is not a time zone name") != std::string::npos);
    CHECK(error_of("Europe/Berlin/").find("is not a time zone name") != std::string::npos);
    CHECK(error_of("Etc/GMT+5").find("(loaded)") == 0);
    CHECK(error_of("Europe").find("is a region") != std::string::npos);
    CHECK(error_of("").find("is not a time zone name") != std::string::npos);
  }

  TEST_CASE("TZif data that is cut short or not TZif is refused") {
    CHECK_FALSE(TimeZone::from_tzif("X", "").ok());
    CHECK(TimeZone::from_tzif("X", "not a zone file at all, but long enough to hold a header").error() ==
          "time zone \"X\" cannot be used: it is not a TZif file");
    std::string header = "TZif2";
    header.resize(44, '\0');
    header[43] = 1;  // one abbreviation byte, no types
    CHECK_FALSE(TimeZone::from_tzif("X", header).ok());
    std::ifstream file("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
    const std::string berlin((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    REQUIRE(berlin.size() > 200);
    CHECK(TimeZone::from_tzif("Europe/Berlin", berlin).ok());
    CHECK(TimeZone::from_tzif("Europe/Berlin", berlin.substr(0, berlin.size() / 2)).error() ==
          "time zone \"Europe/Berlin\" cannot be used: it is cut short");
    CHECK(TimeZone::from_tzif("Europe/Berlin", berlin.substr(0, berlin.size() - 1)).error() ==
          "time zone \"Europe/Berlin\" cannot be used: its closing rule is missing");
  }

  TEST_CASE("local times: one instant, none in the spring gap, two in the autumn overlap") {
    const auto berlin = zone("Europe/Berlin");
    using V = std::vector<std::string>;
    CHECK(instants(berlin, {2026, 3, 29, 1, 30, 0}) == V{"2026-03-29T00:30:00Z"});
    CHECK(instants(berlin, {2026, 3, 29, 2, 30, 0}).empty());
    CHECK(instants(berlin, {2026, 3, 29, 3, 30, 0}) == V{"2026-03-29T01:30:00Z"});
    CHECK(instants(berlin, {2026, 10, 25, 2, 30, 0}) == V{"2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"});
    CHECK(instants(berlin, {2026, 10, 25, 3, 30, 0}) == V{"2026-10-25T02:30:00Z"});
    const auto lord_howe = zone("Australia/Lord_Howe");
    CHECK(instants(lord_howe, {2026, 10, 4, 2, 15, 0}).empty());
    CHECK(instants(lord_howe, {2026, 4, 5, 1, 45, 0}).size() == 2);
  }

  TEST_CASE("resolve takes the earlier instant of an overlap and moves a gap's time forward") {
    const auto berlin = zone("Europe/Berlin");
    CHECK(creditwatch::format_rfc3339(berlin.resolve({2026, 10, 25, 2, 30, 0})) == "2026-10-25T00:30:00Z");
    // 02:30 does not exist on 2026-03-29; read with CET's offset it is 03:30 CEST.
    CHECK(creditwatch::format_rfc3339(berlin.resolve({2026, 3, 29, 2, 30, 0})) == "2026-03-29T01:30:00Z");
    const auto new_york = zone("America/New_York");
    CHECK(creditwatch::format_rfc3339(new_york.resolve({2026, 3, 8, 2, 15, 0})) == "2026-03-08T07:15:00Z");
    CHECK(creditwatch::format_rfc3339(new_york.resolve({2026, 11, 1, 1, 15, 0})) == "2026-11-01T05:15:00Z");
  }

  TEST_CASE("copies share one loaded zone and work from many threads") {
    const auto berlin = zone("Europe/Berlin");
    const TimeZone copy = berlin;
    CHECK(copy == berlin);
    CHECK(copy.offset_at(utc("2026-07-01T00:00:00Z")).count() == 7200);
    CHECK_FALSE(copy == zone("America/New_York"));
  }
}
