// Telnyx against a loopback fake speaking the documented shapes (developers.telnyx.com
// api-reference/billing "Get user balance details" and its API error codes), through the
// conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "KEY0123-SECRET-abc123xyz";
constexpr const char* k_path = "/v2/balance";

// The documented example.
constexpr const char* k_doc_body =
    R"({"data":{"record_type":"balance","pending":"10.00","balance":"300.00","credit_limit":"100.00","available_credit":"400.00","currency":"USD"}})";

std::string balance_body(const std::string& balance, const std::string& credit_limit, const std::string& available,
                         const std::string& currency = "USD") {
  return R"({"data":{"record_type":"balance","pending":"0.00","balance":")" + balance + R"(","credit_limit":")" +
         credit_limit + R"(","available_credit":")" + available + R"(","currency":")" + currency + R"("}})";
}

// Telnyx's error envelope.
std::string errors_body(const std::string& code, const std::string& title, const std::string& detail) {
  return R"({"errors":[{"code":")" + code + R"(","title":")" + title + R"(","detail":")" + detail +
         R"(","meta":{"url":"https://developers.telnyx.com/docs/overview/errors/)" + code + R"("}}]})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance telnyx_table() {
  ProviderConformance t{"telnyx", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: balance, with available credit, credit line and pending in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"300", "USD", true, std::nullopt,
                       {{"available_credit", "400.00"}, {"credit_limit", "100.00"}, {"pending", "10.00"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero balance and no credit line", Shape::empty_balance, {answer(k_path, 200, balance_body("0.00", "0.00", "0.00"))},
       ExpectedReading{"0", "USD", false}},
      {"overdrawn with no available credit is out of money", Shape::out_of_money,
       {answer(k_path, 200, balance_body("-12.50", "0.00", "0.00"))}, ExpectedReading{"-12.5", "USD", false}},
      {"below zero but inside the credit line can still serve", Shape::other,
       {answer(k_path, 200, balance_body("-20.00", "100.00", "80.00"))},
       ExpectedReading{"-20", "USD", true, std::nullopt, {{"available_credit", "80.00"}}}},
      {"the body's currency is used", Shape::other, {answer(k_path, 200, balance_body("55.10", "0.00", "55.10", "EUR"))},
       ExpectedReading{"55.1", "EUR"}},
      {"numbers instead of decimal strings", Shape::other,
       {answer(k_path, 200, R"({"data":{"balance":42.5,"available_credit":42.5,"currency":"USD"}})")},
       ExpectedReading{"42.5", "USD"}},
      {"401 authentication failed", Shape::invalid_key,
       {answer(k_path, 401,
               errors_body("10009", "Authentication failed",
                           "The required authentication headers were either invalid or not included in the request."))},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"Authentication failed"})},
      {"403 authorization failed", Shape::invalid_key,
       {answer(k_path, 403,
               errors_body("10010", "Authorization failed",
                           "You do not have permission to perform the requested action on the specified resource or resources."))},
       std::nullopt, error_of(ErrorKind::key_invalid, 403, {"Authorization failed"})},
      {"429 too many requests", Shape::rate_limit,
       {answer(k_path, 429,
               errors_body("10011", "Too many requests", "You have exceeded the maximum number of allowed requests."),
               {{"Retry-After", "5"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"Too many requests"}, std::chrono::seconds(5), false}},
      {"503 service unavailable", Shape::other,
       {answer(k_path, 503, errors_body("10007", "Unexpected error", "An unexpected error occured."))}, std::nullopt,
       error_of(ErrorKind::server_error, 503, {"Unexpected error"})},
      malformed(R"({"data":{"balance":"abc","currency":"USD"}})", "data.balance"),
      malformed(R"({"data":{"available_credit":"1.00","currency":"USD"}})", "data.balance"),
      malformed(R"({"data":null})", "data"),
      malformed(R"({"errors":[]})", "data"),
      malformed(R"({"data":{"balance":"30)", "truncated"),
      malformed("<html><body>Service Unavailable</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"account_sid", "x"}}, "unknown key \"account_sid\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_telnyx") {
  TEST_CASE("provider conformance: telnyx") { run_conformance(telnyx_table()); }

  TEST_CASE("providers lists telnyx with what it reads and where") {
    const auto line = providers_line("telnyx");
    INFO("line: " << line);
    CHECK(line.find("balance") != std::string::npos);
    CHECK(line.find("/v2/balance") != std::string::npos);
    CHECK(line.find("https://api.telnyx.com") != std::string::npos);
  }

  TEST_CASE("check --json reports the Telnyx balance and keeps the key hidden") {
    FakeHttpServer server;
    serve(server, k_path, 200, balance_body("123.45", "0.00", "123.45"));
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: telnyx", "api_key: ${TELNYX_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"TELNYX_KEY", k_key}}, {k_key, "SECRET-abc123"});
    CHECK(a["provider"] == "telnyx");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "USD");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 12345);
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }
}
