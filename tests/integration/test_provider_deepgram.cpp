// Deepgram against a loopback fake speaking the documented shapes
// (developers.deepgram.com/reference/manage/billing/list and manage/projects/list, both
// error shapes), through the conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "dg0123SECRET4567890abcdef0123456789abcd";
constexpr const char* k_project = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
constexpr const char* k_projects_path = "/v1/projects";
const std::string k_path = std::string("/v1/projects/") + k_project + "/balances";

constexpr const char* k_doc_body = R"({"balances":[{"balance_id":"b1f2c3d4-0000-4000-8000-000000000001","amount":187.42,
  "units":"USD","purchase_order_id":"PO-2026-11"},{"balance_id":"b1f2c3d4-0000-4000-8000-000000000002","amount":50,
  "units":"USD","purchase_order_id":"promo"}]})";

const std::string k_projects_body =
    std::string(R"({"projects":[{"project_id":")") + k_project + R"(","name":"Production"},{"project_id":"0000aaaa-1111-2222-3333-444455556666","name":"Staging"}]})";

std::string legacy_error(const std::string& code, const std::string& message) {
  return R"({"err_code":")" + code + R"(","err_msg":")" + message + R"(","request_id":"a1b2c3d4-e5f6"})";
}

// Ten balances, each the largest amount a reading takes: their sum overflows.
std::string ten_large_balances() {
  std::string items;
  for (int i = 0; i < 10; ++i) items += std::string(i ? "," : "") + R"({"amount":999999999999,"units":"usd"})";
  return R"({"balances":[)" + items + "]}";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)}), "", std::nullopt, {{"project_id", k_project}}};
}

ProviderConformance deepgram_table() {
  ProviderConformance t{"deepgram", k_key, {}, "Authorization", std::string("Token ") + k_key, {}, {}};
  const std::map<std::string, std::string> named = {{"project_id", k_project}};
  t.cases = {
      {"documented balances of the named project add up", Shape::success, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"237.42", "USD", true, std::nullopt, {{"project_id", k_project}, {"balances", 2}}}, std::nullopt, "",
       std::nullopt, named, {k_path}},
      {"without project_id the first listed project is read", Shape::other,
       {answer(k_projects_path, 200, k_projects_body), answer(k_path, 200, k_doc_body)},
       ExpectedReading{"237.42", "USD", true, std::nullopt, {{"project_id", k_project}}}, std::nullopt, "", std::nullopt, {},
       {k_projects_path, k_path}},
      {"lower-case units are an ISO code", Shape::other,
       {answer(k_path, 200, R"({"balances":[{"balance_id":"b","amount":"12.5","units":"usd"}]})")},
       ExpectedReading{"12.5", "USD"}, std::nullopt, "", std::nullopt, named},
      {"no balances left", Shape::empty_balance, {answer(k_path, 200, R"({"balances":[]})")},
       ExpectedReading{"0", "USD", false, std::nullopt, {{"balances", 0}}}, std::nullopt, "", std::nullopt, named},
      {"402 out of credits", Shape::out_of_money,
       {answer(k_path, 402, legacy_error("INSUFFICIENT_CREDITS", "Project does not have enough credits."),
               {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 402, {"enough credits"}, std::nullopt, true}, "", std::nullopt, named},
      {"401 invalid credentials", Shape::invalid_key,
       {answer(k_path, 401, legacy_error("INVALID_AUTH", "Invalid credentials."))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Invalid credentials"}), "", std::nullopt, named},
      {"403 a key without billing scope, modern error shape", Shape::invalid_key,
       {answer(k_path, 403,
               R"({"category":"INSUFFICIENT_PERMISSIONS","message":"You do not have sufficient permissions.","details":"","request_id":"r1"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 403, {"sufficient permissions"}), "", std::nullopt, named},
      {"429 too many requests", Shape::rate_limit,
       {answer(k_path, 429, legacy_error("TOO_MANY_REQUESTS", "Too many requests."), {{"Retry-After", "7"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {"Too many requests"}, std::chrono::seconds(7), false}, "", std::nullopt,
       named},
      {"the project list refused is the key refused", Shape::other,
       {answer(k_projects_path, 401, legacy_error("INVALID_AUTH", "Invalid credentials."))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Invalid credentials"}), "", std::nullopt, {}, {k_projects_path}},
      {"a key of no project asks for project_id", Shape::other, {answer(k_projects_path, 200, R"({"projects":[]})")},
       std::nullopt, error_of(ErrorKind::bad_response, -1, {"set project_id"})},
      malformed(R"({"balances":[{"balance_id":"b","units":"USD"}]})", "balances[0].amount"),
      malformed(R"({"balances":"none"})", "balances"),
      malformed(ten_large_balances(), "add up past what an amount can hold"),
      malformed(R"({"balances":[{"amount":1)", "truncated"),
      malformed("<html><body>Bad gateway</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"},
                    {k_key, {{"project_id", "../../keys"}}, "expected a Deepgram project id"},
                    {k_key, {{"project", k_project}}, "unknown key \"project\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_deepgram") {
  TEST_CASE("provider conformance: deepgram") { run_conformance(deepgram_table()); }

  TEST_CASE("providers lists deepgram with its project_id setting") {
    const auto line = providers_line("deepgram");
    INFO("line: " << line);
    CHECK(line.find("/balances") != std::string::npos);
    CHECK(line.find("project_id") != std::string::npos);
  }
}
