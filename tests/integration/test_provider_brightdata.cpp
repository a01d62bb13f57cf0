// Bright Data against a loopback fake speaking the documented shape
// (docs.brightdata.com/api-reference/account-management-api/Get_total_balance_through_API),
// through the conformance kit. [UNCONFIRMED] Bright Data documents no error bodies for this
// route: the error cases use its plain-text and {"error":...} answers seen elsewhere.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "b5648e1096c6442fSECRET60a6c4bbbe73f8d2234d";
constexpr const char* k_path = "/customer/balance";

// The documented example.
constexpr const char* k_doc_body = R"({"balance":456,"pending_balance":123})";

std::string balance_body(const std::string& balance, const std::string& pending = "0") {
  return R"({"balance":)" + balance + R"(,"pending_balance":)" + pending + "}";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance brightdata_table() {
  ProviderConformance t{"brightdata", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: balance in USD, pending_balance in details", Shape::success, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"456", "USD", true, std::nullopt, {{"pending_balance", "123.00"}}}, std::nullopt, "", std::nullopt,
       {}, {k_path}},
      {"zero balance cannot pay", Shape::empty_balance, {answer(k_path, 200, balance_body("0", "12.5"))},
       ExpectedReading{"0", "USD", false, std::nullopt, {{"pending_balance", "12.50"}}}},
      {"a negative balance is out of money", Shape::out_of_money, {answer(k_path, 200, balance_body("-3.75", "20"))},
       ExpectedReading{"-3.75", "USD", false}},
      {"402 is out of money, never retried", Shape::other,
       {answer(k_path, 402, R"({"error":"Insufficient balance"})", {{"Retry-After", "60"}})}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 402, {"Insufficient balance"}, std::nullopt, true}},
      {"numeric strings are read too", Shape::other, {answer(k_path, 200, R"({"balance":"98.10","pending_balance":"1.90"})")},
       ExpectedReading{"98.1", "USD", true, std::nullopt, {{"pending_balance", "1.90"}}}},
      {"the account's currency names the unit", Shape::other, {answer(k_path, 200, balance_body("40"))},
       ExpectedReading{"40", "EUR"}, std::nullopt, "", "EUR"},
      {"401 invalid key", Shape::invalid_key, {answer(k_path, 401, "Auth method is not supported")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"key rejected"})},
      {"403 a key without billing permission", Shape::invalid_key,
       {answer(k_path, 403, R"({"error":"Forbidden: permission denied"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 403, {"permission denied"})},
      {"429 too many requests", Shape::rate_limit,
       {answer(k_path, 429, R"({"error":"Too many requests"})", {{"Retry-After", "30"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {"Too many requests"}, std::chrono::seconds(30), false}},
      {"502 is a server error", Shape::other, {answer(k_path, 502, "Bad gateway")}, std::nullopt,
       error_of(ErrorKind::server_error, 502)},
      malformed(R"({"pending_balance":123})", "balance"),
      malformed(R"({"balance":"lots"})", "balance"),
      malformed(R"({"balance":45)", "truncated"),
      malformed("<html><body>Login</body></html>", "HTML"),
      malformed(R"([{"balance":1}])", "a list"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"zone", "z1"}}, "unknown key \"zone\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_brightdata") {
  TEST_CASE("provider conformance: brightdata") { run_conformance(brightdata_table()); }

  TEST_CASE("providers lists brightdata with its route") {
    const auto line = providers_line("brightdata");
    INFO("line: " << line);
    CHECK(line.find("/customer/balance") != std::string::npos);
    CHECK(line.find("https://api.brightdata.com") != std::string::npos);
  }

  TEST_CASE("check --json reports the Bright Data balance and keeps the key hidden") {
    FakeHttpServer server;
    serve(server, k_path, 200, balance_body("77.25", "3"));
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: brightdata", "api_key: ${BRIGHTDATA_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"BRIGHTDATA_KEY", k_key}}, {k_key, "SECRET60a6c4"});
    CHECK(a["provider"] == "brightdata");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "USD");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 7725);
  }
}
