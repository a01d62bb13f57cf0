#include "creditwatch/common/time_format.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>

using creditwatch::format_rfc3339;
using creditwatch::from_unix_ms;
using creditwatch::parse_rfc3339;
using creditwatch::to_unix_ms;

namespace {

// 2026-05-01T10:00:00Z
constexpr std::int64_t k_may_first_ten = 1'777'629'600'000;

std::int64_t ms_of(const char* text) {
  auto t = parse_rfc3339(text);
  REQUIRE_MESSAGE(t.has_value(), "did not parse: " << std::string(text));
  return to_unix_ms(*t);
}

}  // namespace

TEST_SUITE("common_time_format") {
  TEST_CASE("format_rfc3339 writes UTC with second precision") {
    CHECK(format_rfc3339(from_unix_ms(0)) == "1970-01-01T00:00:00Z");
    CHECK(format_rfc3339(from_unix_ms(k_may_first_ten)) == "2026-05-01T10:00:00Z");
    SUBCASE("fractions of a second are dropped, not rounded") {
      CHECK(format_rfc3339(from_unix_ms(k_may_first_ten + 999)) == "2026-05-01T10:00:00Z");
    }
    SUBCASE("times before the epoch floor to the earlier second") {
      CHECK(format_rfc3339(from_unix_ms(-1)) == "1969-12-31T23:59:59Z");
    }
    SUBCASE("leap day") { CHECK(format_rfc3339(from_unix_ms(1'709'208'000'000)) == "2024-02-29T12:00:00Z"); }
  }

  TEST_CASE("parse_rfc3339 with Z") {
    CHECK(ms_of("2026-05-01T10:00:00Z") == k_may_first_ten);
    CHECK(ms_of("1970-01-01T00:00:00Z") == 0);
    CHECK(ms_of("2026-05-01t10:00:00z") == k_may_first_ten);
    CHECK(ms_of("2026-05-01 10:00:00Z") == k_may_first_ten);
    CHECK(ms_of("2024-02-29T12:00:00Z") == 1'709'208'000'000);
    CHECK(ms_of("2000-02-29T00:00:00Z") == 951'782'400'000);
    CHECK(ms_of("2026-12-31T23:59:59Z") == 1'798'761'599'000);
  }

  TEST_CASE("parse_rfc3339 with fractional seconds keeps milliseconds") {
    CHECK(ms_of("2026-05-01T10:00:00.5Z") == k_may_first_ten + 500);
    CHECK(ms_of("2026-05-01T10:00:00.25Z") == k_may_first_ten + 250);
    CHECK(ms_of("2026-05-01T10:00:00.123Z") == k_may_first_ten + 123);
    CHECK(ms_of("2026-05-01T10:00:00.123456789Z") == k_may_first_ten + 123);
    CHECK(ms_of("2026-05-01T10:00:00.000Z") == k_may_first_ten);
  }

  TEST_CASE("parse_rfc3339 with numeric offsets converts to UTC") {
    CHECK(ms_of("2026-05-01T12:00:00+02:00") == k_may_first_ten);
    CHECK(ms_of("2026-05-01T04:30:00-05:30") == k_may_first_ten);
    CHECK(ms_of("2026-05-01T10:00:00+00:00") == k_may_first_ten);
    CHECK(ms_of("2026-05-01T10:00:00-00:00") == k_may_first_ten);
    CHECK(ms_of("2026-05-01T12:00:00.750+02:00") == k_may_first_ten + 750);
    SUBCASE("an offset can cross a day boundary") { CHECK(ms_of("2026-04-30T23:00:00-11:00") == k_may_first_ten); }
  }

  TEST_CASE("parse_rfc3339 rejects invalid text") {
    for (const char* text : {"",
                             "2026-05-01",
                             "2026-05-01T10:00:00",
                             "2026-05-01T10:00Z",
                             "2026-05-01X10:00:00Z",
                             "2026-05-01T10:00:00.Z",
                             "2026-05-01T10:00:00Zjunk",
                             "2026-05-01T10:00:00+0200",
                             "2026-05-01T10:00:00+02",
                             "2026-05-01T10:00:00+02:00x",
                             "2026-13-01T10:00:00Z",
                             "2026-00-01T10:00:00Z",
                             "2026-05-00T10:00:00Z",
                             "2026-05-32T10:00:00Z",
                             "2026-05-01T24:00:00Z",
                             "2026-05-01T10:60:00Z",
                             "2026-02-30T10:00:00Z",
                             "2025-02-29T10:00:00Z",
                             "2026-04-31T10:00:00Z",
                             "2100-02-29T10:00:00Z",
                             "2026-05-01T-1:00:00Z",
                             "2026-05-01T10:-5:00Z",
                             "not a time",
                             "1777629600"}) {
      const std::string shown = text;
      CAPTURE(shown);
      CHECK_FALSE(parse_rfc3339(text).has_value());
    }
  }

  TEST_CASE("format then parse round-trips to the second") {
    for (std::int64_t ms :
         {std::int64_t{0}, k_may_first_ten, std::int64_t{1'709'208'000'000}, std::int64_t{4'102'444'799'000}}) {
      CAPTURE(ms);
      CHECK(ms_of(format_rfc3339(from_unix_ms(ms)).c_str()) == ms);
    }
  }
}
