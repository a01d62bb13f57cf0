// fal.ai against a loopback fake speaking the documented shape
// (fal.ai/docs/platform-apis/v1/account/billing, `Authorization: Key`, expand=credits), through
// the conformance kit. The locked-account 403 body is from public reports ([UNCONFIRMED] on fal's
// own pages).
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "fal-key-id:SECRET-abc123xyz";
constexpr const char* k_path = "/v1/account/billing";

// The documented example.
constexpr const char* k_doc_body = R"({"username":"my-team","credits":{"current_balance":24.5,"currency":"USD"}})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance fal_table() {
  ProviderConformance t{"fal", k_key, {}, "Authorization", std::string("Key ") + k_key, {}, {}};
  t.cases = {
      {"documented body: credits.current_balance in credits.currency", Shape::success,
       {answer(k_path, 200, k_doc_body)}, ExpectedReading{"24.5", "USD", true, std::nullopt, {}, {"username"}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero balance", Shape::empty_balance,
       {answer(k_path, 200, R"({"username":"my-team","credits":{"current_balance":0,"currency":"USD"}})")},
       ExpectedReading{"0", "USD", false}},
      {"403 user locked for an exhausted balance is out of money", Shape::out_of_money,
       {answer(k_path, 403,
               R"({"detail":"User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."})")},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 403, {"Exhausted balance"}, std::nullopt, true}},
      {"401 invalid key", Shape::invalid_key, {answer(k_path, 401, R"({"detail":"Invalid API key"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Invalid API key"})},
      {"403 for a key without billing access says which key is needed", Shape::other,
       {answer(k_path, 403, R"({"detail":"This endpoint requires an Admin API key"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 403, {"ADMIN key", "Admin API key"})},
      {"429 rate limit", Shape::rate_limit, {answer(k_path, 429, R"({"detail":"Too many requests"})", {{"Retry-After", "9"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(9), false}},
      {"a negative balance (usage past zero) is not available", Shape::other,
       {answer(k_path, 200, R"({"username":"t","credits":{"current_balance":"-1.25","currency":"USD"}})")},
       ExpectedReading{"-1.25", "USD", false}},
      {"500 is a server error", Shape::other, {answer(k_path, 500, R"({"detail":"Internal error"})")}, std::nullopt,
       error_of(ErrorKind::server_error, 500)},
      // Without expand=credits fal answers only the username: that is a malformed answer here.
      malformed(R"({"username":"my-team"})", "credits"),
      malformed(R"({"username":"my-team","credits":{"currency":"USD"}})", "credits.current_balance"),
      malformed(R"({"credits":{"current_balance":"n/a"}})", "credits.current_balance"),
      malformed("<html></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"scope", "billing"}}, "unknown key \"scope\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_fal") {
  TEST_CASE("provider conformance: fal") { run_conformance(fal_table()); }

  TEST_CASE("fal asks for the credits block") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    auto result = probe_once(provider_account("fal", server.url(), k_key));
    REQUIRE(result.ok());
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].target == "/v1/account/billing?expand=credits");
  }

  TEST_CASE("providers lists fal") {
    const auto line = providers_line("fal");
    INFO("line: " << line);
    CHECK(line.find("/v1/account/billing") != std::string::npos);
  }
}
