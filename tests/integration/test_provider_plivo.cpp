// Plivo against a loopback fake speaking the documented shapes (plivo.com/docs account API:
// retrieve account details, the Account object, API responses), through the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_token = "plivo-SECRET-abc123xyz";
constexpr const char* k_auth_id = "MA2025RK4E639VJFZAGV";
constexpr const char* k_path = "/v1/Account/MA2025RK4E639VJFZAGV/";

// The documented example.
constexpr const char* k_doc_body = R"({"account_type":"standard","address":"Wayne Enterprises Inc.",
  "api_id":"150892a0-922a-11e7-b6f4-061564b78b75","auth_id":"MA2025RK4E639VJFZAGV","auto_recharge":false,
  "billing_mode":"prepaid","cash_credits":"1.80900","city":"Gotham","name":"Bruce Wayne",
  "resource_uri":"/v1/Account/MA2025RK4E639VJFZAGV/","state":"NY","timezone":"America/New_York"})";

std::string credits_body(const std::string& credits, const std::string& mode = "prepaid") {
  return R"({"api_id":"x","auth_id":"MA2025RK4E639VJFZAGV","billing_mode":")" + mode + R"(","cash_credits":")" + credits +
         R"(","auto_recharge":true})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance plivo_table() {
  ProviderConformance t{"plivo", k_token, {{"auth_id", k_auth_id}}, "Authorization",
                        basic_header(std::string(k_auth_id) + ":" + k_token), {}, {}};
  t.cases = {
      {"documented body: cash_credits in USD, billing mode in details, no personal data", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"1.809", "USD", true, std::nullopt,
                       {{"billing_mode", "prepaid"}, {"account_type", "standard"}, {"auto_recharge", false}},
                       {"name", "address", "city"}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"prepaid at zero cannot call or message", Shape::empty_balance, {answer(k_path, 200, credits_body("0.00000"))},
       ExpectedReading{"0", "USD", false}},
      {"prepaid below zero is out of money", Shape::out_of_money, {answer(k_path, 200, credits_body("-0.52000"))},
       ExpectedReading{"-0.52", "USD", false}},
      {"postpaid at zero still can", Shape::other, {answer(k_path, 200, credits_body("0.00000", "postpaid"))},
       ExpectedReading{"0", "USD", true}},
      {"401 authentication failed", Shape::invalid_key,
       {answer(k_path, 401, R"({"api_id":"b2b2","error":"Authentication failed"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Authentication failed"})},
      {"404 names auth_id", Shape::other, {answer(k_path, 404, R"({"api_id":"c3c3","error":"not found"})")}, std::nullopt,
       error_of(ErrorKind::http_status, 404, {"auth_id"})},
      {"429 rate limited", Shape::rate_limit,
       {answer(k_path, 429, R"({"api_id":"d4d4","error":"Too many requests"})", {{"Retry-After", "2"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(2), false}},
      {"500 server error", Shape::other, {answer(k_path, 500, R"({"api_id":"e5e5","error":"server error"})")},
       std::nullopt, error_of(ErrorKind::server_error, 500)},
      malformed(R"({"api_id":"x","billing_mode":"prepaid"})", "cash_credits"),
      malformed(R"({"api_id":"x","cash_credits":"1,80"})", "cash_credits"),
      malformed(R"({"api_id":"x","cash_credits":"1.8)", "truncated"),
      malformed("<html>maintenance</html>", "HTML"),
  };
  t.config_cases = {{k_token, {}, "auth_id"},
                    {"", {{"auth_id", k_auth_id}}, "api_key"},
                    {k_token, {{"auth_id", "MA/../x"}}, "auth_id"}};
  return t;
}

}  // namespace

TEST_SUITE("provider_plivo") {
  TEST_CASE("provider conformance: plivo") { run_conformance(plivo_table()); }

  TEST_CASE("providers lists plivo with its auth_id key") {
    const auto line = providers_line("plivo");
    INFO("line: " << line);
    CHECK(line.find("/v1/Account/{auth_id}/") != std::string::npos);
    CHECK(line.find("auth_id") != std::string::npos);
  }
}
