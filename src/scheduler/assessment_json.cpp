#include "creditwatch/scheduler/assessment_json.hpp"

#include "creditwatch/common/time_format.hpp"

#include <cmath>

namespace creditwatch::scheduler {
namespace {

nlohmann::json optional_number(const std::optional<double>& value) {
  if (!value || !std::isfinite(*value)) return nullptr;
  return std::round(*value * 1000) / 1000;  // three decimals: enough for days and rates
}

nlohmann::json money(Decimal d) { return d.to_double(); }

}  // namespace

nlohmann::json to_json(const AssessmentSummary& a) {
  nlohmann::json j;
  j["account"] = a.account;
  j["provider"] = a.provider;
  j["state"] = to_string(a.state);
  j["currency"] = a.currency.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.currency);
  j["balance"] = a.forecast ? money(a.forecast->balance) : nlohmann::json(nullptr);
  j["burn_per_day"] = a.forecast ? optional_number(a.forecast->burn_per_day) : nullptr;
  j["runway_days"] = a.forecast ? optional_number(a.forecast->runway_days) : nullptr;
  j["runway_p10_days"] = a.forecast ? optional_number(a.forecast->runway_p10_days) : nullptr;
  j["exhausted_at"] = a.forecast && a.forecast->exhausted_at ? nlohmann::json(format_rfc3339(*a.forecast->exhausted_at))
                                                             : nlohmann::json(nullptr);
  j["recommended_topup"] = a.forecast ? money(a.forecast->recommended_topup) : nlohmann::json(nullptr);
  j["sampled_at"] = a.forecast ? nlohmann::json(format_rfc3339(a.forecast->at)) : nlohmann::json(nullptr);
  j["note"] = a.forecast ? a.forecast->note : std::string("no samples yet");
  j["forecast_record"] = to_json(a.forecast ? a.forecast->track_record : std::nullopt);
  j["balances"] = nlohmann::json::array();
  for (const auto& b : a.balances) {
    j["balances"].push_back({{"currency", b.currency}, {"balance", money(b.balance)}, {"details", b.details_json()}});
  }
  j["error"] = nullptr;
  if (a.error) {
    j["error"] = {{"kind", providers::to_string(a.error->kind)},
                  {"message", a.error->message},
                  {"http_status", a.error->http_status}};
  }
  j["firing"] = nlohmann::json::array();
  for (const auto& f : a.firing) {
    j["firing"].push_back(
        {{"rule", alerts::to_string(f.rule)}, {"severity", alerts::to_string(f.severity)}, {"summary", f.summary}});
  }
  return j;
}

nlohmann::json to_json(const Assessment& assessment) { return to_json(summarize(assessment)); }

}  // namespace creditwatch::scheduler
