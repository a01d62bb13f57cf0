// How an account's own forecasts fared, as the summary keeps it (12 bytes), the API shows it
// and the `status` / `check` tables print it.
#include "creditwatch/scheduler/forecast_record.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using creditwatch::forecast::TrackRecord;
using creditwatch::scheduler::compact;
using creditwatch::scheduler::describe_p10_hits;
using creditwatch::scheduler::expand;
using creditwatch::scheduler::ForecastRecord;
using creditwatch::scheduler::to_json;

TEST_SUITE("scheduler.forecast_record") {
  TEST_CASE("kept in 12 bytes and read back as the shares that were stored") {
    static_assert(sizeof(ForecastRecord) == 12);
    const auto back = expand(compact(TrackRecord{40, 0.1, 0.475}));
    CHECK(back.forecasts_checked == 40);
    // Exactly 0.1, not the float's 0.10000000149011612: /metrics prints this double.
    CHECK(back.p10_coverage == 0.1);
    CHECK(back.p50_coverage == 0.475);
  }

  TEST_CASE("a count past what 32 bits hold saturates instead of wrapping") {
    const auto huge = static_cast<std::size_t>(std::numeric_limits<std::uint32_t>::max()) + 5;
    CHECK(compact(TrackRecord{huge, 0.1, 0.5}).forecasts_checked == std::numeric_limits<std::uint32_t>::max());
  }

  TEST_CASE("the API shape: the count and the shares to three decimals, or null") {
    const auto j = to_json(compact(TrackRecord{40, 0.123456, 0.5}));
    CHECK(j == nlohmann::json{{"forecasts_checked", 40}, {"p10_coverage", 0.123}, {"p50_coverage", 0.5}});
    CHECK(to_json(std::nullopt).is_null());
    // A share that is not a number reads 0 rather than making the API's JSON invalid.
    CHECK(to_json(ForecastRecord{3, std::nanf(""), 0.5F})["p10_coverage"] == 0.0);
  }

  TEST_CASE("the table's P10 HIT: the percentage of how many forecasts, or a dash") {
    CHECK(describe_p10_hits(TrackRecord{40, 0.125, 0.5}) == "13% of 40");
    CHECK(describe_p10_hits(TrackRecord{7, 0.0, 0.2}) == "0% of 7");
    CHECK(describe_p10_hits(TrackRecord{12, 1.0, 1.0}) == "100% of 12");
    CHECK(describe_p10_hits(std::nullopt) == "-");
  }
}
