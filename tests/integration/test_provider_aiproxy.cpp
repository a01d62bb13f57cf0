// AIProxy against a loopback fake speaking the shape one-api's updateChannelAIProxyBalance
// reads (controller/channel-billing.go; no vendor documentation was found: [UNCONFIRMED]),
// through the conformance kit: `Api-Key` header, {"success","message","error_code","data":{"totalPoints"}}.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "aip-SECRET-abc123xyz";
constexpr const char* k_path = "/api/report/getUserOverview";

// The shape one-api decodes, with the reference's example value.
constexpr const char* k_body = R"({"success":true,"message":"","error_code":0,"data":{"totalPoints":12.34}})";

std::string failure(int code, const std::string& message) {
  return R"({"success":false,"message":")" + message + R"(","error_code":)" + std::to_string(code) + R"(,"data":null})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance aiproxy_table() {
  ProviderConformance t{"aiproxy", k_key, {}, "Api-Key", k_key, {}, {}};
  t.cases = {
      {"overview body: totalPoints as the balance", Shape::success, {answer(k_path, 200, k_body)},
       ExpectedReading{"12.34", "USD"}, std::nullopt, "", std::nullopt, {}, {k_path}},
      {"no points left", Shape::empty_balance,
       {answer(k_path, 200, R"({"success":true,"message":"","error_code":0,"data":{"totalPoints":0}})")},
       ExpectedReading{"0", "USD", false}},
      {"success false saying the balance is insufficient is out of money", Shape::out_of_money,
       {answer(k_path, 200, failure(402, "Insufficient balance"))}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 200, {"error_code 402", "Insufficient balance"}, std::nullopt, true}},
      {"402 is out of money", Shape::other, {answer(k_path, 402, R"({"message":"insufficient points"})")},
       std::nullopt, ExpectedError{ErrorKind::exhausted, 402, {}, std::nullopt, true}},
      {"401 invalid key", Shape::invalid_key, {answer(k_path, 401, R"({"message":"Invalid Api-Key"})")}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Invalid Api-Key"})},
      {"success false naming the API key is an invalid key", Shape::other,
       {answer(k_path, 200, failure(401, "invalid api key"))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 200, {"invalid api key"})},
      {"success false otherwise is an error in HTTP 200", Shape::other,
       {answer(k_path, 200, failure(500, "system busy"))}, std::nullopt,
       error_of(ErrorKind::http_status, 200, {"error_code 500", "system busy"})},
      {"429 rate limit", Shape::rate_limit, {answer(k_path, 429, R"({"message":"too many requests"})", {{"Retry-After", "7"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {}, std::chrono::seconds(7), false}},
      {"the account's currency renames the unit", Shape::other, {answer(k_path, 200, k_body)},
       ExpectedReading{"12.34", "CNY"}, std::nullopt, "", "CNY"},
      malformed(R"({"success":true,"data":{}})", "data.totalPoints"),
      malformed(R"({"message":"","data":{"totalPoints":1}})", "success"),
      malformed(R"({"success":true,"data":{"totalPoints":"many"}})", "data.totalPoints"),
      malformed("<!doctype html><html></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"user", "me"}}, "unknown key \"user\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_aiproxy") {
  TEST_CASE("provider conformance: aiproxy") { run_conformance(aiproxy_table()); }

  TEST_CASE("providers lists aiproxy") {
    const auto line = providers_line("aiproxy");
    INFO("line: " << line);
    CHECK(line.find("/api/report/getUserOverview") != std::string::npos);
  }
}
