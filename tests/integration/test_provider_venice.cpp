// Venice AI against a loopback fake speaking the documented shape
// (shared/reference/providers.md section 7.3).
#include "integration/provider_probe.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "venice-admin-SECRET-abc123xyz";
constexpr const char* k_path = "/api/v1/billing/balance";

constexpr const char* k_doc_body =
    R"({"canConsume":true,"consumptionCurrency":"DIEM","balances":{"diem":90.5,"usd":25},"diemEpochAllocation":100})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix) {
  return provider_account("venice", server.url() + prefix, k_key);
}

}  // namespace

TEST_SUITE("provider_venice") {
  TEST_CASE("the documented body gives one balance per currency, the consuming one first") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 2);
    const auto& diem = result->balances[0];
    CHECK(diem.currency == "DIEM");
    CHECK(diem.balance == dec("90.5"));
    CHECK(diem.details["consumptionCurrency"] == "DIEM");
    CHECK(diem.details["diemEpochAllocation"] == "100.00");
    const auto& usd = result->balances[1];
    CHECK(usd.currency == "USD");
    CHECK(usd.balance == dec("25"));
    CHECK_FALSE(usd.spend_total.has_value());
    CHECK_FALSE(usd.details.contains("diemEpochAllocation"));

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }

  TEST_CASE("nulls, numeric strings, zero, and canConsume false") {
    FakeHttpServer server;
    serve(server, "/usd" + std::string(k_path), 200,
          R"({"canConsume":true,"consumptionCurrency":"USD","balances":{"diem":null,"usd":"12.34"},"diemEpochAllocation":null})");
    serve(server, "/dry" + std::string(k_path), 200,
          R"({"canConsume":false,"consumptionCurrency":null,"balances":{"diem":0,"usd":0},"diemEpochAllocation":0})");
    serve(server, "/none" + std::string(k_path), 200,
          R"({"canConsume":false,"consumptionCurrency":null,"balances":{"diem":null,"usd":null}})");
    server.start();

    auto usd = probe_once(account(server, "/usd"));
    REQUIRE(usd.ok());
    REQUIRE(usd->balances.size() == 1);
    CHECK(usd->balances[0].currency == "USD");
    CHECK(usd->balances[0].balance == dec("12.34"));

    auto dry = probe_once(account(server, "/dry"));
    REQUIRE(dry.ok());
    CHECK_FALSE(dry->available);
    REQUIRE(dry->balances.size() == 2);
    CHECK(dry->balances[0].currency == "USD");
    CHECK(dry->balances[0].balance == Decimal());

    auto none = probe_once(account(server, "/none"));
    REQUIRE(none.ok());
    CHECK_FALSE(none->available);
    CHECK(none->balances.empty());
  }

  TEST_CASE("401 is key_invalid with an admin-key hint, 402 exhausted, 429 rate_limited") {
    FakeHttpServer server;
    serve(server, "/bad" + std::string(k_path), 401, R"({"error":"Authentication failed"})");
    serve(server, "/dry" + std::string(k_path), 402, R"({"error":"Insufficient USD or Diem balance to complete request"})");
    serve(server, "/busy" + std::string(k_path), 429, R"({"error":"Too many requests"})", "application/json",
          {{"Retry-After", "20"}});
    server.start();

    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.message.find("admin key") != std::string::npos);
    CHECK(bad.message.find("Authentication failed") != std::string::npos);
    expect_error(probe_once(account(server, "/dry")), ErrorKind::exhausted);
    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(20));
  }

  TEST_CASE("malformed bodies are bad_response naming the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"canConsume":true,"balances":{"usd":"lots"}})", "balances.usd"},
        {R"({"canConsume":true,"balances":{"diem":[1]}})", "balances.diem"},
        {R"({"canConsume":true,"balances":[25]})", "balances"},
        {R"({"canConsume":true})", "balances"},
        {R"({"canConsume":"yes","balances":{"usd":1}})", "canConsume"},
        {R"({"canConsume":true,"consumptionCurrency":7,"balances":{"usd":1}})", "consumptionCurrency"},
        {R"({"canConsume":true,"balances":{}})", "balances"},
        {R"({"canConsume":true,"balances":{"usd":)", "truncated"},
        {"<html></html>", "HTML"},
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
    CHECK(any_error_mentions(build_errors(provider_account("venice", "", "")), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("venice", "", k_key, {{"admin", "true"}})),
                             "unknown key \"admin\""));
  }
}
