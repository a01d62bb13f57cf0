// DeepInfra against a loopback fake speaking the shape an open-source client reads
// (shared/reference/providers.md sections 0 and 7.4; no official docs were found), through
// the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "di-SECRET-abc123xyz";
constexpr const char* k_path = "/payment/checklist";

constexpr const char* k_body =
    R"({"stripe_balance": -12.5, "recent": 3.2, "limit": 50.0, "suspended": false, "suspend_reason": null})";

// The balance is read with compute_owed=true; a request without it gets an answer no case
// expects, so every case fails if the parameter goes missing.
std::optional<CannedAnswer> require_compute_owed(const httplib::Request& req) {
  if (req.get_param_value("compute_owed") == "true") return std::nullopt;
  return answer("", 400, R"({"detail":"the fake wants compute_owed=true"})");
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance deepinfra_table() {
  ProviderConformance t{"deepinfra", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.check_request = require_compute_owed;
  t.cases = {
      {"stripe_balance is inverted: -12.5 is $12.50 of prepaid credit", Shape::success, {answer(k_path, 200, k_body)},
       ExpectedReading{"12.50", "USD", true, std::nullopt,
                       {{"stripe_balance", "-12.50"}, {"recent", "3.20"}, {"limit", "50.00"}, {"suspended", false}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero balance", Shape::empty_balance, {answer(k_path, 200, R"({"stripe_balance":0,"suspended":false})")},
       ExpectedReading{"0", "USD", true}},
      {"a positive stripe_balance is owed", Shape::other, {answer(k_path, 200, R"({"stripe_balance":"4.75"})")},
       ExpectedReading{"-4.75", "USD", true}},
      {"a suspended account cannot serve", Shape::other,
       {answer(k_path, 200,
               R"({"stripe_balance": 3.1, "recent": 0, "limit": null, "suspended": true, "suspend_reason": "unpaid balance"})")},
       ExpectedReading{"-3.10", "USD", false, std::nullopt, {{"suspend_reason", "unpaid balance"}}}},
      {"402 payment required is out of money", Shape::out_of_money,
       {answer(k_path, 402, R"({"detail":"Payment required"})")}, std::nullopt, error_of(ErrorKind::exhausted, 402)},
      {"401 could not validate credentials", Shape::invalid_key,
       {answer(k_path, 401, R"({"detail":"Could not validate credentials"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Could not validate credentials"})},
      {"403 is a key that cannot read billing", Shape::invalid_key, {answer(k_path, 403, R"({"detail":"Not allowed"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 403, {"cannot read billing"})},
      {"429 rate limited", Shape::rate_limit, {answer(k_path, 429, R"({"detail":"Rate limited"})", {{"Retry-After", "9"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(9), false}},
      malformed(R"({"stripe_balance":"n/a"})", "stripe_balance"),
      malformed(R"({"stripe_balance":null})", "stripe_balance"),
      malformed(R"({"recent":3.2})", "stripe_balance"),
      malformed(R"({"stripe_balance":-1,"suspended":"no"})", "suspended"),
      malformed(R"({"stripe_balance":-1)", "truncated"),
      malformed("<html>login</html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"usage", "true"}}, "unknown key \"usage\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_deepinfra") {
  TEST_CASE("provider conformance: deepinfra") { run_conformance(deepinfra_table()); }
}
