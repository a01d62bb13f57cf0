// DigitalOcean against a loopback fake speaking the documented shapes (docs.digitalocean.com
// reference billing balance-get, the API's error envelope), through the conformance kit.
// DigitalOcean reports what is OWED: the reading is the credit left, -month_to_date_balance.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "dop_v1_SECRETabcdef0123456789abcdef0123456789";
constexpr const char* k_path = "/v2/customers/my/balance";

// The documented example: 23.44 owed, so 23.44 below zero.
constexpr const char* k_doc_body =
    R"({"month_to_date_balance":"23.44","account_balance":"12.23","month_to_date_usage":"11.21","generated_at":"2019-07-09T15:01:12Z"})";

std::string balance_body(const std::string& mtd_balance, const std::string& account_balance, const std::string& usage) {
  return R"({"month_to_date_balance":")" + mtd_balance + R"(","account_balance":")" + account_balance +
         R"(","month_to_date_usage":")" + usage + R"(","generated_at":"2026-12-06T10:00:00Z"})";
}

std::string error_body(const std::string& id, const std::string& message) {
  return R"({"id":")" + id + R"(","message":")" + message + R"(","request_id":"4851a473-1621-42ea-b2f9-5071c0ea8414"})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance digitalocean_table() {
  ProviderConformance t{"digitalocean", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"credit left: a negative month_to_date_balance is credit", Shape::success,
       {answer(k_path, 200, balance_body("-40.47", "-52.00", "11.53"))},
       ExpectedReading{"40.47", "USD", true, std::nullopt,
                       {{"month_to_date_balance", "-40.47"}, {"account_balance", "-52.00"}, {"month_to_date_usage", "11.53"},
                        {"generated_at", "2026-12-06T10:00:00Z"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"documented body: 23.44 owed is no credit left", Shape::out_of_money, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"-23.44", "USD", false, std::nullopt,
                       {{"month_to_date_balance", "23.44"}, {"account_balance", "12.23"}, {"month_to_date_usage", "11.21"}}}},
      {"credit used to the cent", Shape::empty_balance, {answer(k_path, 200, balance_body("0.00", "-11.21", "11.21"))},
       ExpectedReading{"0", "USD", false}},
      {"a card-billed account owing money still runs", Shape::other, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"-23.44", "USD", true, std::nullopt, {{"postpaid", true}}}, std::nullopt, "", std::nullopt, {{"postpaid", "true"}}},
      {"401 unauthorized", Shape::invalid_key, {answer(k_path, 401, error_body("unauthorized", "Unable to authenticate you"))},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"Unable to authenticate you"})},
      {"403 a token without billing:read", Shape::invalid_key,
       {answer(k_path, 403, error_body("forbidden", "You do not have access for the attempted action."))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 403, {"do not have access"})},
      {"429 too many requests", Shape::rate_limit,
       {answer(k_path, 429, error_body("too_many_requests", "API Rate limit exceeded."), {{"Retry-After", "20"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"Rate limit exceeded"}, std::chrono::seconds(20), false}},
      {"500 server error", Shape::other,
       {answer(k_path, 500, error_body("server_error", "Server was unable to give you a response."))}, std::nullopt,
       error_of(ErrorKind::server_error, 500, {"unable to give you a response"})},
      malformed(R"({"account_balance":"12.23","month_to_date_usage":"11.21"})", "month_to_date_balance"),
      malformed(R"({"month_to_date_balance":"twelve"})", "month_to_date_balance"),
      malformed(R"({"month_to_date_balance":"23.44")", "truncated"),
      malformed("<html><body>Gateway Timeout</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "billing:read"},
                    {k_key, {{"postpaid", "sometimes"}}, "expected true or false"},
                    {k_key, {{"team", "x"}}, "unknown key \"team\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_digitalocean") {
  TEST_CASE("provider conformance: digitalocean") { run_conformance(digitalocean_table()); }

  TEST_CASE("providers lists digitalocean with the sign it turns around") {
    const auto line = providers_line("digitalocean");
    INFO("line: " << line);
    CHECK(line.find("/v2/customers/my/balance") != std::string::npos);
    CHECK(line.find("-month_to_date_balance") != std::string::npos);
  }

  TEST_CASE("check --json reports DigitalOcean credit left as a positive balance") {
    FakeHttpServer server;
    serve(server, k_path, 200, balance_body("-75.50", "-80.00", "4.50"));
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: digitalocean", "api_key: ${DO_TOKEN}", "base_url: " + server.url()});
    auto a = check_one(config, {{"DO_TOKEN", k_key}}, {k_key, "SECRETabcdef"});
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "USD");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 7550);
  }
}
