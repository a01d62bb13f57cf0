// one-api / new-api relays against a loopback fake speaking the documented shapes (new-api's
// "Account Billing Dashboard Module" docs, one-api and new-api controller/billing.go and
// middleware/auth.go; shared/reference/providers.md 7.9), through the conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-relay-SECRET-abc123xyz";
constexpr const char* k_subscription = "/v1/dashboard/billing/subscription";
constexpr const char* k_usage = "/v1/dashboard/billing/usage";

// The documented bodies: a 100 USD quota of which 25 USD (2500 cents) is used.
constexpr const char* k_doc_subscription =
    R"({"object":"billing_subscription","has_payment_method":true,"soft_limit_usd":100.0,"hard_limit_usd":100.0,"system_hard_limit_usd":100.0,"access_until":1640995200})";
constexpr const char* k_doc_usage = R"({"object":"list","total_usage":2500.0})";
constexpr const char* k_unlimited =
    R"({"object":"billing_subscription","has_payment_method":true,"soft_limit_usd":100000000,"hard_limit_usd":100000000,"system_hard_limit_usd":100000000,"access_until":0})";

std::string subscription(const std::string& limit) {
  return R"({"object":"billing_subscription","has_payment_method":true,"soft_limit_usd":)" + limit +
         R"(,"hard_limit_usd":)" + limit + R"(,"system_hard_limit_usd":)" + limit + R"(,"access_until":0})";
}

std::string usage(const std::string& cents) { return R"({"object":"list","total_usage":)" + cents + "}"; }

ConformanceCase malformed(std::string name, std::vector<CannedAnswer> answers, std::string names) {
  return {"malformed: " + name, Shape::malformed, std::move(answers), std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance oneapi_table() {
  ProviderConformance t{"oneapi", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  const auto paid = [](std::string limit, std::string cents) {
    return std::vector<CannedAnswer>{answer(k_subscription, 200, subscription(limit)), answer(k_usage, 200, usage(cents))};
  };
  t.cases = {
      {"documented bodies: hard_limit_usd minus total_usage cents, usage as the spend counter", Shape::success,
       {answer(k_subscription, 200, k_doc_subscription), answer(k_usage, 200, k_doc_usage)},
       ExpectedReading{"75", "USD", true, "25", {{"hard_limit", "100.00"}}}, std::nullopt, "", std::nullopt, {},
       {k_subscription, k_usage}},
      {"a base_url that already ends in /v1 is not given a second one", Shape::other,
       {answer(k_subscription, 200, k_doc_subscription), answer(k_usage, 200, k_doc_usage)},
       ExpectedReading{"75", "USD", true, "25"}, std::nullopt, "/v1", std::nullopt, {}, {k_subscription, k_usage}},
      {"a base_url ending in /v1/ is the same", Shape::other,
       {answer(k_subscription, 200, k_doc_subscription), answer(k_usage, 200, k_doc_usage)},
       ExpectedReading{"75", "USD", true, "25"}, std::nullopt, "/v1/", std::nullopt, {}, {k_subscription, k_usage}},
      // The sentinel is no balance of 1e8: the reading has none, and usage is not asked.
      {"an unlimited token (hard_limit_usd 100000000) has no balance", Shape::other,
       {answer(k_subscription, 200, k_unlimited), answer(k_usage, 200, k_doc_usage)}, ExpectedReading{std::nullopt},
       std::nullopt, "", std::nullopt, {}, {k_subscription}},
      {"a site that shows CNY: the account's currency names the unit", Shape::other,
       paid("\"730.5\"", "\"1050.5\""), ExpectedReading{"719.995", "CNY", true, "10.505"}, std::nullopt, "", "CNY"},
      {"quota all used: zero and unavailable", Shape::empty_balance, paid("25", "2500"),
       ExpectedReading{"0", "USD", false, "25"}},
      {"403 insufficient_user_quota is out of money", Shape::out_of_money,
       {answer(k_subscription, 403,
               R"({"error":{"message":"用户额度不足, 剩余额度: $0.000000","type":"new_api_error","param":"","code":"insufficient_user_quota"}})",
               {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 403, {"用户额度不足"}, std::nullopt, true}},
      {"401 token quota used up is out of money", Shape::out_of_money,
       {answer(k_subscription, 401, R"({"error":{"message":"该令牌额度已用尽","type":"new_api_error"}})")},
       std::nullopt, error_of(ErrorKind::exhausted, 401, {"该令牌额度已用尽"})},
      {"old one-api: HTTP 200 token quota used up is out of money", Shape::out_of_money,
       {answer(k_subscription, 200, R"({"error":{"message":"该令牌额度已用尽","type":"one_api_error"}})")},
       std::nullopt, error_of(ErrorKind::exhausted, 200)},
      {"401 invalid token", Shape::invalid_key,
       {answer(k_subscription, 401, R"({"error":{"message":"无效的令牌","type":"new_api_error"}})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"无效的令牌"})},
      {"old one-api: HTTP 200 invalid token", Shape::invalid_key,
       {answer(k_subscription, 200, R"({"error":{"message":"无效的令牌","type":"one_api_error"}})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 200, {"无效的令牌"})},
      {"429 with Retry-After", Shape::rate_limit,
       {answer(k_subscription, 429, R"({"error":{"message":"您已达到请求数限制：1分钟内最多请求60次","type":"new_api_error"}})",
               {{"Retry-After", "30"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(30), false}},
      {"HTTP 200 with the documented subscription error", Shape::other,
       {answer(k_subscription, 200, R"({"error":{"message":"Failed to retrieve quota","type":"upstream_error"}})")},
       std::nullopt, error_of(ErrorKind::http_status, 200, {"Failed to retrieve quota"}), "", std::nullopt, {},
       {k_subscription}},
      {"HTTP 200 with the documented usage error", Shape::other,
       {answer(k_subscription, 200, k_doc_subscription),
        answer(k_usage, 200, R"({"error":{"message":"Failed to retrieve usage","type":"new_api_error"}})")},
       std::nullopt, error_of(ErrorKind::http_status, 200, {"Failed to retrieve usage"})},
      {"502 from the relay's proxy is a server error", Shape::other,
       {CannedAnswer{k_subscription, 502, "<html><body>502 Bad Gateway</body></html>", "text/html"}}, std::nullopt,
       error_of(ErrorKind::server_error, 502)},
      // A relay without the billing routes answers its web app or {"code":"404"}.
      malformed("an SPA page", {CannedAnswer{k_subscription, 200, "<!doctype html><div id=\"root\"></div>", "text/html"}},
                "HTML"),
      malformed("code 404", {answer(k_subscription, 200, R"({"code":"404"})")}, "hard_limit_usd"),
      malformed("hard_limit_usd text", {answer(k_subscription, 200, subscription("\"lots\""))}, "hard_limit_usd"),
      malformed("usage without total_usage", {answer(k_subscription, 200, k_doc_subscription),
                                              answer(k_usage, 200, R"({"object":"list"})")},
                "total_usage"),
      malformed("usage null", {answer(k_subscription, 200, k_doc_subscription), answer(k_usage, 200, usage("null"))},
                "total_usage"),
      malformed("truncated", {answer(k_subscription, 200, R"({"object":"billing_subscription","hard_limit_us)")},
                "truncated"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {}, "base_url"}, {k_key, {{"group", "vip"}}, "unknown key \"group\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_oneapi") {
  TEST_CASE("provider conformance: oneapi") { run_conformance(oneapi_table()); }

  TEST_CASE("providers lists oneapi with what it reads and where") {
    const auto line = providers_line("oneapi");
    INFO("line: " << line);
    CHECK(line.find("balance+spend") != std::string::npos);
    CHECK(line.find("/dashboard/billing/subscription") != std::string::npos);
    CHECK(line.find("/usage") != std::string::npos);
  }

  TEST_CASE("check --json reports a one-api relay's balance from subscription and usage") {
    FakeHttpServer server;
    serve(server, k_subscription, 200, k_doc_subscription);
    serve(server, k_usage, 200, usage("1234.5"));
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: oneapi", "api_key: ${RELAY_KEY}", "base_url: " + server.url() + "/v1"});
    auto a = check_one(config, {{"RELAY_KEY", k_key}}, {k_key, "SECRET-abc123"});
    CHECK(a["provider"] == "oneapi");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "USD");
    REQUIRE(a["balance"].is_number());
    // 100 USD quota less 1234.5 cents used.
    CHECK(std::llround(a["balance"].get<double>() * 1000) == 87655);
    auto requests = recorded(server, 2);
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].path == k_subscription);
    CHECK(requests[1].path == k_usage);
    CHECK(requests[1].header("Authorization") == std::string("Bearer ") + k_key);
  }

  TEST_CASE("check --json: an unlimited relay token is OK with no balance, not 1e8") {
    FakeHttpServer server;
    serve(server, k_subscription, 200, k_unlimited);
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: oneapi", "api_key: ${RELAY_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"RELAY_KEY", k_key}}, {k_key, "SECRET-abc123"});
    INFO(a.dump());
    CHECK(a["state"] == "OK");
    CHECK(a["balances"].empty());
    CHECK_FALSE(a["balance"].is_number());
    CHECK(a["error"].is_null());
  }

  TEST_CASE("check --json: a spent relay token is CRITICAL exhausted") {
    FakeHttpServer server;
    serve(server, k_subscription, 401, R"({"error":{"message":"该令牌额度已用尽","type":"new_api_error"}})");
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: oneapi", "api_key: ${RELAY_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"RELAY_KEY", k_key}}, {k_key, "SECRET-abc123"}, 2);
    CHECK(a["state"] == "CRITICAL");
    CHECK(a["error"]["kind"] == "exhausted");
  }
}
