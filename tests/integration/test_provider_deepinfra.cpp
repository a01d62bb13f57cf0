// DeepInfra against a loopback fake speaking the shape an open-source client reads
// (shared/reference/providers.md sections 0 and 7.4; no official docs were found).
#include "integration/provider_probe.hpp"

#include <mutex>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "di-SECRET-abc123xyz";
constexpr const char* k_path = "/payment/checklist";

constexpr const char* k_body =
    R"({"stripe_balance": -12.5, "recent": 3.2, "limit": 50.0, "suspended": false, "suspend_reason": null})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix) {
  return provider_account("deepinfra", server.url() + prefix, k_key);
}

}  // namespace

TEST_SUITE("provider_deepinfra") {
  TEST_CASE("stripe_balance is inverted: -12.5 is $12.50 of prepaid credit") {
    FakeHttpServer server;
    std::mutex mutex;
    std::string compute_owed;
    server.get(k_path, [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      compute_owed = req.get_param_value("compute_owed");
      reply_json(res, 200, k_body);
    });
    serve(server, "/zero" + std::string(k_path), 200, R"({"stripe_balance":0,"suspended":false})");
    serve(server, "/owed" + std::string(k_path), 200, R"({"stripe_balance":"4.75"})");
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    CHECK(b.currency == "USD");
    CHECK(b.balance == dec("12.50"));
    CHECK_FALSE(b.spend_total.has_value());
    CHECK(b.details["stripe_balance"] == "-12.50");
    CHECK(b.details["recent"] == "3.20");
    CHECK(b.details["limit"] == "50.00");
    CHECK(b.details["suspended"] == false);

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
    {
      std::lock_guard lock(mutex);
      CHECK(compute_owed == "true");
    }

    auto zero = probe_once(account(server, "/zero"));
    REQUIRE(zero.ok());
    CHECK(zero->balances[0].balance == Decimal());
    auto owed = probe_once(account(server, "/owed"));
    REQUIRE(owed.ok());
    CHECK(owed->balances[0].balance == dec("-4.75"));
  }

  TEST_CASE("a suspended account cannot serve - 402 exhausted, 401/403 key_invalid, 429 rate_limited") {
    FakeHttpServer server;
    serve(server, "/suspended" + std::string(k_path), 200,
          R"({"stripe_balance": 3.1, "recent": 0, "limit": null, "suspended": true, "suspend_reason": "unpaid balance"})");
    serve(server, "/dry" + std::string(k_path), 402, R"({"detail":"Payment required"})");
    serve(server, "/bad" + std::string(k_path), 401, R"({"detail":"Could not validate credentials"})");
    serve(server, "/scoped" + std::string(k_path), 403, R"({"detail":"Not allowed"})");
    serve(server, "/busy" + std::string(k_path), 429, R"({"detail":"Rate limited"})", "application/json",
          {{"Retry-After", "9"}});
    server.start();

    auto suspended = probe_once(account(server, "/suspended"));
    REQUIRE(suspended.ok());
    CHECK_FALSE(suspended->available);
    CHECK(suspended->balances[0].balance == dec("-3.10"));
    CHECK(suspended->balances[0].details["suspend_reason"] == "unpaid balance");

    expect_error(probe_once(account(server, "/dry")), ErrorKind::exhausted);
    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.message.find("Could not validate credentials") != std::string::npos);
    auto scoped = expect_error(probe_once(account(server, "/scoped")), ErrorKind::key_invalid);
    CHECK(scoped.message.find("cannot read billing") != std::string::npos);
    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(9));
  }

  TEST_CASE("malformed bodies are bad_response naming the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"stripe_balance":"n/a"})", "stripe_balance"},
        {R"({"stripe_balance":null})", "stripe_balance"},
        {R"({"recent":3.2})", "stripe_balance"},
        {R"({"stripe_balance":-1,"suspended":"no"})", "suspended"},
        {R"({"stripe_balance":-1)", "truncated"},
        {"<html>login</html>", "HTML"},
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
    CHECK(any_error_mentions(build_errors(provider_account("deepinfra", "", "")), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("deepinfra", "", k_key, {{"usage", "true"}})),
                             "unknown key \"usage\""));
  }
}
