#pragma once

#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/forecast_record.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace creditwatch::scheduler {

// What is shown of an account's latest assessment: the API (GET /api/v1/accounts, the summary,
// the status page), /metrics, and the figures a `stale` notification carries. The daemon keeps
// one per account, so it holds only what those read: a full Assessment also carries the
// observation (a second forecast), every rule's finding including the clear ones, and the
// balances' details as JSON trees, about 1.7 KB an account against about 0.6 KB here.
struct AssessmentSummary {
  // The forecast's figures the API, /metrics and notifications show (names as in
  // forecast::Forecast, so readers read them alike).
  struct Figures {
    Decimal balance;
    TimePoint at;
    std::optional<double> burn_per_day;
    std::optional<double> runway_days;
    std::optional<double> runway_p10_days;
    std::optional<TimePoint> exhausted_at;
    Decimal recommended_topup;
    std::string note;
    std::optional<ForecastRecord> track_record;  // nullopt until the account has enough history
  };
  struct Balance {
    std::string currency;
    Decimal balance;
    std::string details;  // the provider's breakdown as compact JSON text (a tree costs several times more)
    // The breakdown as the provider gave it (the text read back: it dumps to the same bytes).
    nlohmann::json details_json() const;
  };

  std::string account;
  std::string provider;
  std::string currency;
  CheckState state = CheckState::unknown;
  std::optional<Figures> forecast;
  std::vector<Balance> balances;
  std::optional<providers::ProbeError> error;
  std::vector<alerts::Finding> firing;  // the findings that fire, in the assessment's order
};

AssessmentSummary summarize(const Assessment& assessment);

// An Assessment with the summary's figures, for the alert engine (a `stale` verdict is sent
// with the latest figures). The forecast holds only the fields the summary keeps, which are
// those a notification reads; the observation is empty and the findings are the firing ones.
Assessment to_assessment(const AssessmentSummary& summary);

}  // namespace creditwatch::scheduler
