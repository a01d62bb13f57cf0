// Twilio against a loopback fake speaking the documented shapes
// (shared/reference/providers.md section 9.1).
#include "integration/provider_probe.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_token = "tw-SECRET-abc123xyz";
constexpr const char* k_sid = "AC0123456789abcdef0123456789abcdef";
const std::string k_path = std::string("/2010-04-01/Accounts/") + k_sid + "/Balance.json";

constexpr const char* k_doc_body = R"({"account_sid":"AC0123456789abcdef0123456789abcdef","balance":"12.34","currency":"USD"})";
constexpr const char* k_authenticate =
    R"({"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix,
                              std::map<std::string, std::string> settings = {{"account_sid", k_sid}}) {
  return provider_account("twilio", server.url() + prefix, k_token, settings);
}

}  // namespace

TEST_SUITE("provider_twilio") {
  TEST_CASE("the documented body: balance string, currency from the body, basic auth with the account SID") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    serve(server, "/eur" + k_path, 200, R"({"account_sid":"AC1","balance":"-0.50","currency":"eur"})");
    serve(server, "/zero" + k_path, 200, R"({"balance":"0.00","currency":"GBP"})");
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    CHECK(b.currency == "USD");
    CHECK(b.balance == dec("12.34"));
    CHECK_FALSE(b.spend_total.has_value());
    CHECK(b.details["account_sid"] == k_sid);

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == basic_header(std::string(k_sid) + ":" + k_token));

    auto eur = probe_once(account(server, "/eur"));
    REQUIRE(eur.ok());
    CHECK(eur->balances[0].currency == "EUR");
    CHECK(eur->balances[0].balance == dec("-0.5"));
    auto zero = probe_once(account(server, "/zero"));
    REQUIRE(zero.ok());
    CHECK(zero->balances[0].balance == Decimal());
    CHECK(zero->balances[0].currency == "GBP");
  }

  TEST_CASE("an API key SID authenticates in place of the account SID") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    auto result = probe_once(account(server, "", {{"account_sid", k_sid}, {"key_sid", "SKabc123"}}));
    REQUIRE(result.ok());
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == basic_header(std::string("SKabc123:") + k_token));
  }

  TEST_CASE("401 is key_invalid, 429 rate_limited with Retry-After, 402 exhausted, 404 hints at the SID") {
    FakeHttpServer server;
    serve(server, "/bad" + k_path, 401, k_authenticate);
    serve(server, "/busy" + k_path, 429,
          R"({"code":20429,"message":"Too many requests. Please retry according to the Retry-After response header","status":429})",
          "application/json", {{"Retry-After", "2"}});
    serve(server, "/dry" + k_path, 402, R"({"code":20005,"message":"Account not active","status":402})");
    serve(server, "/sub" + k_path, 404, R"({"code":20404,"message":"The requested resource was not found","status":404})");
    server.start();

    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.message.find("Authenticate") != std::string::npos);
    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(2));
    expect_error(probe_once(account(server, "/dry")), ErrorKind::exhausted);
    auto sub = expect_error(probe_once(account(server, "/sub")), ErrorKind::http_status);
    CHECK(sub.message.find("account_sid") != std::string::npos);
  }

  TEST_CASE("malformed bodies are bad_response naming the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"balance":12.34})", "currency"},
        {R"({"balance":"12.34","currency":5})", "currency"},
        {R"({"balance":"twelve","currency":"USD"})", "balance"},
        {R"({"currency":"USD"})", "balance"},
        {R"({"balance":"12.34","curr)", "truncated"},
        {"<Response><Balance>12.34</Balance></Response>", "JSON"},
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

  TEST_CASE("settings: the token and a well-formed account_sid are required") {
    CHECK(any_error_mentions(build_errors(provider_account("twilio", "", "", {{"account_sid", k_sid}})), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("twilio", "", k_token)), "account_sid"));
    CHECK(any_error_mentions(build_errors(provider_account("twilio", "", k_token, {{"account_sid", "AC1/../x"}})),
                             "account_sid"));
    CHECK(any_error_mentions(build_errors(provider_account("twilio", "", k_token, {{"account_sid", k_sid},
                                                                                   {"key_sid", "SK 1"}})),
                             "key_sid"));
    CHECK(build_errors(provider_account("twilio", "", k_token, {{"account_sid", k_sid}})).empty());
  }
}
