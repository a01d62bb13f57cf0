// Vonage (Nexmo) against a loopback fake speaking the documented shapes
// (shared/reference/providers.md section 9.2), through the conformance kit.
#include "integration/provider_conformance.hpp"

#include "creditwatch/http/curl_client.hpp"

#include <mutex>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_api_key = "a1b2c3d4";
constexpr const char* k_secret = "SECRET-abc123xyz";
constexpr const char* k_path = "/account/get-balance";

constexpr const char* k_doc_body = R"({"value":10.28,"autoReload":false})";
constexpr const char* k_unauthorized =
    R"({"type":"https://developer.nexmo.com/api-errors#unauthorized","title":"Invalid credentials supplied","detail":"You did not provide correct credentials.","instance":"797a8f199c45014ab7b08bfe9cc1c12c"})";
constexpr const char* k_low_balance =
    R"({"type":"https://developer.nexmo.com/api-errors#low-balance","title":"Low balance","detail":"You do not have enough credit","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"})";

config::AccountConfig account(const std::string& base_url, std::map<std::string, std::string> settings = {}) {
  settings.emplace("api_secret", k_secret);
  return provider_account("vonage", base_url, k_api_key, settings);
}

// Vonage answers its errors as RFC 7807 problem documents.
CannedAnswer problem(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  return CannedAnswer{k_path, status, std::move(body), "application/problem+json", std::move(headers)};
}

// With basic auth (the default) no credential travels in the URL: a request with any query
// parameter gets an answer no case expects.
std::optional<CannedAnswer> require_no_query(const httplib::Request& req) {
  if (req.params.empty()) return std::nullopt;
  return answer("", 400, R"({"detail":"the fake wants no query parameters"})");
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance vonage_table() {
  ProviderConformance t{"vonage", k_api_key, {{"api_secret", k_secret}}, "Authorization",
                        basic_header(std::string(k_api_key) + ":" + k_secret), {}, {}};
  t.check_request = require_no_query;
  t.cases = {
      {"documented body is EUR, read with basic auth so no secret is in the URL", Shape::success,
       {answer(k_path, 200, k_doc_body)}, ExpectedReading{"10.28", "EUR", true, std::nullopt, {{"autoReload", false}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero balance with auto-reload on", Shape::empty_balance, {answer(k_path, 200, R"({"value":0,"autoReload":true})")},
       ExpectedReading{"0", "EUR", true, std::nullopt, {{"autoReload", true}}}},
      {"a string value, and the account's currency overrides EUR", Shape::other, {answer(k_path, 200, R"({"value":"3.5"})")},
       ExpectedReading{"3.5", "USD"}, std::nullopt, "", "USD"},
      {"403 low balance is out of money", Shape::out_of_money, {problem(403, k_low_balance)}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 403, {"enough credit"}, std::nullopt, true}},
      {"401 invalid credentials", Shape::invalid_key, {problem(401, k_unauthorized)}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"did not provide correct credentials"})},
      {"any other 403 is a key that may not read the balance", Shape::invalid_key,
       {problem(403,
                R"({"type":"https://developer.nexmo.com/api-errors#forbidden","title":"Forbidden","detail":"Your account is not permitted to use this API"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 403)},
      {"429 throttled", Shape::rate_limit,
       {problem(429,
                R"({"type":"https://developer.nexmo.com/api-errors#throttled","title":"Throttled","detail":"Too many requests"})",
                {{"Retry-After", "1"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(1), false}},
      malformed(R"({"value":"ten"})", "value"),
      malformed(R"({"value":null})", "value"),
      malformed(R"({"autoReload":false})", "value"),
      malformed(R"({"value":10.2)", "truncated"),
      malformed("<html>maintenance</html>", "HTML"),
  };
  t.config_cases = {
      {"", {{"api_secret", k_secret}}, "api_key"},
      {k_api_key, {}, "api_secret"},
      {k_api_key, {{"api_secret", k_secret}, {"auth", "header"}}, "auth"},
  };
  return t;
}

}  // namespace

TEST_SUITE("provider_vonage") {
  TEST_CASE("provider conformance: vonage") { run_conformance(vonage_table()); }

  // Outside the table: query auth carries no Authorization header at all and puts the
  // credentials in the URL, which the kit's one-header-per-table check cannot state.
  TEST_CASE("auth: query sends the documented query parameters and keeps them out of errors") {
    FakeHttpServer server;
    std::mutex mutex;
    std::string key_param;
    std::string secret_param;
    std::string authorization;
    server.get(k_path, [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      key_param = req.get_param_value("api_key");
      secret_param = req.get_param_value("api_secret");
      authorization = req.get_header_value("Authorization");
      reply_json(res, 200, k_doc_body);
    });
    // The fake echoes the request target back, as some gateways do in their errors.
    server.get("/echo" + std::string(k_path), [](const httplib::Request& req, httplib::Response& res) {
      reply_json(res, 401, nlohmann::json{{"detail", "bad credentials for " + req.target}}.dump());
    });
    server.start();

    auto result = probe_once(account(server.url(), {{"auth", "query"}}));
    REQUIRE(result.ok());
    CHECK(result->balances[0].balance == dec("10.28"));
    {
      std::lock_guard lock(mutex);
      CHECK(key_param == k_api_key);
      CHECK(secret_param == k_secret);
      CHECK(authorization.empty());
    }

    auto echoed = expect_error(probe_once(account(server.url() + "/echo", {{"auth", "query"}})), ErrorKind::key_invalid);
    CHECK(echoed.message.find(k_secret) == std::string::npos);
    CHECK(echoed.message.find("***") != std::string::npos);

    // curl's own failure text never carries the secret either (here: a malformed host).
    auto broken = probe_once(account("http://exa mple.invalid:99999", {{"auth", "query"}}));
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.error().message.find(k_secret) == std::string::npos);
  }

  TEST_CASE("settings: auth query is accepted") { CHECK(build_errors(account("", {{"auth", "query"}})).empty()); }
}
