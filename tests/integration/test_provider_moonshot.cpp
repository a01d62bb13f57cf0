// Moonshot / Kimi against a loopback fake speaking the documented shapes
// (shared/reference/providers.md sections 0, 3, 10 and 11).
#include "integration/provider_probe.hpp"

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

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix) {
  return provider_account("moonshot", server.url() + prefix, k_key);
}

}  // namespace

TEST_SUITE("provider_moonshot") {
  TEST_CASE("the documented body gives data.available_balance, vouchers and cash in details") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    // Not a .cn host: the international platform bills in USD.
    CHECK(b.currency == "USD");
    CHECK(b.balance == dec("49.58894"));
    CHECK_FALSE(b.spend_total.has_value());
    CHECK(b.details["voucher_balance"] == "46.58893");
    CHECK(b.details["cash_balance"] == "3.00001");

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }

  TEST_CASE("the account's currency overrides the host's - zero and negative cash are read as sent") {
    FakeHttpServer server;
    serve(server, "/zero" + std::string(k_path), 200,
          R"({"code":0,"data":{"available_balance":0,"voucher_balance":0,"cash_balance":0},"scode":"0x0","status":true})");
    serve(server, "/owed" + std::string(k_path), 200,
          R"({"code":0,"data":{"available_balance":"12.5","voucher_balance":"12.5","cash_balance":"-3.25"},"scode":"0x0","status":true})");
    serve(server, "/cny" + std::string(k_path), 200, k_doc_body);
    server.start();

    auto zero = probe_once(account(server, "/zero"));
    REQUIRE(zero.ok());
    CHECK(zero->balances[0].balance == Decimal());
    // At or below zero the inference API can no longer be called.
    CHECK_FALSE(zero->available);

    auto owed = probe_once(account(server, "/owed"));
    REQUIRE(owed.ok());
    CHECK(owed->available);
    CHECK(owed->balances[0].balance == dec("12.5"));
    CHECK(owed->balances[0].details["cash_balance"] == "-3.25");

    auto cny_account = account(server, "/cny");
    cny_account.currency = "CNY";
    auto cny = probe_once(cny_account);
    REQUIRE(cny.ok());
    CHECK(cny->balances[0].currency == "CNY");
  }

  TEST_CASE("429 is exhausted when the body says quota or balance, rate_limited otherwise") {
    FakeHttpServer server;
    // A Retry-After on an out-of-money answer must not turn it into "wait and retry".
    serve(server, "/quota" + std::string(k_path), 429, k_quota, "application/json", {{"Retry-After", "60"}});
    serve(server, "/suspended" + std::string(k_path), 429, k_suspended);
    serve(server, "/busy" + std::string(k_path), 429, k_rate_limited, "application/json", {{"Retry-After", "7"}});
    serve(server, "/bad" + std::string(k_path), 401, k_invalid_auth);
    serve(server, "/down" + std::string(k_path), 503, R"({"error":{"message":"overloaded","type":"server_error"}})");
    server.start();

    auto quota = expect_error(probe_once(account(server, "/quota")), ErrorKind::exhausted);
    CHECK(quota.http_status == 429);
    CHECK_FALSE(quota.retry_after.has_value());
    CHECK(quota.message.find("exceeded your current quota") != std::string::npos);

    auto suspended = expect_error(probe_once(account(server, "/suspended")), ErrorKind::exhausted);
    CHECK(suspended.message.find("insufficient balance") != std::string::npos);

    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(7));

    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.http_status == 401);
    CHECK(bad.message.find("Invalid Authentication") != std::string::npos);

    expect_error(probe_once(account(server, "/down")), ErrorKind::server_error);
  }

  TEST_CASE("HTTP 200 with code != 0 or status false is an error, not a balance") {
    FakeHttpServer server;
    serve(server, "/unauthorized" + std::string(k_path), 200,
          R"({"code":401,"data":{"available_balance":0,"voucher_balance":0,"cash_balance":0},"scode":"unauthorized","status":false})");
    serve(server, "/code" + std::string(k_path), 200,
          R"({"code":5,"data":{"available_balance":10},"scode":"0x5","status":true})");
    serve(server, "/status" + std::string(k_path), 200,
          R"({"code":0,"data":{"available_balance":10},"scode":"0x0","status":false})");
    server.start();

    auto unauthorized = expect_error(probe_once(account(server, "/unauthorized")), ErrorKind::key_invalid);
    CHECK(unauthorized.message.find("401") != std::string::npos);
    auto code = expect_error(probe_once(account(server, "/code")), ErrorKind::http_status);
    CHECK(code.message.find("code 5") != std::string::npos);
    CHECK(code.message.find("0x5") != std::string::npos);
    expect_error(probe_once(account(server, "/status")), ErrorKind::http_status);
  }

  TEST_CASE("malformed bodies are bad_response naming the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"code":0,"data":{"available_balance":"abc"},"status":true})", "data.available_balance"},
        {R"({"code":0,"data":{"available_balance":null},"status":true})", "data.available_balance"},
        {R"({"code":0,"data":{"voucher_balance":1},"status":true})", "data.available_balance"},
        {R"({"code":0,"data":null,"status":true})", "data"},
        {R"({"code":0,"status":true})", "data"},
        {R"({"code":"0","data":{"available_balance":1},"status":true})", "code"},
        {R"({"code":0,"data":{"available_balance":1},"status":"ok"})", "status"},
        {R"({"code":0,"data":{"available_balance":4)", "truncated"},
        {"<html><body>502 Bad Gateway</body></html>", "HTML"},
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
    CHECK(any_error_mentions(build_errors(provider_account("moonshot", "", "")), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("moonshot", "", k_key, {{"region", "cn"}})),
                             "unknown key \"region\""));
  }

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
