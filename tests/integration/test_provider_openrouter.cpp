// OpenRouter against a loopback fake speaking the documented shapes
// (shared/reference/providers.md sections 2, 10 and 11).
#include "integration/provider_probe.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-or-v1-SECRET-abc123xyz";

// Documented bodies (section 2).
constexpr const char* k_credits = R"({"data":{"total_credits":100.5,"total_usage":25.75}})";
constexpr const char* k_key_body = R"({"data":{"label":"sk-or-v1-au7...890","limit":100,"limit_remaining":74.5,
  "limit_reset":"monthly","include_byok_in_limit":false,"usage":25.5,"usage_daily":25.5,"usage_weekly":25.5,
  "usage_monthly":25.5,"byok_usage":17.38,"byok_usage_daily":17.38,"byok_usage_weekly":17.38,"byok_usage_monthly":17.38,
  "is_free_tier":false,"is_management_key":false,"is_provisioning_key":false,
  "creator_user_id":"user_2dHFtVWx2n56w6HkM0000000000","expires_at":"2027-12-31T23:59:59Z",
  "rate_limit":{"requests":1000,"interval":"1h","note":"This field is deprecated and safe to ignore."}}})";
constexpr const char* k_unlimited_key = R"({"data":{"label":"sk-or-v1-au7...890","limit":null,"limit_remaining":null,
  "limit_reset":null,"usage":3.25,"is_free_tier":false,"is_management_key":false,"rate_limit":{"requests":1000,"interval":"1h"}}})";
constexpr const char* k_management_only = R"({"error":{"code":403,"message":"Only management keys can perform this operation"}})";
constexpr const char* k_insufficient =
    R"({"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/credits"}})";
constexpr const char* k_user_not_found = R"({"error":{"message":"User not found.","code":401}})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix,
                              const std::map<std::string, std::string>& settings = {}) {
  return provider_account("openrouter", server.url() + prefix, k_key, settings);
}

}  // namespace

TEST_SUITE("provider_openrouter") {
  TEST_CASE("the documented /credits body gives balance = credits - usage and usage as the spend counter") {
    FakeHttpServer server;
    serve(server, "/api/v1/credits", 200, k_credits);
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    CHECK(b.currency == "USD");
    CHECK(b.balance == dec("74.75"));
    REQUIRE(b.spend_total.has_value());
    CHECK(*b.spend_total == dec("25.75"));
    CHECK(b.details["total_credits"] == "100.50");
    CHECK(b.details["total_usage"] == "25.75");

    // One request, the documented one; /key is not asked for without key_limit.
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == "/api/v1/credits");
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }

  TEST_CASE("numeric strings, a zero balance and a base_url with a trailing slash") {
    FakeHttpServer server;
    serve(server, "/strings/api/v1/credits", 200, R"({"data":{"total_credits":"10","total_usage":"2.5"}})");
    serve(server, "/zero/api/v1/credits", 200, R"({"data":{"total_credits":20,"total_usage":20}})");
    server.start();

    auto strings = probe_once(account(server, "/strings/"));
    REQUIRE(strings.ok());
    CHECK(strings->balances[0].balance == dec("7.5"));
    CHECK(*strings->balances[0].spend_total == dec("2.5"));

    auto zero = probe_once(account(server, "/zero"));
    REQUIRE(zero.ok());
    CHECK(zero->balances[0].balance == Decimal());
    CHECK(*zero->balances[0].spend_total == dec("20"));
  }

  TEST_CASE("402 is exhausted, 401 key_invalid, 429 rate_limited with Retry-After, 500 server_error") {
    FakeHttpServer server;
    serve(server, "/dry/api/v1/credits", 402, k_insufficient);
    serve(server, "/bad/api/v1/credits", 401, k_user_not_found);
    serve(server, "/busy/api/v1/credits", 429, R"({"error":{"code":429,"message":"Rate limit exceeded"}})",
          "application/json", {{"Retry-After", "30"}});
    serve(server, "/down/api/v1/credits", 500, R"({"error":{"code":500,"message":"Internal Server Error"}})");
    server.start();

    auto dry = expect_error(probe_once(account(server, "/dry")), ErrorKind::exhausted);
    CHECK(dry.http_status == 402);
    CHECK(dry.message.find("Insufficient credits") != std::string::npos);
    CHECK_FALSE(dry.retry_after.has_value());

    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.http_status == 401);
    CHECK(bad.message.find("User not found") != std::string::npos);

    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(30));

    auto down = expect_error(probe_once(account(server, "/down")), ErrorKind::server_error);
    CHECK(down.http_status == 500);
  }

  TEST_CASE("malformed bodies are bad_response naming what was wrong") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"data":{"total_credits":true,"total_usage":1}})", "data.total_credits"},
        {R"({"data":{"total_credits":10,"total_usage":"lots"}})", "data.total_usage"},
        {R"({"data":{"total_credits":10}})", "data.total_usage"},
        {R"({"data":[1,2]})", "data"},
        {R"({"credits":10})", "data"},
        {R"({"data":{"total_credits":10,)", "truncated"},
        {"<!DOCTYPE html><html><body>Cloudflare</body></html>", "HTML"},
        {R"("just a string")", "JSON object"},
    };
    FakeHttpServer server;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      serve(server, "/c" + std::to_string(i) + "/api/v1/credits", 200, cases[i].first);
    }
    server.start();
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].first);
      auto e = expect_error(probe_once(account(server, "/c" + std::to_string(i))), ErrorKind::bad_response);
      CHECK_MESSAGE(e.message.find(cases[i].second) != std::string::npos, e.message);
    }
  }

  TEST_CASE("a 403 'management keys only' falls back to the key's own spending cap") {
    FakeHttpServer server;
    serve(server, "/capped/api/v1/credits", 403, k_management_only);
    serve(server, "/capped/api/v1/key", 200, k_key_body);
    serve(server, "/spent/api/v1/credits", 403, k_management_only);
    serve(server, "/spent/api/v1/key", 200,
          R"({"data":{"label":"x","limit":10,"limit_remaining":0,"limit_reset":null,"usage":10}})");
    serve(server, "/uncapped/api/v1/credits", 403, k_management_only);
    serve(server, "/uncapped/api/v1/key", 200, k_unlimited_key);
    serve(server, "/revoked/api/v1/credits", 403, k_management_only);
    serve(server, "/revoked/api/v1/key", 401, k_user_not_found);
    server.start();

    auto capped = probe_once(account(server, "/capped"));
    REQUIRE(capped.ok());
    CHECK(capped->available);
    REQUIRE(capped->balances.size() == 1);
    const auto& b = capped->balances[0];
    CHECK(b.currency == "USD");
    CHECK(b.balance == dec("74.5"));
    REQUIRE(b.spend_total.has_value());
    CHECK(*b.spend_total == dec("25.5"));
    CHECK(b.details["source"] == "key_limit");
    CHECK(b.details["key_limit"] == "100.00");
    CHECK(b.details["key_limit_reset"] == "monthly");
    // The label echoes part of the key: it is never copied.
    CHECK(b.details.dump().find("au7") == std::string::npos);
    auto requests = recorded(server, 2);
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].path == "/capped/api/v1/credits");
    CHECK(requests[1].path == "/capped/api/v1/key");
    CHECK(requests[1].header("Authorization") == std::string("Bearer ") + k_key);

    auto spent = probe_once(account(server, "/spent"));
    REQUIRE(spent.ok());
    CHECK_FALSE(spent->available);
    CHECK(spent->balances[0].balance == Decimal());

    auto uncapped = expect_error(probe_once(account(server, "/uncapped")), ErrorKind::key_invalid);
    CHECK(uncapped.http_status == 403);
    CHECK(uncapped.message.find("management key") != std::string::npos);
    CHECK(uncapped.message.find("Only management keys can perform this operation") != std::string::npos);

    auto revoked = expect_error(probe_once(account(server, "/revoked")), ErrorKind::key_invalid);
    CHECK(revoked.http_status == 401);
  }

  TEST_CASE("key_limit: true adds the key's cap to details and keeps the balance if /key fails") {
    FakeHttpServer server;
    serve(server, "/ok/api/v1/credits", 200, k_credits);
    serve(server, "/ok/api/v1/key", 200, k_key_body);
    serve(server, "/unlimited/api/v1/credits", 200, k_credits);
    serve(server, "/unlimited/api/v1/key", 200, k_unlimited_key);
    serve(server, "/capspent/api/v1/credits", 200, k_credits);
    serve(server, "/capspent/api/v1/key", 200, R"({"data":{"limit":5,"limit_remaining":0,"usage":5}})");
    serve(server, "/keydown/api/v1/credits", 200, k_credits);
    serve(server, "/keydown/api/v1/key", 500, R"({"error":{"code":500,"message":"Internal Server Error"}})");
    server.start();
    const std::map<std::string, std::string> key_limit = {{"key_limit", "true"}};

    auto ok = probe_once(account(server, "/ok", key_limit));
    REQUIRE(ok.ok());
    CHECK(ok->available);
    const auto& b = ok->balances[0];
    CHECK(b.balance == dec("74.75"));
    CHECK(*b.spend_total == dec("25.75"));
    CHECK(b.details["key_limit_remaining"] == "74.50");
    CHECK(b.details["key_usage"] == "25.50");
    CHECK_FALSE(b.details.contains("source"));

    auto unlimited = probe_once(account(server, "/unlimited", key_limit));
    REQUIRE(unlimited.ok());
    CHECK(unlimited->balances[0].details["key_limit_remaining"] == "unlimited");

    auto capspent = probe_once(account(server, "/capspent", key_limit));
    REQUIRE(capspent.ok());
    CHECK_FALSE(capspent->available);
    CHECK(capspent->balances[0].balance == dec("74.75"));

    auto keydown = probe_once(account(server, "/keydown", key_limit));
    REQUIRE(keydown.ok());
    CHECK(keydown->balances[0].balance == dec("74.75"));
    CHECK(keydown->balances[0].details["key_error"].get<std::string>().find("server_error") != std::string::npos);
  }

  TEST_CASE("settings: api_key is required, key_limit is a boolean, unknown keys are rejected") {
    CHECK(any_error_mentions(build_errors(provider_account("openrouter", "", "")), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("openrouter", "", k_key, {{"key_limit", "maybe"}})),
                             "key_limit"));
    CHECK(any_error_mentions(build_errors(provider_account("openrouter", "", k_key, {{"key_limt", "true"}})),
                             "did you mean \"key_limit\""));
    CHECK(build_errors(provider_account("openrouter", "", k_key, {{"key_limit", "true"}})).empty());
  }

  TEST_CASE("end to end: creditwatch check --json reads the balance to the cent and never prints the key") {
    FakeHttpServer server;
    serve(server, "/api/v1/credits", 200, k_credits);
    server.start();
    TempDir dir;
    auto config = one_account_config(
        dir, {"provider: openrouter", "api_key: ${OPENROUTER_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"OPENROUTER_KEY", k_key}}, {k_key, "SECRET-abc123"});
    CHECK(a["provider"] == "openrouter");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "USD");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 7475);
    CHECK(a["error"].is_null());
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }
}
