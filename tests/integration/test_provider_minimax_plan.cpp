// MiniMax Coding Plan against a loopback fake of GET /v1/api/openplatform/coding_plan/remains
// (shapes and sources at the top of src/providers/minimax_plan.cpp), through the conformance
// kit: the balance is the percent of the window left, unit `percent`, with the window's reset
// in the details.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-cp-SECRET-abc123xyz";
constexpr const char* k_path = "/v1/api/openplatform/coding_plan/remains";

// As public clients parse it: a "general" entry for the plan, other models beside it.
// 1777600800000 is 2026-05-01T02:00:00Z, 1778112000000 2026-05-07T00:00:00Z.
constexpr const char* k_doc_body =
    R"({"model_remains":[{"model_name":"video","current_interval_remaining_percent":3},)"
    R"({"model_name":"general","start_time":1777582800000,"end_time":1777600800000,"remains_time":7200000,)"
    R"("current_interval_total_count":1500,"current_interval_usage_count":1200,"current_interval_remaining_percent":80,)"
    R"("weekly_end_time":1778112000000,"current_weekly_status":1,"current_weekly_remaining_percent":95.5}],)"
    R"("base_resp":{"status_code":0,"status_msg":"success"}})";
constexpr const char* k_empty_window =
    R"({"model_remains":[{"model_name":"general","end_time":1777600800000,"current_interval_remaining_percent":0,"current_weekly_status":3}],"base_resp":{"status_code":0,"status_msg":"success"}})";
// Counts only: current_interval_usage_count is the count LEFT (MiniMax-AI/MiniMax-M2 issue 99).
std::string counts_only(const std::string& left) {
  return R"({"model_remains":[{"model_name":"general","end_time":1777600800000,"current_interval_total_count":1500,"current_interval_usage_count":)" +
         left + R"(}],"base_resp":{"status_code":0,"status_msg":"success"}})";
}
constexpr const char* k_bad_key = R"({"base_resp":{"status_code":1004,"status_msg":"cookie is missing, log in again"}})";
constexpr const char* k_rate_limit = R"({"base_resp":{"status_code":1002,"status_msg":"rate limit"}})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance minimax_plan_table() {
  ProviderConformance t{"minimax_plan", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: the general entry's 5-hour window is the percent left, its end in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"80", "percent", true, std::nullopt,
                       {{"window", "5-hour window"}, {"resets_at", "2026-05-01T02:00:00Z"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"window weekly reads the weekly percent and its end", Shape::other, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"95.5", "percent", true, std::nullopt, {{"resets_at", "2026-05-07T00:00:00Z"}}}, std::nullopt,
       "", std::nullopt, {{"window", "weekly"}}},
      {"window weekly on a plan without a weekly cap says so", Shape::other, {answer(k_path, 200, k_empty_window)},
       std::nullopt, error_of(ErrorKind::bad_response, -1, {"no weekly window"}), "", std::nullopt,
       {{"window", "weekly"}}},
      {"an empty window reads 0 percent and cannot serve", Shape::empty_balance, {answer(k_path, 200, k_empty_window)},
       ExpectedReading{"0", "percent", false}},
      // A plan is not a wallet and MiniMax has no out-of-money answer for it: a window whose
      // prompts are all used is what running out looks like.
      {"counts alone with none left: 0 percent, cannot serve", Shape::out_of_money,
       {answer(k_path, 200, counts_only("0"))}, ExpectedReading{"0", "percent", false}},
      {"counts alone are read as the count left", Shape::other, {answer(k_path, 200, counts_only("300"))},
       ExpectedReading{"20", "percent"}},
      {"a bad key inside HTTP 200 (code 1004)", Shape::invalid_key, {answer(k_path, 200, k_bad_key)}, std::nullopt,
       error_of(ErrorKind::key_invalid, -1, {"1004"})},
      {"a bad key as HTTP 401", Shape::invalid_key, {answer(k_path, 401, R"({"error":"unauthorized"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid)},
      {"a rate limit inside HTTP 200 (code 1002)", Shape::rate_limit, {answer(k_path, 200, k_rate_limit)}, std::nullopt,
       error_of(ErrorKind::rate_limited)},
      {"429 in plain text with Retry-After", Shape::rate_limit,
       {CannedAnswer{k_path, 429, "slow down", "text/plain", {{"Retry-After", "9"}}}}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, -1, {}, std::chrono::seconds(9), false}},
      {"another base_resp code is an HTTP-status failure with its message", Shape::other,
       {answer(k_path, 200, R"({"base_resp":{"status_code":1000,"status_msg":"unknown error"}})")}, std::nullopt,
       error_of(ErrorKind::http_status, -1, {"unknown error"})},
      malformed(R"({"model_remains":[{"model_name":"general","current_interval_remaining_percent":"lots"}],"base_resp":{"status_code":0}})",
                "current_interval_remaining_percent"),
      malformed(R"({"model_remains":[{"model_name":"general"}],"base_resp":{"status_code":0}})", "neither"),
      malformed(R"({"model_remains":[{"model_name":"video"},{"model_name":"audio"}],"base_resp":{"status_code":0}})",
                "general"),
      malformed(R"({"model_remains":{},"base_resp":{"status_code":0}})", "model_remains"),
      malformed(R"({"base_resp":{"status_code":0}})", "model_remains"),
      malformed(R"({"model_remains":[],"base_resp":{"status_code":"0"}})", "base_resp.status_code"),
      malformed(R"({"model_remains":[{"model_name":"gen)", "truncated"),
      malformed("<html><body>Just a moment...</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"window", "daily"}}, "window must be 5h or weekly"}};
  return t;
}

}  // namespace

TEST_SUITE("provider_minimax_plan") {
  TEST_CASE("provider conformance: minimax_plan") { run_conformance(minimax_plan_table()); }
}
