// ClickSend against a loopback fake speaking the documented shapes (developers.clicksend.com
// docs/rest/v3 envelope and status codes; the account fields as a public client reads them,
// [UNCONFIRMED] against the vendor's own /account page), through the conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "A1B2C3D4-SECRET-E5F6-7A8B-9C0D1E2F3A4B";
constexpr const char* k_username = "janedoe";
constexpr const char* k_path = "/v3/account";

// The account in the documented envelope (its email, phone and names must not be copied).
constexpr const char* k_doc_body = R"({"http_code":200,"response_code":"SUCCESS","response_msg":"Here's your account",
  "data":{"user_id":1,"username":"janedoe","user_email":"jane@example.com","active":1,"banned":0,"balance":"3.03",
  "user_phone":"+61411111111","user_first_name":"Jane","user_last_name":"Doe","account":1,"account_name":"Example",
  "account_billing_email":"billing@example.com","country":"AU","auto_recharge":0,"auto_recharge_amount":"20.00",
  "low_credit_amount":"5.00","balance_commission":"0.00","timezone":"Australia/Melbourne",
  "_currency":{"currency_name_short":"AUD","currency_prefix_d":"$","currency_prefix_c":"c","currency_name_long":"Australian Dollars"},
  "_subaccount":{"subaccount_id":1,"api_username":"janedoe"}}})";

std::string account_body(const std::string& balance, int active = 1, int banned = 0, const std::string& currency_key = "_currency") {
  return R"({"http_code":200,"response_code":"SUCCESS","response_msg":"Here's your account","data":{"balance":")" + balance +
         R"(","active":)" + std::to_string(active) + R"(,"banned":)" + std::to_string(banned) + R"(,")" + currency_key +
         R"(":{"currency_name_short":"USD"}}})";
}

std::string envelope_error(int status, const std::string& code, const std::string& message) {
  return R"({"http_code":)" + std::to_string(status) + R"(,"response_code":")" + code + R"(","response_msg":")" + message +
         R"(","data":null})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance clicksend_table() {
  ProviderConformance t{"clicksend", k_key, {{"username", k_username}}, "Authorization",
                        basic_header(std::string(k_username) + ":" + k_key), {}, {}};
  t.cases = {
      {"documented account: balance in the account currency", Shape::success, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"3.03", "AUD", true, std::nullopt, {{"low_credit_amount", "5.00"}, {"auto_recharge_amount", "20.00"}},
                       {"user_email", "user_phone", "user_first_name", "account_billing_email"}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"the currency object spelled currency", Shape::other, {answer(k_path, 200, account_body("12.50", 1, 0, "currency"))},
       ExpectedReading{"12.5", "USD"}},
      {"zero balance", Shape::empty_balance, {answer(k_path, 200, account_body("0.00"))}, ExpectedReading{"0", "USD", false}},
      {"a banned account cannot send", Shape::other, {answer(k_path, 200, account_body("40.00", 1, 1))},
       ExpectedReading{"40", "USD", false}},
      {"an inactive account cannot send", Shape::other, {answer(k_path, 200, account_body("40.00", 0, 0))},
       ExpectedReading{"40", "USD", false}},
      {"INSUFFICIENT_CREDIT is out of money", Shape::out_of_money,
       {answer(k_path, 400, envelope_error(400, "INSUFFICIENT_CREDIT", "You have insufficient credit"),
               {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 400, {"insufficient credit"}, std::nullopt, true}},
      {"401 UNAUTHORIZED", Shape::invalid_key,
       {answer(k_path, 401, envelope_error(401, "UNAUTHORIZED", "Invalid username or api key"))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"UNAUTHORIZED"})},
      {"403 FORBIDDEN", Shape::invalid_key, {answer(k_path, 403, envelope_error(403, "FORBIDDEN", "Access denied"))},
       std::nullopt, error_of(ErrorKind::key_invalid, 403, {"FORBIDDEN"})},
      {"429 TOO_MANY_REQUESTS", Shape::rate_limit,
       {answer(k_path, 429, envelope_error(429, "TOO_MANY_REQUESTS", "Rate limit exceeded"), {{"Retry-After", "1"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"TOO_MANY_REQUESTS"}, std::chrono::seconds(1), false}},
      {"a 200 envelope with another response_code is an error", Shape::other,
       {answer(k_path, 200, envelope_error(200, "ACCOUNT_NOT_ACTIVATED", "Account not activated"))}, std::nullopt,
       error_of(ErrorKind::http_status, 200, {"ACCOUNT_NOT_ACTIVATED"})},
      {"500 INTERNAL_SERVER_ERROR", Shape::other,
       {answer(k_path, 500, envelope_error(500, "INTERNAL_SERVER_ERROR", "Something went wrong"))}, std::nullopt,
       error_of(ErrorKind::server_error, 500, {"INTERNAL_SERVER_ERROR"})},
      malformed(R"({"http_code":200,"response_code":"SUCCESS","data":{"active":1}})", "data.balance"),
      malformed(R"({"http_code":200,"response_code":"SUCCESS","data":{"balance":"n/a"}})", "data.balance"),
      malformed(R"({"http_code":200,"response_code":"SUCCESS","data":null})", "data"),
      malformed(R"({"http_code":200,"response_code":"SUCCESS","data":{"balance":"3)", "truncated"),
      malformed("<html><body>Cloudflare</body></html>", "HTML"),
  };
  t.config_cases = {{"", {{"username", k_username}}, "api_key"},
                    {k_key, {}, "needs username"},
                    {k_key, {{"username", "jane:doe"}}, "no spaces or colons"},
                    {k_key, {{"username", k_username}, {"sender", "x"}}, "unknown key \"sender\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_clicksend") {
  TEST_CASE("provider conformance: clicksend") { run_conformance(clicksend_table()); }

  TEST_CASE("providers lists clicksend with its username setting") {
    const auto line = providers_line("clicksend");
    INFO("line: " << line);
    CHECK(line.find("/v3/account") != std::string::npos);
    CHECK(line.find("username") != std::string::npos);
  }
}
