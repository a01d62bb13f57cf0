// Novita AI against a loopback fake speaking the documented shape
// (shared/reference/providers.md sections 0 and 7.1; error bodies there are unconfirmed,
// so the OpenAI-style envelope used below is constructed), through the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-novita-SECRET-abc123xyz";
constexpr const char* k_path = "/openapi/v1/billing/balance/detail";

// The documented body: strings in 1/10000 USD.
constexpr const char* k_doc_body =
    R"({"availableBalance":"1000000","cashBalance":"800000","creditLimit":"200000","pendingCharges":"0","outstandingInvoices":"0"})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance novita_table() {
  ProviderConformance t{"novita", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body converted from 1/10000 USD exactly", Shape::success, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"100.00", "USD", true, std::nullopt,
                       {{"cashBalance", "80.00"}, {"creditLimit", "20.00"}, {"pendingCharges", "0.00"},
                        {"outstandingInvoices", "0.00"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      // One ten-thousandth of a dollar is kept, not rounded to the cent.
      {"a ten-thousandth of a dollar is kept", Shape::other,
       {answer(k_path, 200, R"({"availableBalance":"12345","cashBalance":1})")},
       ExpectedReading{"1.2345", "USD", true, std::nullopt, {{"cashBalance", "0.0001"}}}},
      {"zero balance", Shape::empty_balance,
       {answer(k_path, 200,
               R"({"availableBalance":"0","cashBalance":"0","creditLimit":"0","pendingCharges":"0","outstandingInvoices":"0"})")},
       ExpectedReading{"0", "USD", true}},
      {"402 not enough balance is out of money", Shape::out_of_money,
       {answer(k_path, 402, R"({"code":402,"reason":"NOT_ENOUGH_BALANCE","message":"not enough balance"})")},
       std::nullopt, error_of(ErrorKind::exhausted, 402, {"not enough balance"})},
      {"401 invalid api key", Shape::invalid_key,
       {answer(k_path, 401, R"({"code":401,"reason":"INVALID_API_KEY","message":"invalid api key"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401)},
      {"429 too many requests", Shape::rate_limit,
       {answer(k_path, 429, R"({"code":429,"message":"too many requests"})", {{"Retry-After", "5"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(5), false}},
      malformed(R"({"availableBalance":"1,000"})", "availableBalance"),
      malformed(R"({"availableBalance":null})", "availableBalance"),
      malformed(R"({"cashBalance":"800000"})", "availableBalance"),
      malformed(R"({"availableBalance":"10)", "truncated"),
      malformed("<html><body>Not Found</body></html>", "HTML"),
      malformed(R"(["1000000"])", "JSON object"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"unit", "10000"}}, "unknown key \"unit\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_novita") {
  TEST_CASE("provider conformance: novita") { run_conformance(novita_table()); }
}
