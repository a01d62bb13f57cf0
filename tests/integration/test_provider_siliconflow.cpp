// SiliconFlow against a loopback fake speaking the documented shapes
// (shared/reference/providers.md sections 0, 4, 10 and 11), through the conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-sf-SECRET-abc123xyz";
constexpr const char* k_path = "/v1/user/info";

// The documented body (section 4).
constexpr const char* k_doc_body = R"({"code":20000,"message":"OK","status":true,"data":{"id":"userid","name":"username",
  "image":"user_avatar_image_url","email":"user_email_address","isAdmin":false,"balance":"0.88","status":"normal",
  "introduction":"","role":"","chargeBalance":"88.00","totalBalance":"88.88"}})";

std::string with_total(const std::string& total) {
  return R"({"code":20000,"message":"OK","status":true,"data":{"balance":"0.00","chargeBalance":)" + total +
         R"(,"totalBalance":)" + total + R"(,"status":"normal"}})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance siliconflow_table() {
  ProviderConformance t{"siliconflow", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      // Neither .cn nor .com: the default host's currency. Personal data is not copied.
      {"documented body: totalBalance with the granted and paid parts in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"88.88", "CNY", true, std::nullopt,
                       {{"balance", "0.88"}, {"chargeBalance", "88.00"}, {"status", "normal"}}, {"email", "name"}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero balance", Shape::empty_balance, {answer(k_path, 200, with_total(R"("0.00")"))},
       ExpectedReading{"0", "CNY"}},
      {"numbers instead of strings, and the account's currency", Shape::other,
       {answer(k_path, 200, with_total("12.5"))}, ExpectedReading{"12.5", "USD"}, std::nullopt, "", "USD"},
      {"403 balance insufficient is out of money", Shape::out_of_money,
       {answer(k_path, 403, R"({"code":30011,"message":"Sorry, your account balance is insufficient","data":null})")},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 403, {"balance is insufficient"}, std::nullopt, true}},
      {"403 with an empty body is out of money", Shape::out_of_money, {answer(k_path, 403, "")}, std::nullopt,
       error_of(ErrorKind::exhausted, 403)},
      {"403 about real-name verification is a key that may not", Shape::invalid_key,
       {answer(k_path, 403,
               R"({"code":30003,"message":"Insufficient permissions: real-name verification required","data":null})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 403)},
      {"401 bare string", Shape::invalid_key, {answer(k_path, 401, R"("Api key is invalid")")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Api key is invalid"})},
      {"429 with Retry-After", Shape::rate_limit,
       {answer(k_path, 429, R"({"code":50603,"message":"Request was rejected due to rate limiting.","data":null})",
               {{"Retry-After", "12"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(12), false}},
      {"504 text is a server error", Shape::other,
       {CannedAnswer{k_path, 504, "upstream timeout", "text/plain"}}, std::nullopt,
       error_of(ErrorKind::server_error, 504)},
      {"HTTP 200 with code 20012 carries the provider's message", Shape::other,
       {answer(k_path, 200, R"({"code":20012,"message":"Model does not exist. Please check it carefully.","data":null})")},
       std::nullopt, error_of(ErrorKind::http_status, -1, {"20012", "Model does not exist"})},
      {"HTTP 200 with status false", Shape::other,
       {answer(k_path, 200, R"({"code":20000,"message":"OK","status":false,"data":{"totalBalance":"1.00"}})")},
       std::nullopt, error_of(ErrorKind::http_status)},
      malformed(R"({"code":20000,"status":true,"data":{"totalBalance":true}})", "data.totalBalance"),
      malformed(R"({"code":20000,"status":true,"data":{"totalBalance":"88,88"}})", "data.totalBalance"),
      malformed(R"({"code":20000,"status":true,"data":{"balance":"1.00"}})", "data.totalBalance"),
      malformed(R"({"code":20000,"status":true,"data":"none"})", "data"),
      malformed(R"({"message":"OK","data":{"totalBalance":"1.00"}})", "code"),
      malformed(R"({"code":"404"})", "code"),
      malformed(R"({"code":20000,"data":{"totalBal)", "truncated"),
      malformed("<!doctype html><html><div id=\"root\"></div></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"curency", "USD"}}, "did you mean \"currency\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_siliconflow") {
  TEST_CASE("provider conformance: siliconflow") { run_conformance(siliconflow_table()); }

  TEST_CASE("end to end: the .com host is USD - the balance is exact to the cent and the key stays hidden") {
    // The fake stands in for api.siliconflow.com as an HTTP proxy.
    FakeHttpServer server;
    server.get(".*/v1/user/info", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, k_doc_body);
    });
    server.start();
    TempDir dir;
    auto config = one_account_config(
        dir, {"provider: siliconflow", "api_key: ${SILICONFLOW_KEY}", "base_url: http://api.siliconflow.com"});
    auto a = check_one(config, {{"SILICONFLOW_KEY", k_key}, {"http_proxy", server.url()}, {"no_proxy", ""}},
                       {k_key, "SECRET-abc123"});
    CHECK(a["provider"] == "siliconflow");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "USD");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 8888);
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].header("Host") == "api.siliconflow.com");
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }
}
