// xAI Management API against a loopback fake speaking the shapes in
// shared/reference/providers.md sections 0, 7.2 and 10 (balance body as consumed by an
// open-source client; the path is documented).
#include "integration/provider_probe.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "xai-mgmt-SECRET-abc123xyz";
constexpr const char* k_team = "3f2a9c1e-0000-4000-8000-team12345678";
const std::string k_path = std::string("/v1/billing/teams/") + k_team + "/prepaid/balance";

constexpr const char* k_no_credits =
    R"({"code":"The caller does not have permission to execute the specified operation","error":"Your newly created team doesn't have any credits yet. You can purchase credits on https://console.x.ai/team/3f2a9c1e."})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix) {
  return provider_account("xai", server.url() + prefix, k_key, {{"team_id", k_team}});
}

}  // namespace

TEST_SUITE("provider_xai") {
  TEST_CASE("total.val is USD cents with the sign inverted: -1000 is $10.00 of credit") {
    FakeHttpServer server;
    serve(server, k_path, 200, R"({"total":{"val":"-1000"}})");
    serve(server, "/number" + k_path, 200, R"({"total":{"val":-12345}})");
    serve(server, "/zero" + k_path, 200, R"({"total":{"val":"0"}})");
    serve(server, "/owed" + k_path, 200, R"({"total":{"val":"250"}})");
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    CHECK(b.currency == "USD");
    CHECK(b.balance == dec("10.00"));
    CHECK_FALSE(b.spend_total.has_value());
    CHECK(b.details["total_val_cents"] == "-1000.00");

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);

    auto number = probe_once(account(server, "/number"));
    REQUIRE(number.ok());
    CHECK(number->balances[0].balance == dec("123.45"));
    auto zero = probe_once(account(server, "/zero"));
    REQUIRE(zero.ok());
    CHECK(zero->balances[0].balance == Decimal());
    auto owed = probe_once(account(server, "/owed"));
    REQUIRE(owed.ok());
    CHECK(owed->balances[0].balance == dec("-2.50"));
  }

  TEST_CASE("403 'no credits' is exhausted - 401/403 otherwise key_invalid - 404 names the team - 429 waits") {
    FakeHttpServer server;
    serve(server, "/dry" + k_path, 403, k_no_credits);
    serve(server, "/inference" + k_path, 403,
          R"({"code":"The caller does not have permission to execute the specified operation","error":"Management key required"})");
    serve(server, "/bad" + k_path, 401, R"({"code":"Unauthenticated","error":"Incorrect API key provided"})");
    serve(server, "/team" + k_path, 404, R"({"code":"Not found","error":"Team not found"})");
    serve(server, "/busy" + k_path, 429, R"({"code":"Too many requests","error":"Rate limit exceeded"})",
          "application/json", {{"Retry-After", "3"}});
    server.start();

    auto dry = expect_error(probe_once(account(server, "/dry")), ErrorKind::exhausted);
    CHECK(dry.http_status == 403);
    CHECK(dry.message.find("doesn't have any credits") != std::string::npos);
    CHECK_FALSE(dry.retry_after.has_value());

    auto inference = expect_error(probe_once(account(server, "/inference")), ErrorKind::key_invalid);
    CHECK(inference.message.find("management key") != std::string::npos);
    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.http_status == 401);

    auto team = expect_error(probe_once(account(server, "/team")), ErrorKind::http_status);
    CHECK(team.http_status == 404);
    CHECK(team.message.find("team_id") != std::string::npos);

    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(3));
  }

  TEST_CASE("malformed bodies are bad_response naming the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"total":{"val":"ten dollars"}})", "total.val"},
        {R"({"total":{}})", "total.val"},
        {R"({"total":"-1000"})", "total"},
        {R"({"balance":"-1000"})", "total"},
        {R"({"total":{"val":)", "truncated"},
        {"<html>gateway</html>", "HTML"},
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

  TEST_CASE("settings: a management key and a well-formed team_id are required") {
    CHECK(any_error_mentions(build_errors(provider_account("xai", "", "", {{"team_id", k_team}})), "api_key"));
    CHECK(any_error_mentions(build_errors(provider_account("xai", "", k_key)), "team_id"));
    CHECK(any_error_mentions(build_errors(provider_account("xai", "", k_key, {{"team_id", "abc/../x"}})), "team_id"));
    CHECK(any_error_mentions(build_errors(provider_account("xai", "", k_key, {{"team", k_team}})),
                             "unknown key \"team\""));
  }
}
