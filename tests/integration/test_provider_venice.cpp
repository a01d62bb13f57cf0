// Venice AI against a loopback fake speaking the documented shape
// (shared/reference/providers.md section 7.3), through the conformance kit.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "venice-admin-SECRET-abc123xyz";
constexpr const char* k_path = "/api/v1/billing/balance";

constexpr const char* k_doc_body =
    R"({"canConsume":true,"consumptionCurrency":"DIEM","balances":{"diem":90.5,"usd":25},"diemEpochAllocation":100})";

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance venice_table() {
  ProviderConformance t{"venice", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: one balance per currency, the consuming one first", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"90.5", "DIEM", true, std::nullopt,
                       {{"consumptionCurrency", "DIEM"}, {"diemEpochAllocation", "100.00"}}, {}, std::nullopt, {},
                       {ExpectedReading{"25", "USD", true, std::nullopt, {}, {"diemEpochAllocation"}}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"a null currency is left out, a numeric string read", Shape::other,
       {answer(k_path, 200,
               R"({"canConsume":true,"consumptionCurrency":"USD","balances":{"diem":null,"usd":"12.34"},"diemEpochAllocation":null})")},
       ExpectedReading{"12.34", "USD", true}},
      {"zero in both currencies and canConsume false", Shape::empty_balance,
       {answer(k_path, 200,
               R"({"canConsume":false,"consumptionCurrency":null,"balances":{"diem":0,"usd":0},"diemEpochAllocation":0})")},
       ExpectedReading{"0", "USD", false, std::nullopt, {}, {}, std::nullopt, {}, {ExpectedReading{"0", "DIEM"}}}},
      {"no balance at all and canConsume false", Shape::other,
       {answer(k_path, 200, R"({"canConsume":false,"consumptionCurrency":null,"balances":{"diem":null,"usd":null}})")},
       ExpectedReading{std::nullopt, "", false}},
      {"402 insufficient balance is out of money", Shape::out_of_money,
       {answer(k_path, 402, R"({"error":"Insufficient USD or Diem balance to complete request"})")}, std::nullopt,
       error_of(ErrorKind::exhausted, 402)},
      {"401 with an admin-key hint", Shape::invalid_key, {answer(k_path, 401, R"({"error":"Authentication failed"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"admin key", "Authentication failed"})},
      {"429 too many requests", Shape::rate_limit,
       {answer(k_path, 429, R"({"error":"Too many requests"})", {{"Retry-After", "20"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(20), false}},
      malformed(R"({"canConsume":true,"balances":{"usd":"lots"}})", "balances.usd"),
      malformed(R"({"canConsume":true,"balances":{"diem":[1]}})", "balances.diem"),
      malformed(R"({"canConsume":true,"balances":[25]})", "balances"),
      malformed(R"({"canConsume":true})", "balances"),
      malformed(R"({"canConsume":"yes","balances":{"usd":1}})", "canConsume"),
      malformed(R"({"canConsume":true,"consumptionCurrency":7,"balances":{"usd":1}})", "consumptionCurrency"),
      malformed(R"({"canConsume":true,"balances":{}})", "balances"),
      malformed(R"({"canConsume":true,"balances":{"usd":)", "truncated"),
      malformed("<html></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"admin", "true"}}, "unknown key \"admin\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_venice") {
  TEST_CASE("provider conformance: venice") { run_conformance(venice_table()); }
}
