// Novita AI against a loopback fake speaking the documented shape
// (shared/reference/providers.md sections 0 and 7.1; error bodies there are unconfirmed,
// so the OpenAI-style envelope used below is constructed).
#include "integration/provider_probe.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-novita-SECRET-abc123xyz";
constexpr const char* k_path = "/openapi/v1/billing/balance/detail";

// The documented body: strings in 1/10000 USD.
constexpr const char* k_doc_body =
    R"({"availableBalance":"1000000","cashBalance":"800000","creditLimit":"200000","pendingCharges":"0","outstandingInvoices":"0"})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix) {
  return provider_account("novita", server.url() + prefix, k_key);
}

}  // namespace

TEST_SUITE("provider_novita") {
  TEST_CASE("the documented body is converted from 1/10000 USD exactly") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    serve(server, "/odd" + std::string(k_path), 200, R"({"availableBalance":"12345","cashBalance":1})");
    serve(server, "/zero" + std::string(k_path), 200,
          R"({"availableBalance":"0","cashBalance":"0","creditLimit":"0","pendingCharges":"0","outstandingInvoices":"0"})");
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    CHECK(b.currency == "USD");
    CHECK(b.balance == dec("100.00"));
    CHECK_FALSE(b.spend_total.has_value());
    CHECK(b.details["cashBalance"] == "80.00");
    CHECK(b.details["creditLimit"] == "20.00");
    CHECK(b.details["pendingCharges"] == "0.00");
    CHECK(b.details["outstandingInvoices"] == "0.00");

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);

    // One ten-thousandth of a dollar is kept, not rounded to the cent.
    auto odd = probe_once(account(server, "/odd"));
    REQUIRE(odd.ok());
    CHECK(odd->balances[0].balance == dec("1.2345"));
    CHECK(odd->balances[0].details["cashBalance"] == "0.0001");

    auto zero = probe_once(account(server, "/zero"));
    REQUIRE(zero.ok());
    CHECK(zero->balances[0].balance == Decimal());
  }

  TEST_CASE("402 is exhausted, 401 key_invalid, 429 rate_limited with Retry-After") {
    FakeHttpServer server;
    serve(server, "/dry" + std::string(k_path), 402, R"({"code":402,"reason":"NOT_ENOUGH_BALANCE","message":"not enough balance"})");
    serve(server, "/bad" + std::string(k_path), 401, R"({"code":401,"reason":"INVALID_API_KEY","message":"invalid api key"})");
    serve(server, "/busy" + std::string(k_path), 429, R"({"code":429,"message":"too many requests"})", "application/json",
          {{"Retry-After", "5"}});
    server.start();

    auto dry = expect_error(probe_once(account(server, "/dry")), ErrorKind::exhausted);
    CHECK(dry.message.find("not enough balance") != std::string::npos);
    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.http_status == 401);
    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(5));
  }

  TEST_CASE("malformed bodies are bad_response naming the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"availableBalance":"1,000"})", "availableBalance"},
        {R"({"availableBalance":null})", "availableBalance"},
        {R"({"cashBalance":"800000"})", "availableBalance"},
        {R"({"availableBalance":"10)", "truncated"},
        {"<html><body>Not Found</body></html>", "HTML"},
        {R"(["1000000"])", "JSON object"},
    };
    FakeHttpServer server;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      serve(server, "/c" + std::to_string(i) + k_path, 200, cases[i].first);
    }
    server.start();
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].first);
      auto e = expect_error(probe_once(account(server, "/c" + std::to_string(i))), ErrorKind::bad_response);
      CHECK_MESSAGE(e.message.find(cases[i].second) != std::string::npos, e.message);
    }
  }

  TEST_CASE("settings: api_key is required and unknown keys are rejected") {
    CHECK(any_error_mentions(build_errors(provider_account("novita", "", "")), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("novita", "", k_key, {{"unit", "10000"}})),
                             "unknown key \"unit\""));
  }
}
