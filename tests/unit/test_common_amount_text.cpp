// Every message writes an amount the same way, whatever the account counts in.
#include "creditwatch/common/amount_text.hpp"

#include <doctest/doctest.h>

using creditwatch::amount_with_unit;

TEST_CASE("an amount with its currency or unit") {
  CHECK(amount_with_unit("12.50", "USD") == "12.50 USD");
  CHECK(amount_with_unit("100.00", "CNY") == "100.00 CNY");
  CHECK(amount_with_unit("5958.00", "searches") == "5958 searches");
  CHECK(amount_with_unit("12.50", "characters") == "12.5 characters");
  CHECK(amount_with_unit("12.00", "percent") == "12 %");
  CHECK(amount_with_unit("-3.10", "credits") == "-3.1 credits");
  CHECK(amount_with_unit("7", "") == "7");
  CHECK(amount_with_unit("1e5", "credits") == "1e5 credits");  // not a plain decimal: left as is
}
