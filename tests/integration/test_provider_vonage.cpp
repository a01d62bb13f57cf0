// Vonage (Nexmo) against a loopback fake speaking the documented shapes
// (shared/reference/providers.md section 9.2).
#include "integration/provider_probe.hpp"

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

}  // namespace

TEST_SUITE("provider_vonage") {
  TEST_CASE("the documented body is EUR, read with basic auth so no secret is in the URL") {
    FakeHttpServer server;
    std::mutex mutex;
    std::size_t query_params = 99;
    server.get(k_path, [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      query_params = req.params.size();
      reply_json(res, 200, k_doc_body);
    });
    serve(server, "/zero" + std::string(k_path), 200, R"({"value":0,"autoReload":true})");
    serve(server, "/string" + std::string(k_path), 200, R"({"value":"3.5"})");
    server.start();

    auto result = probe_once(account(server.url()));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    CHECK(b.currency == "EUR");
    CHECK(b.balance == dec("10.28"));
    CHECK_FALSE(b.spend_total.has_value());
    CHECK(b.details["autoReload"] == false);

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == basic_header(std::string(k_api_key) + ":" + k_secret));
    {
      std::lock_guard lock(mutex);
      CHECK(query_params == 0);
    }

    auto zero = probe_once(account(server.url() + "/zero"));
    REQUIRE(zero.ok());
    CHECK(zero->balances[0].balance == Decimal());
    CHECK(zero->balances[0].details["autoReload"] == true);

    auto usd_account = account(server.url() + "/string");
    usd_account.currency = "USD";
    auto usd = probe_once(usd_account);
    REQUIRE(usd.ok());
    CHECK(usd->balances[0].currency == "USD");
    CHECK(usd->balances[0].balance == dec("3.5"));
  }

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

  TEST_CASE("401 is key_invalid, 403 low-balance exhausted, other 403 key_invalid, 429 rate_limited") {
    FakeHttpServer server;
    serve(server, "/bad" + std::string(k_path), 401, k_unauthorized, "application/problem+json");
    serve(server, "/dry" + std::string(k_path), 403, k_low_balance, "application/problem+json");
    serve(server, "/denied" + std::string(k_path), 403,
          R"({"type":"https://developer.nexmo.com/api-errors#forbidden","title":"Forbidden","detail":"Your account is not permitted to use this API"})",
          "application/problem+json");
    serve(server, "/busy" + std::string(k_path), 429,
          R"({"type":"https://developer.nexmo.com/api-errors#throttled","title":"Throttled","detail":"Too many requests"})",
          "application/problem+json", {{"Retry-After", "1"}});
    server.start();

    auto bad = expect_error(probe_once(account(server.url() + "/bad")), ErrorKind::key_invalid);
    CHECK(bad.message.find("did not provide correct credentials") != std::string::npos);
    auto dry = expect_error(probe_once(account(server.url() + "/dry")), ErrorKind::exhausted);
    CHECK(dry.message.find("enough credit") != std::string::npos);
    expect_error(probe_once(account(server.url() + "/denied")), ErrorKind::key_invalid);
    auto busy = expect_error(probe_once(account(server.url() + "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(1));
  }

  TEST_CASE("malformed bodies are bad_response naming the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"value":"ten"})", "value"},
        {R"({"value":null})", "value"},
        {R"({"autoReload":false})", "value"},
        {R"({"value":10.2)", "truncated"},
        {"<html>maintenance</html>", "HTML"},
    };
    FakeHttpServer server;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      serve(server, "/c" + std::to_string(i) + k_path, 200, cases[i].first);
    }
    server.start();
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].first);
      auto e = expect_error(probe_once(account(server.url() + "/c" + std::to_string(i))), ErrorKind::bad_response);
      CHECK_MESSAGE(e.message.find(cases[i].second) != std::string::npos, e.message);
    }
  }

  TEST_CASE("settings: api_key and api_secret are required, auth is basic or query") {
    CHECK(any_error_mentions(build_errors(provider_account("vonage", "", "", {{"api_secret", k_secret}})), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("vonage", "", k_api_key)), "api_secret"));
    CHECK(any_error_mentions(build_errors(account("", {{"auth", "header"}})), "auth"));
    CHECK(build_errors(account("", {{"auth", "query"}})).empty());
  }
}
