#include "creditwatch/common/decimal.hpp"

#include <doctest/doctest.h>

using creditwatch::Decimal;

TEST_SUITE("common_decimal") {
  TEST_CASE("parses strings and numbers exactly") {
    CHECK(Decimal::parse("110.00")->micros() == 110'000'000);
    CHECK(Decimal::parse("-3.5")->to_string() == "-3.50");
    CHECK(Decimal::parse("0.0000015")->micros() == 2);
    CHECK(Decimal::parse("1e3")->to_string() == "1000.00");
    CHECK_FALSE(Decimal::parse("abc"));
    CHECK_FALSE(Decimal::parse(""));
    CHECK_FALSE(Decimal::parse("1.2.3"));
  }
}
