// Cloudflare AI Gateway against a loopback fake speaking the documented shape
// (developers.cloudflare.com/api/resources/ai_gateway/subresources/billing, "Get credit
// balance") inside Cloudflare's v4 envelope, through the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "cf-token-SECRET-abc123xyz";
constexpr const char* k_account = "0123456789abcdef0123456789abcdef";
const std::string k_path = std::string("/client/v4/accounts/") + k_account + "/ai-gateway/billing/credit-balance";

std::string envelope(const std::string& result) {
  return R"({"success":true,"errors":[],"messages":[],"result":)" + result + "}";
}

std::string failed(int status_code, const std::string& message) {
  return R"({"success":false,"errors":[{"code":)" + std::to_string(status_code) + R"(,"message":")" + message +
         R"("}],"messages":[],"result":null})";
}

// The fields the API reference lists, with constructed values.
const std::string k_doc_body = envelope(
    R"({"balance":42.5,"has_default_payment_method":true,"payment_method":{"brand":"visa","last4":"4242"},"topup_config":{"amount":20,"disabledReason":null,"error":null,"lastFailedAt":null,"threshold":5},"first_topup_success":true})");

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance cloudflare_table() {
  ProviderConformance t{"cloudflare_gateway", k_key, {{"account_id", k_account}}, "Authorization",
                        std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented fields: result.balance, auto top-up in details", Shape::success, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"42.5", "USD", true, std::nullopt, {{"topup_amount", "20.00"}, {"topup_threshold", "5.00"}},
                       {"payment_method", "last4"}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero balance", Shape::empty_balance,
       {answer(k_path, 200, envelope(R"({"balance":0,"has_default_payment_method":false,"payment_method":null,"topup_config":{}})"))},
       ExpectedReading{"0", "USD", false}},
      {"402 is out of money", Shape::out_of_money, {answer(k_path, 402, failed(2005, "Insufficient credits"))},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 402, {"Insufficient credits"}, std::nullopt, true}},
      {"401 authentication error carries Cloudflare's code", Shape::invalid_key,
       {answer(k_path, 401, failed(10000, "Authentication error"))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"10000 Authentication error"})},
      {"429 rate limit", Shape::rate_limit,
       {answer(k_path, 429, failed(971, "Please wait and consider throttling your request speed"), {{"Retry-After", "15"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"971"}, std::chrono::seconds(15), false}},
      {"404 points at the account_id", Shape::other, {answer(k_path, 404, failed(7003, "Could not route"))}, std::nullopt,
       error_of(ErrorKind::http_status, 404, {"check account_id"})},
      {"success false inside HTTP 200 is an error", Shape::other, {answer(k_path, 200, failed(1000, "bad thing"))},
       std::nullopt, error_of(ErrorKind::http_status, 200, {"1000 bad thing"})},
      {"the Go SDK's spelling Balance is read too", Shape::other, {answer(k_path, 200, envelope(R"({"Balance":"3.5"})"))},
       ExpectedReading{"3.5", "USD"}},
      malformed(envelope(R"({"has_default_payment_method":true})"), "result.balance"),
      malformed(envelope(R"({"balance":"plenty"})"), "result.balance"),
      malformed(R"({"success":true,"errors":[],"result":null})", "result"),
      malformed("<html>cloudflare</html>", "HTML"),
  };
  t.config_cases = {{"", {{"account_id", k_account}}, "api_key"},
                    {k_key, {}, "account_id"},
                    {k_key, {{"account_id", "not-an-id"}}, "32 hexadecimal"},
                    {k_key, {{"account_id", k_account}, {"gateway", "g"}}, "unknown key \"gateway\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_cloudflare_gateway") {
  TEST_CASE("provider conformance: cloudflare_gateway") { run_conformance(cloudflare_table()); }

  TEST_CASE("providers lists cloudflare_gateway with its account_id key") {
    const auto line = providers_line("cloudflare_gateway");
    INFO("line: " << line);
    CHECK(line.find("credit-balance") != std::string::npos);
    CHECK(line.find("account_id") != std::string::npos);
  }
}
