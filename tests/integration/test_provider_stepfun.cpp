// StepFun against a loopback fake speaking the documented shapes
// (platform.stepfun.com/docs/zh/api-reference/accounts/get and /docs/zh/guide/exception),
// through the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sf-step-SECRET-abc123xyz";
constexpr const char* k_path = "/v1/accounts";

constexpr const char* k_doc_body =
    R"({"object":"account","type":"prepaid","balance":86.5,"total_cash_balance":100.0,"total_voucher_balance":20.0})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance stepfun_table() {
  ProviderConformance t{"stepfun", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: balance in CNY, topped-up and voucher totals in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"86.5", "CNY", true, std::nullopt,
                       {{"total_cash_balance", "100.00"}, {"total_voucher_balance", "20.00"}, {"type", "prepaid"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"prepaid at zero cannot call", Shape::empty_balance,
       {answer(k_path, 200, R"({"object":"account","type":"prepaid","balance":0,"total_cash_balance":50,"total_voucher_balance":0})")},
       ExpectedReading{"0", "CNY", false}},
      {"postpaid at zero still can", Shape::other,
       {answer(k_path, 200, R"({"object":"account","type":"postpaid","balance":0})")}, ExpectedReading{"0", "CNY", true}},
      {"402 balance too low is out of money", Shape::out_of_money,
       {answer(k_path, 402, R"({"error":{"message":"Insufficient balance","type":"insufficient_balance"}})")},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 402, {"Insufficient balance"}, std::nullopt, true}},
      {"401 invalid key", Shape::invalid_key,
       {answer(k_path, 401, R"({"error":{"message":"Incorrect API key provided","type":"invalid_api_key"}})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"Incorrect API key provided"})},
      {"429 rate limit", Shape::rate_limit,
       {answer(k_path, 429, R"({"error":{"message":"Rate limit exceeded","type":"rate_limit_exceeded"}})",
               {{"Retry-After", "3"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(3), false}},
      {"503 is a server error", Shape::other, {answer(k_path, 503, R"({"error":{"message":"busy","type":"server_error"}})")},
       std::nullopt, error_of(ErrorKind::server_error, 503)},
      {"the account's currency overrides CNY", Shape::other, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"86.5", "USD"}, std::nullopt, "", "USD"},
      malformed(R"({"object":"account","type":"prepaid"})", "balance"),
      malformed(R"({"object":"account","balance":"lots"})", "balance"),
      malformed(R"({"object":"account","balance":8)", "truncated"),
      malformed("<html>502</html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"region", "cn"}}, "unknown key \"region\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_stepfun") {
  TEST_CASE("provider conformance: stepfun") { run_conformance(stepfun_table()); }

  TEST_CASE("providers lists stepfun") {
    const auto line = providers_line("stepfun");
    INFO("line: " << line);
    CHECK(line.find("/v1/accounts") != std::string::npos);
  }
}
