// OpenRouter against a loopback fake speaking the documented shapes
// (shared/reference/providers.md sections 2, 10 and 11), through the conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-or-v1-SECRET-abc123xyz";
constexpr const char* k_credits_path = "/api/v1/credits";
constexpr const char* k_key_path = "/api/v1/key";

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
constexpr const char* k_server_down = R"({"error":{"code":500,"message":"Internal Server Error"}})";

const std::map<std::string, std::string> k_key_limit = {{"key_limit", "true"}};

// /credits refused as management-key only, /key answering `key_answer`.
std::vector<CannedAnswer> key_only(int key_status, std::string key_answer) {
  return {answer(k_credits_path, 403, k_management_only), answer(k_key_path, key_status, std::move(key_answer))};
}

// /credits answering the documented body, /key answering `key_answer` (key_limit: true).
std::vector<CannedAnswer> with_key(int key_status, std::string key_answer) {
  return {answer(k_credits_path, 200, k_credits), answer(k_key_path, key_status, std::move(key_answer))};
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_credits_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance openrouter_table() {
  ProviderConformance t{"openrouter", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      // /key is not asked for without key_limit.
      {"documented /credits body: balance = credits - usage, usage the spend counter", Shape::success,
       {answer(k_credits_path, 200, k_credits)},
       ExpectedReading{"74.75", "USD", true, "25.75", {{"total_credits", "100.50"}, {"total_usage", "25.75"}}},
       std::nullopt, "", std::nullopt, {}, {k_credits_path}},
      {"numeric strings and a base_url with a trailing slash", Shape::other,
       {answer(k_credits_path, 200, R"({"data":{"total_credits":"10","total_usage":"2.5"}})")},
       ExpectedReading{"7.5", "USD", true, "2.5"}, std::nullopt, "/"},
      {"every credit used reads 0", Shape::empty_balance,
       {answer(k_credits_path, 200, R"({"data":{"total_credits":20,"total_usage":20}})")},
       ExpectedReading{"0", "USD", true, "20"}},
      {"402 insufficient credits is exhausted, never retry later", Shape::out_of_money,
       {answer(k_credits_path, 402, k_insufficient)}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 402, {"Insufficient credits"}, std::nullopt, true}},
      {"401 user not found", Shape::invalid_key, {answer(k_credits_path, 401, k_user_not_found)}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"User not found"})},
      {"429 with Retry-After", Shape::rate_limit,
       {answer(k_credits_path, 429, R"({"error":{"code":429,"message":"Rate limit exceeded"}})", {{"Retry-After", "30"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, -1, {}, std::chrono::seconds(30), false}},
      {"500 is a server error", Shape::other, {answer(k_credits_path, 500, k_server_down)}, std::nullopt,
       error_of(ErrorKind::server_error, 500)},
      malformed(R"({"data":{"total_credits":true,"total_usage":1}})", "data.total_credits"),
      malformed(R"({"data":{"total_credits":10,"total_usage":"lots"}})", "data.total_usage"),
      malformed(R"({"data":{"total_credits":10}})", "data.total_usage"),
      malformed(R"({"data":[1,2]})", "data"),
      malformed(R"({"credits":10})", "data"),
      malformed(R"({"data":{"total_credits":10,)", "truncated"),
      malformed("<!DOCTYPE html><html><body>Cloudflare</body></html>", "HTML"),
      malformed(R"("just a string")", "JSON object"),
      // A 403 "management keys only" on /credits falls back to the key's own spending cap.
      // The key's label echoes part of the key: it is never copied.
      {"403 management keys only: a capped key reads what is left of its cap", Shape::other,
       key_only(200, k_key_body),
       ExpectedReading{"74.5", "USD", true, "25.5",
                       {{"source", "key_limit"}, {"key_limit", "100.00"}, {"key_limit_reset", "monthly"}}, {"label"},
                       std::nullopt, {"au7"}},
       std::nullopt, "", std::nullopt, {}, {k_credits_path, k_key_path}},
      {"403 management keys only: a cap spent reads 0 and cannot serve", Shape::other,
       key_only(200, R"({"data":{"label":"x","limit":10,"limit_remaining":0,"limit_reset":null,"usage":10}})"),
       ExpectedReading{"0", "USD", false, "10"}},
      {"403 management keys only: an uncapped key has no balance to read", Shape::invalid_key,
       key_only(200, k_unlimited_key), std::nullopt,
       error_of(ErrorKind::key_invalid, 403, {"management key", "Only management keys can perform this operation"})},
      {"403 management keys only: a revoked key on /key", Shape::invalid_key, key_only(401, k_user_not_found),
       std::nullopt, error_of(ErrorKind::key_invalid, 401)},
      {"key_limit true adds the key's cap to details", Shape::other, with_key(200, k_key_body),
       ExpectedReading{"74.75", "USD", true, "25.75", {{"key_limit_remaining", "74.50"}, {"key_usage", "25.50"}},
                       {"source"}},
       std::nullopt, "", std::nullopt, k_key_limit, {k_credits_path, k_key_path}},
      {"key_limit true with an unlimited key", Shape::other, with_key(200, k_unlimited_key),
       ExpectedReading{"74.75", "USD", true, "25.75", {{"key_limit_remaining", "unlimited"}}}, std::nullopt, "",
       std::nullopt, k_key_limit},
      {"key_limit true with the key's cap spent cannot serve, the balance kept", Shape::other,
       with_key(200, R"({"data":{"limit":5,"limit_remaining":0,"usage":5}})"),
       ExpectedReading{"74.75", "USD", false, "25.75"}, std::nullopt, "", std::nullopt, k_key_limit},
      {"key_limit true keeps the balance when /key fails", Shape::other, with_key(500, k_server_down),
       ExpectedReading{"74.75", "USD", true, "25.75"}, std::nullopt, "", std::nullopt, k_key_limit},
  };
  t.config_cases = {{"", {}, "api_key"},
                    {k_key, {{"key_limit", "maybe"}}, "key_limit"},
                    {k_key, {{"key_limt", "true"}}, "did you mean \"key_limit\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_openrouter") {
  TEST_CASE("provider conformance: openrouter") { run_conformance(openrouter_table()); }

  // Beyond the table: a detail's words (not its whole value) and a config that must build.
  TEST_CASE("key_limit true names /key's failure in details") {
    FakeHttpServer server;
    serve(server, k_credits_path, 200, k_credits);
    serve(server, k_key_path, 500, k_server_down);
    server.start();
    auto keydown = probe_once(provider_account("openrouter", server.url(), k_key, k_key_limit));
    REQUIRE(keydown.ok());
    CHECK(keydown->balances[0].details["key_error"].get<std::string>().find("server_error") != std::string::npos);
  }

  TEST_CASE("key_limit true is a valid setting") {
    CHECK(build_errors(provider_account("openrouter", "", k_key, k_key_limit)).empty());
  }

  TEST_CASE("end to end: creditwatch check --json reads the balance to the cent and never prints the key") {
    FakeHttpServer server;
    serve(server, k_credits_path, 200, k_credits);
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
