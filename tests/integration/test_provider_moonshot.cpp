// Moonshot / Kimi against a loopback fake speaking the documented shapes
// (shared/reference/providers.md sections 0, 3, 10 and 11), through the conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-moon-SECRET-abc123xyz";
constexpr const char* k_path = "/v1/users/me/balance";

// The documented body (section 3).
constexpr const char* k_doc_body =
    R"({"code":0,"data":{"available_balance":49.58894,"voucher_balance":46.58893,"cash_balance":3.00001},"scode":"0x0","status":true})";
constexpr const char* k_quota =
    R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details","type":"exceeded_current_quota_error"}})";
constexpr const char* k_suspended =
    R"({"error":{"message":"Your account is suspended due to insufficient balance, please recharge your account or check your plan and billing details","type":"invalid_request_error"}})";
constexpr const char* k_rate_limited =
    R"({"error":{"message":"Your account org-123 request reached organization max RPM: 3, please try again after 1 seconds","type":"rate_limit_reached_error"}})";
constexpr const char* k_invalid_auth = R"({"error":{"message":"Invalid Authentication","type":"invalid_authentication_error"}})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance moonshot_table() {
  ProviderConformance t{"moonshot", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      // Not a .cn host: the international platform bills in USD.
      {"documented body: available_balance, vouchers and cash in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"49.58894", "USD", true, std::nullopt,
                       {{"voucher_balance", "46.58893"}, {"cash_balance", "3.00001"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      // At or below zero the inference API can no longer be called.
      {"zero balance is unavailable", Shape::empty_balance,
       {answer(k_path, 200,
               R"({"code":0,"data":{"available_balance":0,"voucher_balance":0,"cash_balance":0},"scode":"0x0","status":true})")},
       ExpectedReading{"0", "USD", false}},
      {"negative cash is read as sent", Shape::other,
       {answer(k_path, 200,
               R"({"code":0,"data":{"available_balance":"12.5","voucher_balance":"12.5","cash_balance":"-3.25"},"scode":"0x0","status":true})")},
       ExpectedReading{"12.5", "USD", true, std::nullopt, {{"cash_balance", "-3.25"}}}},
      {"the account's currency overrides the host's", Shape::other, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"49.58894", "CNY"}, std::nullopt, "", "CNY"},
      // A Retry-After on an out-of-money answer must not turn it into "wait and retry".
      {"429 exceeded_current_quota_error is out of money", Shape::out_of_money,
       {answer(k_path, 429, k_quota, {{"Retry-After", "60"}})}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 429, {"exceeded your current quota"}, std::nullopt, true}},
      {"429 suspended for insufficient balance is out of money", Shape::out_of_money,
       {answer(k_path, 429, k_suspended)}, std::nullopt,
       error_of(ErrorKind::exhausted, 429, {"insufficient balance"})},
      {"429 rate_limit_reached_error is a rate limit", Shape::rate_limit,
       {answer(k_path, 429, k_rate_limited, {{"Retry-After", "7"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(7), false}},
      {"401 invalid_authentication_error", Shape::invalid_key, {answer(k_path, 401, k_invalid_auth)}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Invalid Authentication"})},
      {"503 is a server error", Shape::other,
       {answer(k_path, 503, R"({"error":{"message":"overloaded","type":"server_error"}})")}, std::nullopt,
       error_of(ErrorKind::server_error, 503)},
      // HTTP 200 can carry a failure: code != 0 or status false.
      {"HTTP 200 with code 401 unauthorized", Shape::invalid_key,
       {answer(k_path, 200,
               R"({"code":401,"data":{"available_balance":0,"voucher_balance":0,"cash_balance":0},"scode":"unauthorized","status":false})")},
       std::nullopt, error_of(ErrorKind::key_invalid, -1, {"401"})},
      {"HTTP 200 with code 5", Shape::other,
       {answer(k_path, 200, R"({"code":5,"data":{"available_balance":10},"scode":"0x5","status":true})")},
       std::nullopt, error_of(ErrorKind::http_status, -1, {"code 5", "0x5"})},
      {"HTTP 200 with status false", Shape::other,
       {answer(k_path, 200, R"({"code":0,"data":{"available_balance":10},"scode":"0x0","status":false})")},
       std::nullopt, error_of(ErrorKind::http_status)},
      malformed(R"({"code":0,"data":{"available_balance":"abc"},"status":true})", "data.available_balance"),
      malformed(R"({"code":0,"data":{"available_balance":null},"status":true})", "data.available_balance"),
      malformed(R"({"code":0,"data":{"voucher_balance":1},"status":true})", "data.available_balance"),
      malformed(R"({"code":0,"data":null,"status":true})", "data"),
      malformed(R"({"code":0,"status":true})", "data"),
      malformed(R"({"code":"0","data":{"available_balance":1},"status":true})", "code"),
      malformed(R"({"code":0,"data":{"available_balance":1},"status":"ok"})", "status"),
      malformed(R"({"code":0,"data":{"available_balance":4)", "truncated"),
      malformed("<html><body>502 Bad Gateway</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"region", "cn"}}, "unknown key \"region\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_moonshot") {
  TEST_CASE("provider conformance: moonshot") { run_conformance(moonshot_table()); }

  TEST_CASE("end to end: a .cn host is CNY - the balance is exact to the cent and the key stays hidden") {
    // The fake stands in for api.moonshot.cn as an HTTP proxy, so the host rule is exercised
    // with the real name.
    FakeHttpServer server;
    server.get(".*/v1/users/me/balance", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, k_doc_body);
    });
    server.start();
    TempDir dir;
    auto config =
        one_account_config(dir, {"provider: moonshot", "api_key: ${MOONSHOT_KEY}", "base_url: http://api.moonshot.cn"});
    auto a = check_one(config, {{"MOONSHOT_KEY", k_key}, {"http_proxy", server.url()}, {"no_proxy", ""}},
                       {k_key, "SECRET-abc123"});
    CHECK(a["provider"] == "moonshot");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "CNY");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 4959);
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
    CHECK(requests[0].header("Host") == "api.moonshot.cn");
  }
}
