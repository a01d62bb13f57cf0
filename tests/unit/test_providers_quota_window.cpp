// What the quota-window providers share (providers/quota_window.hpp): reset times as sent,
// the reading of a window, and the reset read back from stored details.
#include "creditwatch/providers/quota_window.hpp"

#include <doctest/doctest.h>

using namespace creditwatch;
using namespace creditwatch::providers;

TEST_SUITE("providers_quota_window") {
  TEST_CASE("reset times in epoch milliseconds, seconds or numeric strings - anything else is none") {
    const TimePoint expected = from_unix_ms(1'777'600'800'000);
    CHECK(epoch_time(nlohmann::json(1'777'600'800'000LL)) == expected);
    CHECK(epoch_time(nlohmann::json(1'777'600'800LL)) == expected);
    CHECK(epoch_time(nlohmann::json("1777600800000")) == expected);
    CHECK(epoch_time(nlohmann::json(1.7776008e12)) == expected);
    for (const auto& bad : {nlohmann::json(nullptr), nlohmann::json(true), nlohmann::json(-5), nlohmann::json(0),
                            nlohmann::json("soon"), nlohmann::json("1e12"), nlohmann::json(1e20),
                            // "never" as the year 3000 in seconds, and 2100 in milliseconds
                            nlohmann::json(32'503'680'000LL), nlohmann::json(4'102'444'800'000LL)}) {
      CAPTURE(bad.dump());
      CHECK_FALSE(epoch_time(bad).has_value());
    }
  }

  TEST_CASE("a window reading is clamped to 0-100 percent and carries its reset back") {
    const TimePoint reset = from_unix_ms(1'777'600'800'000);
    auto over = window_reading(QuotaWindow::weekly, *Decimal::parse("104.5"), reset);
    REQUIRE(over.balances.size() == 1);
    CHECK(over.balances[0].currency == "percent");
    CHECK(over.balances[0].balance == *Decimal::parse("100"));
    CHECK(over.balances[0].details["window"] == "weekly window");
    CHECK(window_resets_at(over.balances[0].details) == reset);
    CHECK(window_resets_at(over.balances[0].details.dump()) == reset);
    CHECK(over.available);

    auto under = window_reading(QuotaWindow::five_hour, *Decimal::parse("-3"), std::nullopt);
    CHECK(under.balances[0].balance == Decimal());
    CHECK_FALSE(under.available);
    CHECK(under.unavailable_reason == "5-hour window used up");
    CHECK_FALSE(window_resets_at(under.balances[0].details).has_value());
    CHECK_FALSE(window_resets_at(std::string(R"({"granted_balance":"1.00"})")).has_value());
    CHECK_FALSE(window_resets_at(std::string("not json resets_at")).has_value());
  }
}
