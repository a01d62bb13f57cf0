// Vercel AI Gateway against a loopback fake speaking the documented shape
// (vercel.com/docs/ai-gateway/usage, GET /v1/credits), through the conformance kit. Error
// bodies other than 401 authentication_error are [UNCONFIRMED] on Vercel's pages.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "vck_SECRET-abc123xyz";
constexpr const char* k_path = "/v1/credits";

// The documented example.
constexpr const char* k_doc_body = R"({"balance":"95.50","total_used":"4.50"})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance vercel_table() {
  ProviderConformance t{"vercel_gateway", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: balance in USD, total_used as the spend counter", Shape::success,
       {answer(k_path, 200, k_doc_body)}, ExpectedReading{"95.50", "USD", true, "4.50"}, std::nullopt, "",
       std::nullopt, {}, {k_path}},
      {"no credits left", Shape::empty_balance, {answer(k_path, 200, R"({"balance":"0.00","total_used":"100.00"})")},
       ExpectedReading{"0", "USD", false, "100"}},
      {"402 is out of money", Shape::out_of_money,
       {answer(k_path, 402, R"({"error":{"message":"Insufficient funds","type":"insufficient_funds"}})")},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 402, {"Insufficient funds"}, std::nullopt, true}},
      {"401 authentication_error is an invalid key", Shape::invalid_key,
       {answer(k_path, 401, R"({"error":{"message":"Invalid API key","type":"authentication_error"}})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"Invalid API key"})},
      {"429 rate limit", Shape::rate_limit,
       {answer(k_path, 429, R"({"error":{"message":"Rate limit exceeded","type":"rate_limit_exceeded"}})",
               {{"Retry-After", "4"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(4), false}},
      {"numbers as JSON numbers", Shape::other, {answer(k_path, 200, R"({"balance":12,"total_used":3.5})")},
       ExpectedReading{"12", "USD", true, "3.5"}},
      {"503 is a server error", Shape::other, {answer(k_path, 503, R"({"error":{"message":"unavailable"}})")},
       std::nullopt, error_of(ErrorKind::server_error, 503)},
      malformed(R"({"total_used":"4.50"})", "balance"),
      malformed(R"({"balance":"95.50"})", "total_used"),
      malformed(R"({"balance":"ninety","total_used":"0"})", "balance"),
      malformed("<html>404</html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"team", "x"}}, "unknown key \"team\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_vercel_gateway") {
  TEST_CASE("provider conformance: vercel_gateway") { run_conformance(vercel_table()); }

  TEST_CASE("providers lists vercel_gateway") {
    const auto line = providers_line("vercel_gateway");
    INFO("line: " << line);
    CHECK(line.find("/v1/credits") != std::string::npos);
  }
}
