// xAI Management API against a loopback fake speaking the shapes in
// shared/reference/providers.md sections 0, 7.2 and 10 (balance body as consumed by an
// open-source client; the path is documented), through the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "xai-mgmt-SECRET-abc123xyz";
constexpr const char* k_team = "3f2a9c1e-0000-4000-8000-team12345678";
const std::string k_path = std::string("/v1/billing/teams/") + k_team + "/prepaid/balance";

constexpr const char* k_no_credits =
    R"({"code":"The caller does not have permission to execute the specified operation","error":"Your newly created team doesn't have any credits yet. You can purchase credits on https://console.x.ai/team/3f2a9c1e."})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance xai_table() {
  ProviderConformance t{"xai", k_key, {{"team_id", k_team}}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"total.val is USD cents with the sign inverted: -1000 is $10.00 of credit", Shape::success,
       {answer(k_path, 200, R"({"total":{"val":"-1000"}})")},
       ExpectedReading{"10.00", "USD", true, std::nullopt, {{"total_val_cents", "-1000.00"}}}, std::nullopt, "",
       std::nullopt, {}, {k_path}},
      {"total.val as a number", Shape::other, {answer(k_path, 200, R"({"total":{"val":-12345}})")},
       ExpectedReading{"123.45", "USD"}},
      {"zero balance", Shape::empty_balance, {answer(k_path, 200, R"({"total":{"val":"0"}})")},
       ExpectedReading{"0", "USD", true}},
      {"a positive total.val is owed", Shape::other, {answer(k_path, 200, R"({"total":{"val":"250"}})")},
       ExpectedReading{"-2.50", "USD", true}},
      {"403 no credits yet is out of money", Shape::out_of_money, {answer(k_path, 403, k_no_credits)}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 403, {"doesn't have any credits"}, std::nullopt, true}},
      {"any other 403 asks for a management key", Shape::invalid_key,
       {answer(k_path, 403,
               R"({"code":"The caller does not have permission to execute the specified operation","error":"Management key required"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, -1, {"management key"})},
      {"401 incorrect key", Shape::invalid_key,
       {answer(k_path, 401, R"({"code":"Unauthenticated","error":"Incorrect API key provided"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401)},
      {"404 names the team_id", Shape::other, {answer(k_path, 404, R"({"code":"Not found","error":"Team not found"})")},
       std::nullopt, error_of(ErrorKind::http_status, 404, {"team_id"})},
      {"429 waits", Shape::rate_limit,
       {answer(k_path, 429, R"({"code":"Too many requests","error":"Rate limit exceeded"})", {{"Retry-After", "3"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(3), false}},
      malformed(R"({"total":{"val":"ten dollars"}})", "total.val"),
      malformed(R"({"total":{}})", "total.val"),
      malformed(R"({"total":"-1000"})", "total"),
      malformed(R"({"balance":"-1000"})", "total"),
      malformed(R"({"total":{"val":)", "truncated"),
      malformed("<html>gateway</html>", "HTML"),
  };
  t.config_cases = {
      {"", {{"team_id", k_team}}, "api_key"},
      {k_key, {}, "team_id"},
      {k_key, {{"team_id", "abc/../x"}}, "team_id"},
      {k_key, {{"team", k_team}}, "unknown key \"team\""},
  };
  return t;
}

}  // namespace

TEST_SUITE("provider_xai") {
  TEST_CASE("provider conformance: xai") { run_conformance(xai_table()); }
}
