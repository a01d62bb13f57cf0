// Stability AI against a loopback fake speaking the documented shape (v1 REST API
// "v1/user/balance": {"credits": number}, 401 and 500 documented), through the conformance kit.
// The unit is credits.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-stab-SECRET-abc123xyz";
constexpr const char* k_path = "/v1/user/balance";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance stability_table() {
  ProviderConformance t{"stability", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: credits", Shape::success, {answer(k_path, 200, R"({"credits":0.6336833840314097})")},
       ExpectedReading{"0.633683", "credits"}, std::nullopt, "", std::nullopt, {}, {k_path}},
      {"no credits left", Shape::empty_balance, {answer(k_path, 200, R"({"credits":0})")},
       ExpectedReading{"0", "credits", false}},
      {"402 payment_required is out of money", Shape::out_of_money,
       {answer(k_path, 402,
               R"({"id":"a1b2c3","name":"payment_required","message":"You lack sufficient credits to make this request."})")},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 402, {"sufficient credits"}, std::nullopt, true}},
      {"401 unauthorized", Shape::invalid_key,
       {answer(k_path, 401, R"({"id":"d4e5f6","name":"unauthorized","message":"Incorrect API key provided"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"Incorrect API key"})},
      {"429 rate limit", Shape::rate_limit,
       {answer(k_path, 429, R"({"id":"x","name":"rate_limit_exceeded","message":"You have exceeded the rate limit"})",
               {{"Retry-After", "60"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(60), false}},
      {"500 is a server error", Shape::other,
       {answer(k_path, 500, R"({"id":"y","name":"internal_error","message":"An unexpected server error occurred"})")},
       std::nullopt, error_of(ErrorKind::server_error, 500)},
      {"the account's currency renames the unit", Shape::other, {answer(k_path, 200, R"({"credits":25})")},
       ExpectedReading{"25", "stability credits"}, std::nullopt, "", "stability credits"},
      malformed(R"({"balance":10})", "credits"),
      malformed(R"({"credits":"some"})", "credits"),
      malformed(R"({"credits":1)", "truncated"),
      malformed("<html></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"organization", "org-1"}}, "unknown key \"organization\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_stability") {
  TEST_CASE("provider conformance: stability") { run_conformance(stability_table()); }

  TEST_CASE("providers lists stability with its unit") {
    const auto line = providers_line("stability");
    INFO("line: " << line);
    CHECK(line.find("/v1/user/balance") != std::string::npos);
    CHECK(line.find("credits") != std::string::npos);
  }
}
