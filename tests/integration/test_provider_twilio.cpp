// Twilio against a loopback fake speaking the documented shapes
// (shared/reference/providers.md section 9.1), through the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_token = "tw-SECRET-abc123xyz";
constexpr const char* k_sid = "AC0123456789abcdef0123456789abcdef";
const std::string k_path = std::string("/2010-04-01/Accounts/") + k_sid + "/Balance.json";

constexpr const char* k_doc_body = R"({"account_sid":"AC0123456789abcdef0123456789abcdef","balance":"12.34","currency":"USD"})";
constexpr const char* k_authenticate =
    R"({"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance twilio_table() {
  ProviderConformance t{"twilio", k_token, {{"account_sid", k_sid}}, "Authorization",
                        basic_header(std::string(k_sid) + ":" + k_token), {}, {}};
  t.cases = {
      {"documented body: balance string, currency from the body, basic auth with the account SID", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"12.34", "USD", true, std::nullopt, {{"account_sid", k_sid}}}, std::nullopt, "", std::nullopt,
       {}, {k_path}},
      {"a lower-case currency is upper-cased, a negative balance kept", Shape::other,
       {answer(k_path, 200, R"({"account_sid":"AC1","balance":"-0.50","currency":"eur"})")},
       ExpectedReading{"-0.5", "EUR", true}},
      {"zero balance in the body's currency", Shape::empty_balance,
       {answer(k_path, 200, R"({"balance":"0.00","currency":"GBP"})")}, ExpectedReading{"0", "GBP", true}},
      {"402 account not active is out of money", Shape::out_of_money,
       {answer(k_path, 402, R"({"code":20005,"message":"Account not active","status":402})")}, std::nullopt,
       error_of(ErrorKind::exhausted, 402)},
      {"401 authenticate", Shape::invalid_key, {answer(k_path, 401, k_authenticate)}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Authenticate"})},
      {"429 too many requests", Shape::rate_limit,
       {answer(k_path, 429,
               R"({"code":20429,"message":"Too many requests. Please retry according to the Retry-After response header","status":429})",
               {{"Retry-After", "2"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(2), false}},
      {"404 hints at the account_sid", Shape::other,
       {answer(k_path, 404, R"({"code":20404,"message":"The requested resource was not found","status":404})")},
       std::nullopt, error_of(ErrorKind::http_status, 404, {"account_sid"})},
      malformed(R"({"balance":12.34})", "currency"),
      malformed(R"({"balance":"12.34","currency":5})", "currency"),
      malformed(R"({"balance":"twelve","currency":"USD"})", "balance"),
      malformed(R"({"currency":"USD"})", "balance"),
      malformed(R"({"balance":"12.34","curr)", "truncated"),
      malformed("<Response><Balance>12.34</Balance></Response>", "JSON"),
  };
  t.config_cases = {
      {"", {{"account_sid", k_sid}}, "api_key"},
      {k_token, {}, "account_sid"},
      {k_token, {{"account_sid", "AC1/../x"}}, "account_sid"},
      {k_token, {{"account_sid", k_sid}, {"key_sid", "SK 1"}}, "key_sid"},
  };
  return t;
}

}  // namespace

TEST_SUITE("provider_twilio") {
  TEST_CASE("provider conformance: twilio") { run_conformance(twilio_table()); }

  // Outside the table: the kit holds one Authorization value for every case, and its
  // config cases only list configs that must be refused.
  TEST_CASE("an API key SID authenticates in place of the account SID") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    auto result = probe_once(provider_account("twilio", server.url(), k_token, {{"account_sid", k_sid}, {"key_sid", "SKabc123"}}));
    REQUIRE(result.ok());
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == basic_header(std::string("SKabc123:") + k_token));
  }

  TEST_CASE("settings: a token and a well-formed account_sid are accepted") {
    CHECK(build_errors(provider_account("twilio", "", k_token, {{"account_sid", k_sid}})).empty());
  }
}
