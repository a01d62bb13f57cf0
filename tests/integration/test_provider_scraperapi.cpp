// ScraperAPI against a loopback fake speaking the documented shapes (docs.scraperapi.com
// account-information and responses-and-formats/api-status-codes), through the conformance kit.
// [UNCONFIRMED] The docs print no example body: the body below uses the field names the
// reference and ScraperAPI's SDKs show.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "9f3cSECRETe1b2a4d5c6b7a8f9e0d1c2b3";
constexpr const char* k_path = "/account";

constexpr const char* k_doc_body = R"({"concurrencyLimit":20,"concurrentRequests":3,"failedRequestCount":118,
  "requestCount":65588,"requestLimit":100000,"subscriptionDate":"2026-11-17T09:12:44.000Z"})";

std::string account_body(const std::string& used, const std::string& limit) {
  return R"({"concurrencyLimit":5,"concurrentRequests":0,"failedRequestCount":0,"requestCount":)" + used +
         R"(,"requestLimit":)" + limit + "}";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

CannedAnswer text_answer(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  return CannedAnswer{k_path, status, std::move(body), "text/plain", std::move(headers)};
}

ProviderConformance scraperapi_table() {
  // The key travels as a query parameter: no Authorization header at all.
  ProviderConformance t{"scraperapi", k_key, {}, "Authorization", "", {}, {}};
  t.cases = {
      {"documented body: requests left is the limit less the count", Shape::success, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"34412", "requests", true, std::nullopt,
                       {{"requestLimit", "100000.00"}, {"requestCount", "65588.00"}, {"failedRequestCount", "118.00"},
                        {"concurrencyLimit", "20.00"}, {"subscriptionDate", "2026-11-17T09:12:44.000Z"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"every request used", Shape::empty_balance, {answer(k_path, 200, account_body("1000", "1000"))},
       ExpectedReading{"0", "requests", false}},
      {"a count past the limit is below zero", Shape::other, {answer(k_path, 200, account_body("1010", "1000"))},
       ExpectedReading{"-10", "requests", false}},
      {"the account's currency renames the unit", Shape::other, {answer(k_path, 200, account_body("10", "5000"))},
       ExpectedReading{"4990", "credits"}, std::nullopt, "", "credits"},
      {"403 credits used up is out of money", Shape::out_of_money,
       {text_answer(403, "You've used up all your API credits for this billing cycle.", {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 403, {"used up all your API credits"}, std::nullopt, true}},
      {"401 invalid key", Shape::invalid_key,
       {text_answer(401, "Unauthorized request, please make sure your API key is valid.")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"API key is valid"})},
      {"429 over the concurrency limit", Shape::rate_limit,
       {text_answer(429, "You are sending requests too fast, and exceeding your concurrency limit.", {{"Retry-After", "5"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"concurrency limit"}, std::chrono::seconds(5), false}},
      // A provider echoing the key back must not get it into the error.
      {"an error echoing the key is scrubbed", Shape::other,
       {text_answer(400, std::string("Bad api_key=") + k_key)}, std::nullopt, error_of(ErrorKind::http_status, 400, {"Bad api_key"})},
      {"500 failed request", Shape::other, {text_answer(500, "Request failed. You will not be charged for this request.")},
       std::nullopt, error_of(ErrorKind::server_error, 500, {"not be charged"})},
      malformed(R"({"requestCount":12})", "requestLimit"),
      malformed(R"({"requestLimit":1000})", "requestCount"),
      malformed(R"({"requestLimit":"lots","requestCount":1})", "requestLimit"),
      malformed(R"({"requestLimit":1000,"requestCount":1)", "truncated"),
      malformed("<html><body>Bad gateway</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"render", "true"}}, "unknown key \"render\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_scraperapi") {
  TEST_CASE("provider conformance: scraperapi") { run_conformance(scraperapi_table()); }

  TEST_CASE("providers lists scraperapi with its unit") {
    const auto line = providers_line("scraperapi");
    INFO("line: " << line);
    CHECK(line.find("/account") != std::string::npos);
    CHECK(line.find("requests") != std::string::npos);
  }

  TEST_CASE("scraperapi sends the key as the api_key query parameter, percent-encoded") {
    FakeHttpServer server;
    serve(server, k_path, 200, account_body("1", "10"));
    server.start();
    auto result = probe_once(provider_account("scraperapi", server.url(), "key with/odd+chars"));
    REQUIRE(result.ok());
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].target == "/account?api_key=key%20with%2Fodd%2Bchars");
  }

  TEST_CASE("check --json shows requests left with their unit and keeps the key hidden") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: scraperapi", "api_key: ${SCRAPERAPI_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"SCRAPERAPI_KEY", k_key}}, {k_key, "SECRETe1b2"});
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "requests");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>()) == 34412);
  }
}
