#include "creditwatch/common/duration.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

using creditwatch::Duration;
using creditwatch::format_duration;
using creditwatch::parse_duration;
using namespace std::chrono_literals;

namespace {

std::int64_t ms_of(const char* text) {
  auto d = parse_duration(text);
  REQUIRE_MESSAGE(d.has_value(), "did not parse: " << std::string(text));
  return d->count();
}

}  // namespace

TEST_SUITE("common_duration") {
  TEST_CASE("parse_duration reads each unit") {
    CHECK(ms_of("500ms") == 500);
    CHECK(ms_of("30s") == 30'000);
    CHECK(ms_of("5m") == 300'000);
    CHECK(ms_of("2h") == 7'200'000);
    CHECK(ms_of("7d") == 604'800'000);
    CHECK(ms_of("0s") == 0);
    CHECK(ms_of("400d") == 400LL * 86'400'000);
  }

  TEST_CASE("parse_duration adds compound forms") {
    CHECK(ms_of("1h30m") == 5'400'000);
    CHECK(ms_of("1m30s") == 90'000);
    CHECK(ms_of("1d12h") == 129'600'000);
    CHECK(ms_of("2s500ms") == 2'500);
    CHECK(ms_of("1h1m1s1ms") == 3'661'001);
  }

  TEST_CASE("parse_duration rejects malformed text") {
    SUBCASE("no unit") {
      CHECK_FALSE(parse_duration("5"));
      CHECK_FALSE(parse_duration("1h30"));
    }
    SUBCASE("unknown unit") {
      CHECK_FALSE(parse_duration("5x"));
      CHECK_FALSE(parse_duration("5min"));
      CHECK_FALSE(parse_duration("5sec"));
      CHECK_FALSE(parse_duration("5M"));  // units are lower case
      CHECK_FALSE(parse_duration("5y"));
    }
    SUBCASE("negative") {
      CHECK_FALSE(parse_duration("-5m"));
      CHECK_FALSE(parse_duration("1h-5m"));
    }
    SUBCASE("empty or not a number") {
      CHECK_FALSE(parse_duration(""));
      CHECK_FALSE(parse_duration("m"));
      CHECK_FALSE(parse_duration("h5"));
      CHECK_FALSE(parse_duration(" 5m"));
      CHECK_FALSE(parse_duration("5 m"));
      CHECK_FALSE(parse_duration("5m "));
      CHECK_FALSE(parse_duration("1.5h"));
    }
  }

  TEST_CASE("parse_duration detects overflow exactly") {
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    constexpr std::int64_t day = 86'400'000;
    SUBCASE("a single huge number") {
      CHECK_FALSE(parse_duration("99999999999999999999ms"));
      CHECK_FALSE(parse_duration("9223372036854775808ms"));
    }
    SUBCASE("the largest whole number of days fits, one more does not") {
      CHECK(ms_of("106751991167d") == (max / day) * day);
      CHECK_FALSE(parse_duration("106751991168d"));
    }
    SUBCASE("a compound whose sum overflows") { CHECK_FALSE(parse_duration("106751991167d1d")); }
    SUBCASE("large compounds that fit are accepted") {
      CHECK(ms_of("106751991166d23h") == 106751991166LL * day + 23LL * 3'600'000);
      CHECK(ms_of("100000d1d") == 100001LL * day);
    }
  }

  TEST_CASE("format_duration gives the shortest exact form") {
    CHECK(format_duration(Duration(90'000)) == "1m30s");
    CHECK(format_duration(Duration(500)) == "500ms");
    CHECK(format_duration(30s) == "30s");
    CHECK(format_duration(5min) == "5m");
    CHECK(format_duration(2h) == "2h");
    CHECK(format_duration(std::chrono::hours(24 * 7)) == "7d");
    CHECK(format_duration(90min) == "1h30m");
    CHECK(format_duration(Duration(0)) == "0s");
    CHECK(format_duration(Duration(86'400'000 + 1)) == "1d1ms");
    CHECK(format_duration(-5min) == "-5m");
  }

  TEST_CASE("format and parse round-trip") {
    for (const char* text : {"500ms", "30s", "5m", "2h", "7d", "1h30m", "1d2h3m4s5ms", "400d"}) {
      const std::string shown = text;
      CAPTURE(shown);
      auto parsed = parse_duration(text);
      REQUIRE(parsed);
      CHECK(format_duration(*parsed) == text);
    }
  }
}
