// LiteLLM proxy against a loopback fake speaking the shapes of LiteLLM's management endpoints
// (key_management_endpoints.py info_key_fn, /user/info, /team/info; docs.litellm.ai
// proxy/key_budgets, proxy/team_budgets), through the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-litellm-SECRET-abc123xyz";
constexpr const char* k_key_path = "/key/info";
constexpr const char* k_user_path = "/user/info";
constexpr const char* k_team_path = "/team/info";

// /key/info echoes the key it was asked about: it must never reach a reading or a message.
std::string key_info(const std::string& spend, const std::string& max_budget, const std::string& user_id = "u-1",
                     const std::string& team_id = "null") {
  return std::string(R"({"key":")") + k_key + R"(","info":{"key_name":"sk-...xyz","spend":)" + spend +
         R"(,"max_budget":)" + max_budget + R"(,"user_id":)" + (user_id == "null" ? "null" : "\"" + user_id + "\"") +
         R"(,"team_id":)" + (team_id == "null" ? "null" : "\"" + team_id + "\"") +
         R"(,"budget_duration":"30d","budget_reset_at":"2026-12-31T00:00:00.000000Z","models":[]}})";
}

std::string error_body(const std::string& type, const std::string& message, const std::string& code) {
  return R"({"error":{"message":")" + message + R"(","type":")" + type + R"(","param":null,"code":")" + code + R"("}})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_key_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance litellm_table() {
  ProviderConformance t{"litellm", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"key budget: max_budget minus spend, spend as the counter, reset time in details", Shape::success,
       {answer(k_key_path, 200, key_info("12.5", "100.0"))},
       ExpectedReading{"87.5", "USD", true, "12.5",
                       {{"budget_scope", "key"}, {"max_budget", "100.00"}, {"budget_reset_at", "2026-12-31T00:00:00Z"}},
                       {"key", "key_name", "resets_at"}},
       std::nullopt, "", std::nullopt, {}, {k_key_path}},
      {"key budget spent", Shape::empty_balance, {answer(k_key_path, 200, key_info("100.0", "100.0"))},
       ExpectedReading{"0", "USD", false, "100"}},
      {"budget_exceeded (429 in new releases) is out of money", Shape::out_of_money,
       {answer(k_key_path, 429,
               error_body("budget_exceeded", "Budget has been exceeded! Current cost: 100.2, Max budget: 100.0", "429"),
               {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 429, {"budget exceeded", "Max budget"}, std::nullopt, true}},
      {"budget_exceeded as 400 (older releases) is out of money", Shape::other,
       {answer(k_key_path, 400, error_body("budget_exceeded", "ExceededBudget: Key over budget", "400"))}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 400, {"ExceededBudget"}, std::nullopt, true}},
      {"401 auth_error is an invalid key", Shape::invalid_key,
       {answer(k_key_path, 401,
               error_body("auth_error", "Authentication Error, Invalid proxy server token passed.", "401"))},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"Invalid proxy server token"})},
      {"429 without budget_exceeded is a rate limit", Shape::rate_limit,
       {answer(k_key_path, 429, error_body("throttling_error", "Max parallel request limit reached.", "429"),
               {{"Retry-After", "2"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(2), false}},
      {"a key without max_budget has no balance", Shape::other, {answer(k_key_path, 200, key_info("3.25", "null"))},
       ExpectedReading{std::nullopt}},
      {"a key without max_budget reads against the configured budget", Shape::other,
       {answer(k_key_path, 200, key_info("3.25", "null"))},
       ExpectedReading{"46.75", "USD", true, "3.25", {{"budget", "50.00"}}}, std::nullopt, "", std::nullopt,
       {{"budget", "50"}}},
      {"budget_scope user reads the owner's budget", Shape::other,
       {answer(k_key_path, 200, key_info("1", "null", "user@example.com")),
        answer(k_user_path, 200,
               R"({"user_id":"user@example.com","user_info":{"spend":40.0,"max_budget":50.0,"budget_reset_at":null},"keys":[],"teams":[]})")},
       ExpectedReading{"10", "USD", true, "40", {{"budget_scope", "user"}}}, std::nullopt, "", std::nullopt,
       {{"budget_scope", "user"}}, {k_key_path, k_user_path}},
      {"budget_scope team reads the team's budget", Shape::other,
       {answer(k_key_path, 200, key_info("1", "null", "null", "team-7")),
        answer(k_team_path, 200,
               R"({"team_id":"team-7","team_info":{"team_alias":"qa","spend":"250.5","max_budget":"1000"},"keys":[]})")},
       ExpectedReading{"749.5", "USD", true, "250.5", {{"budget_scope", "team"}}}, std::nullopt, "", std::nullopt,
       {{"budget_scope", "team"}}, {k_key_path, k_team_path}},
      {"budget_scope team on a key without a team says so", Shape::other,
       {answer(k_key_path, 200, key_info("1", "null", "u-1", "null"))}, std::nullopt,
       error_of(ErrorKind::http_status, 200, {"no team_id"}), "", std::nullopt, {{"budget_scope", "team"}}},
      {"a base ending in /v1 still reaches the management routes", Shape::other,
       {answer(k_key_path, 200, key_info("0", "5"))}, ExpectedReading{"5", "USD", true, "0"}, std::nullopt, "/v1",
       std::nullopt, {}, {k_key_path}},
      {"500 is a server error", Shape::other,
       {answer(k_key_path, 500, error_body("internal_server_error", "DB not connected", "500"))}, std::nullopt,
       error_of(ErrorKind::server_error, 500)},
      malformed(R"({"key":"x","info":{"max_budget":10}})", "info.spend"),
      malformed(R"({"key":"x","info":{"spend":1,"max_budget":"lots"}})", "info.max_budget"),
      malformed(R"({"key":"x"})", "info"),
      malformed("<html>proxy</html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"},
                    {k_key, {{"budget_scope", "org"}}, "expected key, user or team"},
                    {k_key, {{"budget", "-5"}}, "above 0"},
                    {k_key, {{"team_id", "t"}}, "unknown key \"team_id\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_litellm") {
  TEST_CASE("provider conformance: litellm") { run_conformance(litellm_table()); }

  TEST_CASE("litellm needs the proxy's base_url") {
    CHECK(any_error_mentions(build_errors(provider_account("litellm", "", k_key, {})), "base_url"));
  }

  TEST_CASE("litellm asks for the owner by a percent-encoded user_id") {
    FakeHttpServer server;
    serve(server, k_key_path, 200, key_info("1", "null", "a b/c"));
    serve(server, k_user_path, 200, R"({"user_id":"a b/c","user_info":{"spend":1,"max_budget":2}})");
    server.start();
    auto result = probe_once(provider_account("litellm", server.url(), k_key, {{"budget_scope", "user"}}));
    REQUIRE(result.ok());
    auto requests = recorded(server, 2);
    REQUIRE(requests.size() == 2);
    CHECK(requests[1].target == "/user/info?user_id=a%20b%2Fc");
  }

  TEST_CASE("providers lists litellm") {
    const auto line = providers_line("litellm");
    INFO("line: " << line);
    CHECK(line.find("/key/info") != std::string::npos);
  }
}
