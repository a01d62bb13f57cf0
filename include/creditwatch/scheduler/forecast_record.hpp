#pragma once

#include "creditwatch/forecast/forecaster.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace creditwatch::scheduler {

// How the account's own earlier forecasts fared (forecast::TrackRecord), as the per-account
// summary keeps it: 12 bytes instead of 24, since the daemon holds one for each of
// thousands of accounts and shows the shares to three decimals at most.
struct ForecastRecord {
  std::uint32_t forecasts_checked = 0;
  float p10_coverage = 0;  // share of checked forecasts where spend outran the P10 runway
  float p50_coverage = 0;  // ... and the median; calibrated: 0.10 and 0.50
};

ForecastRecord compact(const forecast::TrackRecord& record);
forecast::TrackRecord expand(const ForecastRecord& record);

// The API's "forecast_record": {"forecasts_checked": N, "p10_coverage": x, "p50_coverage": y}
// (shares rounded to three decimals), or null while the account has too little history.
nlohmann::json to_json(const std::optional<ForecastRecord>& record);

// The share of forecasts where spend outran the P10, for tables: "12% of 40", or "-" while
// there is no record.
std::string describe_p10_hits(const std::optional<forecast::TrackRecord>& record);

}  // namespace creditwatch::scheduler
