#include "creditwatch/scheduler/assessment_summary.hpp"

namespace creditwatch::scheduler {
namespace {

// Replaces invalid UTF-8 as the API's own dump does, so the text read back dumps the same bytes.
std::string details_text(const nlohmann::json& details) {
  return details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json AssessmentSummary::Balance::details_json() const {
  auto parsed = nlohmann::json::parse(details, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json::object() : parsed;
}

AssessmentSummary summarize(const Assessment& a) {
  AssessmentSummary s;
  s.account = a.account;
  s.provider = a.provider;
  s.currency = a.currency;
  s.state = a.state;
  if (a.forecast) {
    const auto& f = *a.forecast;
    std::optional<ForecastRecord> record;
    if (f.track_record) record = compact(*f.track_record);
    s.forecast = AssessmentSummary::Figures{
        f.balance,           f.at,   f.burn_per_day, f.runway_days, f.runway_p10_days, f.exhausted_at,
        f.recommended_topup, f.note, record};
  }
  s.balances.reserve(a.balances.size());
  for (const auto& b : a.balances) s.balances.push_back({b.currency, b.balance, details_text(b.details)});
  s.error = a.error;
  for (const auto& f : a.findings) {
    if (f.firing) s.firing.push_back(f);
  }
  return s;
}

Assessment to_assessment(const AssessmentSummary& s) {
  Assessment a;
  a.account = s.account;
  a.provider = s.provider;
  a.currency = s.currency;
  a.state = s.state;
  if (s.forecast) {
    const auto& f = *s.forecast;
    forecast::Forecast full;
    full.balance = f.balance;
    full.at = f.at;
    full.burn_per_day = f.burn_per_day;
    full.runway_days = f.runway_days;
    full.runway_p10_days = f.runway_p10_days;
    full.exhausted_at = f.exhausted_at;
    full.recommended_topup = f.recommended_topup;
    full.note = f.note;
    if (f.track_record) full.track_record = expand(*f.track_record);
    a.forecast = full;
  }
  for (const auto& b : s.balances) a.balances.push_back({b.currency, b.balance, std::nullopt, b.details_json()});
  a.error = s.error;
  a.findings = s.firing;
  return a;
}

}  // namespace creditwatch::scheduler
