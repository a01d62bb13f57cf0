// The summary the daemon keeps of each account's latest assessment: the API shows it exactly
// as it showed the whole Assessment (the balances' details kept as text read back the same),
// and a `stale` notification built from it carries the same figures.
#include "creditwatch/scheduler/assessment_json.hpp"
#include "creditwatch/scheduler/assessment_summary.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace creditwatch;
using creditwatch::scheduler::Assessment;
using creditwatch::scheduler::AssessmentSummary;
using creditwatch::scheduler::CheckState;
using creditwatch::scheduler::summarize;
using creditwatch::scheduler::to_assessment;
using namespace std::chrono_literals;

namespace {

// 2026-05-01T00:00:00Z
const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

// Details of every JSON kind, numbers that print long, and bytes that are not UTF-8.
nlohmann::json awkward_details() {
  nlohmann::json d;
  d["granted"] = "10.00";
  d["ratio"] = 0.1;
  d["tiny"] = 1e-7;
  d["big"] = 123456789.123456789;
  d["whole_float"] = 110.0;
  d["negative"] = -42;
  d["unsigned"] = 18446744073709551615ULL;
  d["flags"] = {true, false, nullptr};
  d["nested"] = {{"a", {1, 2, 3}}, {"b", nlohmann::json::object()}};
  d["bad_utf8"] = std::string("caf\xc3 \xff end");
  d["unicode"] = "\xe2\x82\xac 5";
  return d;
}

Assessment full_assessment() {
  Assessment a;
  a.account = "acct";
  a.provider = "deepseek";
  a.currency = "CNY";
  a.balances.push_back({"CNY", Decimal::from_double(110.5), Decimal::from_double(3), awkward_details()});
  a.balances.push_back({"USD", Decimal::from_double(2.25), std::nullopt, nlohmann::json::object()});
  forecast::Forecast f;
  f.balance = Decimal::from_double(110.5);
  f.at = k_t0;
  f.burn_per_day = 2.5;
  f.runway_days = 44.2;
  f.runway_p10_days = 30.123456;
  f.exhausted_at = k_t0 + std::chrono::hours(24 * 44);
  f.recommended_topup = Decimal::from_double(130);
  f.settled_runway_days = 50;
  f.note = "rough: less than a week observed";
  a.forecast = f;
  a.observation.at = k_t0;
  a.observation.forecast = f;
  a.findings = {{alerts::Rule::runway, true, alerts::Severity::warning, "runway 30.1 days"},
                {alerts::Rule::min_balance, false, alerts::Severity::info, "balance above the minimum"},
                {alerts::Rule::spend_spike, true, alerts::Severity::critical, "spend 10x the usual"},
                {alerts::Rule::topped_up, false, alerts::Severity::info, "no deposit"}};
  a.state = CheckState::warning;
  a.latency_seconds = 0.25;
  return a;
}

}  // namespace

TEST_SUITE("scheduler.assessment_summary") {
  TEST_CASE("the API shape of the summary is the assessment's, details included") {
    const auto a = full_assessment();
    const auto j = scheduler::to_json(summarize(a));
    CHECK(j["account"] == "acct");
    CHECK(j["state"] == "WARNING");
    CHECK(j["balance"] == 110.5);
    CHECK(j["runway_days"] == 44.2);
    CHECK(j["runway_p10_days"] == 30.123);
    CHECK(j["exhausted_at"] == "2026-06-14T00:00:00Z");
    CHECK(j["recommended_topup"] == 130.0);
    CHECK(j["note"] == "rough: less than a week observed");
    REQUIRE(j["balances"].size() == 2);
    // The same bytes the API would have written from the provider's own tree.
    const auto dump = [](const nlohmann::json& v) {
      return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    CHECK(dump(j["balances"][0]["details"]) == dump(awkward_details()));
    CHECK(j["balances"][0]["details"]["unsigned"] == 18446744073709551615ULL);
    CHECK(j["balances"][1]["details"] == nlohmann::json::object());
    CHECK(j["error"].is_null());
    REQUIRE(j["firing"].size() == 2);
    CHECK(j["firing"][0]["rule"] == "runway");
    CHECK(j["firing"][1]["rule"] == "spend_spike");
    CHECK(j["firing"][1]["summary"] == "spend 10x the usual");
  }

  TEST_CASE("the forecast record reaches the API once there is one, and is null before") {
    auto a = full_assessment();
    CHECK(scheduler::to_json(summarize(a))["forecast_record"].is_null());
    a.forecast->track_record = forecast::TrackRecord{40, 0.125, 0.55};
    const auto j = scheduler::to_json(summarize(a));
    CHECK(j["forecast_record"] ==
          nlohmann::json{{"forecasts_checked", 40}, {"p10_coverage", 0.125}, {"p50_coverage", 0.55}});
    // The band beside it, under the names it always had.
    CHECK(j["runway_days"] == 44.2);
    CHECK(j["runway_p10_days"] == 30.123);
    // The same shape from the full assessment (`check --json`, `status --json`).
    CHECK(scheduler::to_json(a)["forecast_record"] == j["forecast_record"]);
    // No forecast at all: still the key, null.
    Assessment none;
    none.account = "new";
    CHECK(scheduler::to_json(summarize(none)).contains("forecast_record"));
    CHECK(scheduler::to_json(summarize(none))["forecast_record"].is_null());
  }

  TEST_CASE("the forecast record survives the summary and back") {
    auto original = full_assessment();
    original.forecast->track_record = forecast::TrackRecord{40, 0.1, 0.5};
    const auto s = summarize(original);
    REQUIRE(s.forecast);
    REQUIRE(s.forecast->track_record);
    CHECK(s.forecast->track_record->forecasts_checked == 40);
    const auto back = to_assessment(s);
    REQUIRE(back.forecast);
    REQUIRE(back.forecast->track_record);
    CHECK(back.forecast->track_record->forecasts_checked == 40);
    CHECK(back.forecast->track_record->p10_coverage == 0.1);
    CHECK(back.forecast->track_record->p50_coverage == 0.5);
    CHECK_FALSE(to_assessment(summarize(full_assessment())).forecast->track_record);
  }

  TEST_CASE("only the firing findings are kept") {
    const auto s = summarize(full_assessment());
    REQUIRE(s.firing.size() == 2);
    CHECK(s.firing[0].rule == alerts::Rule::runway);
    CHECK(s.firing[1].rule == alerts::Rule::spend_spike);
  }

  TEST_CASE("a failed probe keeps its error and shows no figures") {
    Assessment a;
    a.account = "down";
    a.provider = "openrouter";
    a.error = providers::ProbeError{providers::ErrorKind::http_status, "HTTP 503", 503, std::nullopt};
    a.state = CheckState::unknown;
    const auto j = scheduler::to_json(summarize(a));
    CHECK(j["error"]["kind"] == "http_status");
    CHECK(j["error"]["http_status"] == 503);
    CHECK(j["balance"].is_null());
    CHECK(j["currency"].is_null());
    CHECK(j["note"] == "no samples yet");
  }

  TEST_CASE("back to an assessment it carries what a notification reads") {
    const auto original = full_assessment();
    const auto a = to_assessment(summarize(original));
    CHECK(a.account == "acct");
    CHECK(a.provider == "deepseek");
    CHECK(a.currency == "CNY");
    CHECK(a.state == CheckState::warning);
    REQUIRE(a.forecast);
    CHECK(a.forecast->balance == original.forecast->balance);
    CHECK(a.forecast->burn_per_day == original.forecast->burn_per_day);
    CHECK(a.forecast->runway_days == original.forecast->runway_days);
    CHECK(a.forecast->runway_p10_days == original.forecast->runway_p10_days);
    CHECK(a.forecast->exhausted_at == original.forecast->exhausted_at);
    CHECK(a.forecast->recommended_topup == original.forecast->recommended_topup);
    REQUIRE(a.balances.size() == 2);
    CHECK(a.balances[0].details == nlohmann::json::parse(a.balances[0].details.dump()));
    CHECK(a.balances[0].details["ratio"] == 0.1);
    REQUIRE(a.findings.size() == 2);
    CHECK(a.findings[1].severity == alerts::Severity::critical);
  }
}
