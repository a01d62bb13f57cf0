// ZenMux against a loopback fake speaking the documented shapes
// (docs.zenmux.ai/api/platform/payg-balance.html and docs.zenmux.ai/guide/advanced/error-codes.html),
// through the conformance kit. Confirmed there: the body below, management key as Bearer,
// 422 for the management API's per-minute cap, {"error":{"code":"402","type":...}} envelopes.
#include "integration/provider_conformance.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "zm-mgmt-SECRET-abc123xyz";
constexpr const char* k_path = "/api/v1/management/payg/balance";

// The documented example.
constexpr const char* k_doc_body =
    R"({"success":true,"data":{"currency":"usd","total_credits":482.74,"top_up_credits":35.00,"bonus_credits":447.74}})";

std::string error_body(const std::string& code, const std::string& type, const std::string& message) {
  return R"({"error":{"code":")" + code + R"(","type":")" + type + R"(","message":")" + message + R"("}})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance zenmux_table() {
  ProviderConformance t{"zenmux", k_key, {}, "Authorization", std::string("Bearer ") + k_key, {}, {}};
  t.cases = {
      {"documented body: total_credits in USD, top-up and bonus in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"482.74", "USD", true, std::nullopt, {{"top_up_credits", "35.00"}, {"bonus_credits", "447.74"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"no credits left", Shape::empty_balance,
       {answer(k_path, 200,
               R"({"success":true,"data":{"currency":"usd","total_credits":0,"top_up_credits":0,"bonus_credits":0}})")},
       ExpectedReading{"0", "USD", false}},
      {"402 reject_no_credit is out of money", Shape::out_of_money,
       {answer(k_path, 402, error_body("402", "reject_no_credit", "Insufficient balance"))}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 402, {"Insufficient balance"}, std::nullopt, true}},
      {"402 insufficient_credit (account overdue) is out of money", Shape::other,
       {answer(k_path, 402, error_body("402", "insufficient_credit", "Account overdue"))}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 402, {"Account overdue"}, std::nullopt, true}},
      {"403 access_denied is an invalid key", Shape::invalid_key,
       {answer(k_path, 403, error_body("403", "access_denied", "You have no permission to access this resource"))},
       std::nullopt, error_of(ErrorKind::key_invalid, 403, {"no permission"})},
      {"422 is the management API's per-minute cap", Shape::rate_limit,
       {answer(k_path, 422, error_body("422", "rate_limit", "Rate limit exceeded"), {{"Retry-After", "30"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 422, {"per-minute cap"}, std::chrono::seconds(30), false}},
      {"429 rate_limit is a rate limit too", Shape::other,
       {answer(k_path, 429, error_body("429", "rate_limit", "Rate limit exceeded"), {{"Retry-After", "5"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"Rate limit exceeded"}, std::chrono::seconds(5), false}},
      {"500 is a server error", Shape::other,
       {answer(k_path, 500, error_body("500", "internal_server_error", "Platform internal error"))}, std::nullopt,
       error_of(ErrorKind::server_error, 500)},
      {"success false inside HTTP 200 is an error", Shape::other,
       {answer(k_path, 200, R"({"success":false,"error":{"code":"400","type":"invalid_params","message":"bad"}})")},
       std::nullopt, error_of(ErrorKind::http_status, 200, {"success false", "bad"})},
      malformed(R"({"success":true,"data":{"currency":"usd"}})", "data.total_credits"),
      malformed(R"({"success":true,"data":{"total_credits":"lots"}})", "data.total_credits"),
      malformed(R"({"success":true})", "data"),
      malformed(R"({"success":true,"data":{"total_credits":4)", "truncated"),
      malformed("<html>502</html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"team", "x"}}, "unknown key \"team\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_zenmux") {
  TEST_CASE("provider conformance: zenmux") { run_conformance(zenmux_table()); }

  TEST_CASE("providers lists zenmux") {
    const auto line = providers_line("zenmux");
    INFO("line: " << line);
    CHECK(line.find("/api/v1/management/payg/balance") != std::string::npos);
  }
}
