// Hyperbolic against a loopback fake speaking the shape public clients read
// (coinbase/agentkit's Hyperbolic action provider and the elizaOS plugin: {"credits": cents}),
// through the conformance kit. [UNCONFIRMED] Hyperbolic documents neither this route nor its
// error bodies: the error cases use the FastAPI-style {"detail":...} its other routes send.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "eyJhbGciOiJIUzI1NiJ9.SECRETpayload.signature0123";
constexpr const char* k_path = "/billing/get_current_balance";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance hyperbolic_table() {
  ProviderConformance t{"hyperbolic", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"agentkit's example: 10000 credits are 100 USD", Shape::success, {answer(k_path, 200, R"({"credits":10000})")},
       ExpectedReading{"100", "USD", true, std::nullopt, {{"credits_cents", "10000.00"}}}, std::nullopt, "", std::nullopt,
       {}, {k_path}},
      {"odd cents stay exact", Shape::other, {answer(k_path, 200, R"({"credits":1234567})")}, ExpectedReading{"12345.67", "USD"}},
      {"credits as a string", Shape::other, {answer(k_path, 200, R"({"credits":"250"})")}, ExpectedReading{"2.5", "USD"}},
      {"no credits left", Shape::empty_balance, {answer(k_path, 200, R"({"credits":0})")}, ExpectedReading{"0", "USD", false}},
      {"402 out of credits", Shape::out_of_money,
       {answer(k_path, 402, R"({"detail":"Insufficient credits. Please top up your balance."})", {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 402, {"Insufficient credits"}, std::nullopt, true}},
      {"401 invalid key", Shape::invalid_key, {answer(k_path, 401, R"({"detail":"Invalid API key"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Invalid API key"})},
      {"429 rate limited", Shape::rate_limit,
       {answer(k_path, 429, R"({"detail":"Rate limit exceeded"})", {{"Retry-After", "12"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {"Rate limit exceeded"}, std::chrono::seconds(12), false}},
      {"502 server error", Shape::other, {answer(k_path, 502, R"({"detail":"Bad gateway"})")}, std::nullopt,
       error_of(ErrorKind::server_error, 502)},
      malformed(R"({"balance":100})", "credits"),
      malformed(R"({"credits":null})", "credits"),
      malformed(R"({"credits":100)", "truncated"),
      malformed("<html><body>Hyperbolic</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"gpu", "h100"}}, "unknown key \"gpu\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_hyperbolic") {
  TEST_CASE("provider conformance: hyperbolic") { run_conformance(hyperbolic_table()); }

  TEST_CASE("providers lists hyperbolic as unconfirmed") {
    const auto line = providers_line("hyperbolic");
    INFO("line: " << line);
    CHECK(line.find("/billing/get_current_balance") != std::string::npos);
    CHECK(line.find("unconfirmed") != std::string::npos);
  }
}
