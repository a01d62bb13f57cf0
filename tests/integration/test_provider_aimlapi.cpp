// AI/ML API against a loopback fake speaking the documented shapes (docs.aimlapi.com
// service-endpoints/account-balance, billing-v2.json, errors-with-status-code-4xx), through the
// conformance kit. The balance is USD: /v2/billing reports current_balance in USD.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "aiml-SECRET-abc123xyz";
constexpr const char* k_path = "/v2/billing";

// The documented example.
constexpr const char* k_doc_body = R"({"current_balance":123.45,"currency":"USD"})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance aimlapi_table() {
  ProviderConformance t{"aimlapi", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: current_balance in USD", Shape::success, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"123.45", "USD"}, std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero balance", Shape::empty_balance, {answer(k_path, 200, R"({"current_balance":0,"currency":"USD"})")},
       ExpectedReading{"0", "USD", false}},
      {"403 run out of credits is out of money", Shape::out_of_money,
       {answer(k_path, 403,
               R"({"message":"You've run out of credits. Please top up your balance or update your payment method to continue: https://aimlapi.com/app/billing/"})")},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 403, {"run out of credits"}, std::nullopt, true}},
      {"403 for anything else is a refused key", Shape::other, {answer(k_path, 403, R"({"message":"Forbidden"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 403)},
      {"401 invalid key", Shape::invalid_key,
       {answer(k_path, 401,
               R"({"message":"This request requires a valid API key. You can create a new API key on the Billing page: https://aimlapi.com/app/keys"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"valid API key"})},
      {"429 Too Many Requests", Shape::rate_limit,
       {answer(k_path, 429, R"({"message":"Too Many Requests"})", {{"Retry-After", "10"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {"Too Many Requests"}, std::chrono::seconds(10), false}},
      {"a balance as a numeric string", Shape::other, {answer(k_path, 200, R"({"current_balance":"7.5","currency":"usd"})")},
       ExpectedReading{"7.5", "USD"}},
      {"502 is a server error", Shape::other, {answer(k_path, 502, "<html>bad gateway</html>", {})}, std::nullopt,
       error_of(ErrorKind::server_error, 502)},
      // The legacy v1 body in credits is not what /v2/billing answers: it is refused, not misread.
      malformed(R"({"balance":551564495,"lowBalance":false,"lowBalanceThreshold":10000})", "current_balance"),
      malformed(R"({"current_balance":null,"currency":"USD"})", "current_balance"),
      malformed(R"({"current_balance":1)", "truncated"),
      malformed("<html></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"unit", "credits"}}, "unknown key \"unit\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_aimlapi") {
  TEST_CASE("provider conformance: aimlapi") { run_conformance(aimlapi_table()); }

  TEST_CASE("providers lists aimlapi") {
    const auto line = providers_line("aimlapi");
    INFO("line: " << line);
    CHECK(line.find("/v2/billing") != std::string::npos);
  }
}
