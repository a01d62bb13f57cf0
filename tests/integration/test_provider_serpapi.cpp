// SerpApi against a loopback fake speaking the documented shapes (serpapi.com/account-api and
// serpapi.com/api-status-and-error-codes), through the conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "f00dSECRETabc123xyz0123456789abcdef";
constexpr const char* k_path = "/account.json";

// The documented example (its api_key and email must not be copied anywhere).
const std::string k_doc_body = std::string(R"({"account_id":"5ac54d6adefb2f1dba1663f5","api_key":")") + k_key +
                               R"(","account_email":"demo@serpapi.com","account_status":"Active","plan_id":"bigdata",
  "plan_name":"Big Data Plan","plan_monthly_price":250.0,"plan_renewal_date":"2026-12-17","searches_per_month":30000,
  "plan_searches_left":5958,"extra_credits":0,"total_searches_left":5958,"this_month_usage":24042,"this_hour_searches":87,
  "last_hour_searches":42,"account_rate_limit_per_hour":6000})";

std::string account_body(const std::string& left, const std::string& status = "Active") {
  return R"({"account_status":")" + status + R"(","plan_searches_left":)" + left + R"(,"extra_credits":0,"total_searches_left":)" +
         left + R"(,"this_month_usage":100,"plan_renewal_date":null})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance serpapi_table() {
  // The key travels as a query parameter: no Authorization header at all.
  ProviderConformance t{"serpapi", k_key, {}, "Authorization", "", {}, {}};
  t.cases = {
      {"documented body: total_searches_left in searches, plan and extra credits in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"5958", "searches", true, std::nullopt,
                       {{"plan_searches_left", "5958.00"}, {"extra_credits", "0.00"}, {"this_month_usage", "24042.00"},
                        {"plan_renewal_date", "2026-12-17"}, {"account_status", "Active"}},
                       {"api_key", "account_email"}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"no searches left", Shape::empty_balance, {answer(k_path, 200, account_body("0"))},
       ExpectedReading{"0", "searches", false}},
      {"a status other than Active cannot search", Shape::other, {answer(k_path, 200, account_body("40", "Suspended"))},
       ExpectedReading{"40", "searches", false, std::nullopt, {{"account_status", "Suspended"}}}},
      {"the account's currency renames the unit", Shape::other, {answer(k_path, 200, account_body("12"))},
       ExpectedReading{"12", "credits"}, std::nullopt, "", "credits"},
      {"429 run out of searches is out of money", Shape::out_of_money,
       {answer(k_path, 429,
               R"({"error":"Your account has run out of searches. You can upgrade your plan at https://serpapi.com/pricing"})",
               {{"Retry-After", "3600"}})},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 429, {"run out of searches"}, std::nullopt, true}},
      {"429 hourly throughput is a rate limit", Shape::rate_limit,
       {answer(k_path, 429,
               R"({"error":"The number of requests sent using this API key exceeds the hourly throughput limit."})",
               {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"hourly throughput"}, std::chrono::seconds(60), false}},
      {"401 invalid API key", Shape::invalid_key,
       {answer(k_path, 401, R"({"error":"Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"Invalid API key"})},
      {"403 deleted account", Shape::invalid_key,
       {answer(k_path, 403, R"({"error":"The account associated with this API key doesn't have permission."})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 403)},
      // A provider echoing the key back must not get it into the error.
      {"an error echoing the key is scrubbed", Shape::other,
       {answer(k_path, 400, std::string(R"({"error":"Bad key )") + k_key + R"("})")}, std::nullopt,
       error_of(ErrorKind::http_status, 400, {"Bad key"})},
      {"503 is a server error", Shape::other, {answer(k_path, 503, R"({"error":"Service unavailable"})")}, std::nullopt,
       error_of(ErrorKind::server_error, 503)},
      malformed(R"({"account_status":"Active","plan_searches_left":10})", "total_searches_left"),
      malformed(R"({"total_searches_left":"many"})", "total_searches_left"),
      malformed(R"({"total_searches_left":12)", "truncated"),
      malformed("<html><body>Bad gateway</body></html>", "HTML"),
      malformed(R"([{"total_searches_left":12}])", "a list"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"engine", "google"}}, "unknown key \"engine\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_serpapi") {
  TEST_CASE("provider conformance: serpapi") { run_conformance(serpapi_table()); }

  TEST_CASE("providers lists serpapi with its unit") {
    const auto line = providers_line("serpapi");
    INFO("line: " << line);
    CHECK(line.find("/account.json") != std::string::npos);
    CHECK(line.find("searches") != std::string::npos);
  }

  TEST_CASE("serpapi sends the key as the api_key query parameter, percent-encoded") {
    FakeHttpServer server;
    serve(server, k_path, 200, account_body("7"));
    server.start();
    auto result = probe_once(provider_account("serpapi", server.url(), "key with/odd+chars"));
    REQUIRE(result.ok());
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].target == "/account.json?api_key=key%20with%2Fodd%2Bchars");
  }

  TEST_CASE("check --json shows searches left with their unit and keeps the key hidden") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: serpapi", "api_key: ${SERPAPI_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"SERPAPI_KEY", k_key}}, {k_key, "SECRETabc123"});
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "searches");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>()) == 5958);
  }
}
