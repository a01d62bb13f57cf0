// SiliconFlow against a loopback fake speaking the documented shapes
// (shared/reference/providers.md sections 0, 4, 10 and 11).
#include "integration/provider_probe.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-sf-SECRET-abc123xyz";
constexpr const char* k_path = "/v1/user/info";

// The documented body (section 4).
constexpr const char* k_doc_body = R"({"code":20000,"message":"OK","status":true,"data":{"id":"userid","name":"username",
  "image":"user_avatar_image_url","email":"user_email_address","isAdmin":false,"balance":"0.88","status":"normal",
  "introduction":"","role":"","chargeBalance":"88.00","totalBalance":"88.88"}})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix) {
  return provider_account("siliconflow", server.url() + prefix, k_key);
}

std::string with_total(const std::string& total) {
  return R"({"code":20000,"message":"OK","status":true,"data":{"balance":"0.00","chargeBalance":)" + total +
         R"(,"totalBalance":)" + total + R"(,"status":"normal"}})";
}

}  // namespace

TEST_SUITE("provider_siliconflow") {
  TEST_CASE("the documented body gives data.totalBalance with the granted and paid parts in details") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    // Neither .cn nor .com: the default host's currency.
    CHECK(b.currency == "CNY");
    CHECK(b.balance == dec("88.88"));
    CHECK_FALSE(b.spend_total.has_value());
    CHECK(b.details["balance"] == "0.88");
    CHECK(b.details["chargeBalance"] == "88.00");
    CHECK(b.details["status"] == "normal");
    // Personal data in the body is not copied.
    CHECK_FALSE(b.details.contains("email"));

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }

  TEST_CASE("zero, numbers instead of strings, and the account's currency") {
    FakeHttpServer server;
    serve(server, "/zero" + std::string(k_path), 200, with_total(R"("0.00")"));
    serve(server, "/number" + std::string(k_path), 200, with_total("12.5"));
    server.start();

    auto zero = probe_once(account(server, "/zero"));
    REQUIRE(zero.ok());
    CHECK(zero->balances[0].balance == Decimal());

    auto usd_account = account(server, "/number");
    usd_account.currency = "USD";
    auto number = probe_once(usd_account);
    REQUIRE(number.ok());
    CHECK(number->balances[0].balance == dec("12.5"));
    CHECK(number->balances[0].currency == "USD");
  }

  TEST_CASE("403 is out of balance, 401's bare string is key_invalid, 429 is rate_limited") {
    FakeHttpServer server;
    serve(server, "/dry" + std::string(k_path), 403,
          R"({"code":30011,"message":"Sorry, your account balance is insufficient","data":null})");
    serve(server, "/blank403" + std::string(k_path), 403, "");
    serve(server, "/denied" + std::string(k_path), 403,
          R"({"code":30003,"message":"Insufficient permissions: real-name verification required","data":null})");
    serve(server, "/bad" + std::string(k_path), 401, R"("Api key is invalid")");
    serve(server, "/busy" + std::string(k_path), 429,
          R"({"code":50603,"message":"Request was rejected due to rate limiting.","data":null})", "application/json",
          {{"Retry-After", "12"}});
    serve(server, "/down" + std::string(k_path), 504, "upstream timeout", "text/plain");
    server.start();

    auto dry = expect_error(probe_once(account(server, "/dry")), ErrorKind::exhausted);
    CHECK(dry.http_status == 403);
    CHECK(dry.message.find("balance is insufficient") != std::string::npos);
    CHECK_FALSE(dry.retry_after.has_value());
    expect_error(probe_once(account(server, "/blank403")), ErrorKind::exhausted);
    expect_error(probe_once(account(server, "/denied")), ErrorKind::key_invalid);

    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.http_status == 401);
    CHECK(bad.message.find("Api key is invalid") != std::string::npos);

    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(12));

    expect_error(probe_once(account(server, "/down")), ErrorKind::server_error);
  }

  TEST_CASE("HTTP 200 with a code other than 20000 is an error carrying the provider's message") {
    FakeHttpServer server;
    serve(server, "/code" + std::string(k_path), 200,
          R"({"code":20012,"message":"Model does not exist. Please check it carefully.","data":null})");
    serve(server, "/status" + std::string(k_path), 200,
          R"({"code":20000,"message":"OK","status":false,"data":{"totalBalance":"1.00"}})");
    server.start();

    auto code = expect_error(probe_once(account(server, "/code")), ErrorKind::http_status);
    CHECK(code.message.find("20012") != std::string::npos);
    CHECK(code.message.find("Model does not exist") != std::string::npos);
    expect_error(probe_once(account(server, "/status")), ErrorKind::http_status);
  }

  TEST_CASE("malformed bodies are bad_response naming the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"code":20000,"status":true,"data":{"totalBalance":true}})", "data.totalBalance"},
        {R"({"code":20000,"status":true,"data":{"totalBalance":"88,88"}})", "data.totalBalance"},
        {R"({"code":20000,"status":true,"data":{"balance":"1.00"}})", "data.totalBalance"},
        {R"({"code":20000,"status":true,"data":"none"})", "data"},
        {R"({"message":"OK","data":{"totalBalance":"1.00"}})", "code"},
        {R"({"code":"404"})", "code"},
        {R"({"code":20000,"data":{"totalBal)", "truncated"},
        {"<!doctype html><html><div id=\"root\"></div></html>", "HTML"},
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

  TEST_CASE("settings: api_key is required and unknown keys are rejected") {
    CHECK(any_error_mentions(build_errors(provider_account("siliconflow", "", "")), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("siliconflow", "", k_key, {{"curency", "USD"}})),
                             "did you mean \"currency\""));
  }

  TEST_CASE("end to end: the .com host is USD - the balance is exact to the cent and the key stays hidden") {
    // The fake stands in for api.siliconflow.com as an HTTP proxy.
    FakeHttpServer server;
    server.get(".*/v1/user/info", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, k_doc_body);
    });
    server.start();
    TempDir dir;
    auto config = one_account_config(
        dir, {"provider: siliconflow", "api_key: ${SILICONFLOW_KEY}", "base_url: http://api.siliconflow.com"});
    auto a = check_one(config, {{"SILICONFLOW_KEY", k_key}, {"http_proxy", server.url()}, {"no_proxy", ""}},
                       {k_key, "SECRET-abc123"});
    CHECK(a["provider"] == "siliconflow");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "USD");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 8888);
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].header("Host") == "api.siliconflow.com");
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }
}
