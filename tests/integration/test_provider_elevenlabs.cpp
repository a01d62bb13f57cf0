// ElevenLabs against a loopback fake speaking the documented shapes (the ElevenLabs OpenAPI
// GET /v1/user/subscription and the SDKs' Subscription model; its {"detail":{status,message}}
// errors), through the conformance kit. Characters left, with the period's reset in details.
#include "integration/provider_conformance.hpp"

#include "creditwatch/providers/quota_window.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk_3f9aSECRETb2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1";
constexpr const char* k_path = "/v1/user/subscription";
constexpr const char* k_reset_text = "2027-01-01T00:00:00Z";  // 1798761600

// A subscription in the documented shape.
constexpr const char* k_doc_body = R"({"tier":"creator","character_count":17231,"character_limit":100000,
  "max_character_limit_extension":null,"can_extend_character_limit":true,"allowed_to_extend_character_limit":false,
  "next_character_count_reset_unix":1798761600,"voice_slots_used":3,"professional_voice_slots_used":0,"voice_limit":30,
  "max_voice_add_edits":95,"voice_add_edit_counter":12,"professional_voice_limit":1,"can_extend_voice_limit":false,
  "can_use_instant_voice_cloning":true,"can_use_professional_voice_cloning":true,"currency":"usd","status":"active",
  "billing_period":"monthly_period","character_refresh_period":"monthly_period"})";

std::string subscription_body(const std::string& used, const std::string& limit, bool can_extend = false,
                              bool allowed = false) {
  return R"({"tier":"starter","character_count":)" + used + R"(,"character_limit":)" + limit +
         R"(,"can_extend_character_limit":)" + (can_extend ? "true" : "false") +
         R"(,"allowed_to_extend_character_limit":)" + (allowed ? "true" : "false") +
         R"(,"next_character_count_reset_unix":1798761600,"status":"active"})";
}

std::string detail_error(const std::string& status, const std::string& message) {
  return R"({"detail":{"status":")" + status + R"(","message":")" + message + R"("}})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance elevenlabs_table() {
  ProviderConformance t{"elevenlabs", k_key, {}, "xi-api-key", k_key, {}, {}};
  t.cases = {
      {"documented subscription: characters left, the reset in details", Shape::success, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"82769", "characters", true, std::nullopt,
                       {{"character_count", "17231.00"}, {"character_limit", "100000.00"}, {"tier", "creator"},
                        {"status", "active"}, {"resets_at", k_reset_text}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"every character used", Shape::empty_balance, {answer(k_path, 200, subscription_body("10000", "10000"))},
       ExpectedReading{"0", "characters", false, std::nullopt, {{"resets_at", k_reset_text}}}},
      {"usage-based billing keeps a used-up plan serving", Shape::other,
       {answer(k_path, 200, subscription_body("10500", "10000", true, true))}, ExpectedReading{"-500", "characters", true}},
      {"able but not allowed to extend stops at the limit", Shape::other,
       {answer(k_path, 200, subscription_body("10000", "10000", true, false))}, ExpectedReading{"0", "characters", false}},
      {"no reset time: no resets_at", Shape::other,
       {answer(k_path, 200, R"({"character_count":5,"character_limit":10,"next_character_count_reset_unix":null})")},
       ExpectedReading{"5", "characters", true, std::nullopt, {}, {"resets_at"}}},
      {"quota_exceeded is out of characters", Shape::out_of_money,
       {answer(k_path, 401,
               detail_error("quota_exceeded", "This request exceeds your quota. You have 0 credits remaining."),
               {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 401, {"exceeds your quota"}, std::nullopt, true}},
      {"401 invalid API key", Shape::invalid_key, {answer(k_path, 401, detail_error("invalid_api_key", "Invalid API key"))},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"Invalid API key"})},
      {"401 a key without user_read", Shape::invalid_key,
       {answer(k_path, 401, detail_error("missing_permissions", "The API key you used is missing the permission user_read"))},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"user_read"})},
      {"429 too many concurrent requests", Shape::rate_limit,
       {answer(k_path, 429, detail_error("too_many_concurrent_requests", "Too many concurrent requests"),
               {{"Retry-After", "3"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"Too many concurrent"}, std::chrono::seconds(3), false}},
      {"500 server error", Shape::other, {answer(k_path, 500, R"({"detail":"Internal Server Error"})")}, std::nullopt,
       error_of(ErrorKind::server_error, 500, {"Internal Server Error"})},
      malformed(R"({"character_count":10})", "character_limit"),
      malformed(R"({"character_limit":10})", "character_count"),
      malformed(R"({"character_limit":"many","character_count":1})", "character_limit"),
      malformed(R"({"character_limit":10,"character_count":1)", "truncated"),
      malformed("<html><body>Bad gateway</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"model", "eleven_v3"}}, "unknown key \"model\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_elevenlabs") {
  TEST_CASE("provider conformance: elevenlabs") { run_conformance(elevenlabs_table()); }

  TEST_CASE("elevenlabs announces its reset where the forecast ledger reads it") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    auto result = probe_once(provider_account("elevenlabs", server.url(), k_key));
    REQUIRE(result.ok());
    const auto reset = providers::window_resets_at(result->balances[0].details);
    REQUIRE(reset.has_value());
    CHECK(to_unix_ms(*reset) == 1'798'761'600'000);
  }

  TEST_CASE("providers lists elevenlabs with its unit") {
    const auto line = providers_line("elevenlabs");
    INFO("line: " << line);
    CHECK(line.find("/v1/user/subscription") != std::string::npos);
    CHECK(line.find("characters") != std::string::npos);
  }

  TEST_CASE("check --json shows characters left with their unit and keeps the key hidden") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: elevenlabs", "api_key: ${XI_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"XI_KEY", k_key}}, {k_key, "SECRETb2c4"});
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "characters");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>()) == 82769);
  }
}
