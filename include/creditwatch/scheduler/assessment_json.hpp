#pragma once

#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/assessment_summary.hpp"

#include <nlohmann/json.hpp>

namespace creditwatch::scheduler {

// The JSON shape of one account, shared by `check --json`, `status --json` and the API:
// account, provider, state, balance, currency, burn_per_day, runway_days, runway_p10_days,
// exhausted_at, recommended_topup, forecast_record{forecasts_checked,p10_coverage,p50_coverage}
// (null until the account has enough history), balances[], error{kind,message,http_status}, firing[].
nlohmann::json to_json(const AssessmentSummary& summary);
// The same as to_json(summarize(assessment)): one shape whichever the caller holds.
nlohmann::json to_json(const Assessment& assessment);

}  // namespace creditwatch::scheduler
