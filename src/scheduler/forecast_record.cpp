#include "creditwatch/scheduler/forecast_record.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace creditwatch::scheduler {
namespace {

double share(double value) { return std::isfinite(value) ? std::round(value * 1000) / 1000 : 0.0; }

// The double the float was made from as far as a float can tell: 0.1f gives 0.1, not
// 0.10000000149011612, so /metrics and the API print what was stored.
double widen(float value) {
  if (!std::isfinite(value)) return value;
  char buffer[32];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
  double out = value;
  std::from_chars(buffer, written.ptr, out);
  return out;
}

}  // namespace

ForecastRecord compact(const forecast::TrackRecord& record) {
  // A count past four billion would take longer than any account lives; saturate rather than wrap.
  const auto checked = std::min<std::size_t>(record.forecasts_checked, std::numeric_limits<std::uint32_t>::max());
  return {static_cast<std::uint32_t>(checked), static_cast<float>(record.p10_coverage),
          static_cast<float>(record.p50_coverage)};
}

forecast::TrackRecord expand(const ForecastRecord& record) {
  return {record.forecasts_checked, widen(record.p10_coverage), widen(record.p50_coverage)};
}

nlohmann::json to_json(const std::optional<ForecastRecord>& record) {
  if (!record) return nullptr;
  return {{"forecasts_checked", record->forecasts_checked},
          {"p10_coverage", share(widen(record->p10_coverage))},
          {"p50_coverage", share(widen(record->p50_coverage))}};
}

std::string describe_p10_hits(const std::optional<forecast::TrackRecord>& record) {
  if (!record) return "-";
  const double percent = std::isfinite(record->p10_coverage) ? std::round(record->p10_coverage * 100) : 0.0;
  return std::to_string(static_cast<long>(percent)) + "% of " + std::to_string(record->forecasts_checked);
}

}  // namespace creditwatch::scheduler
