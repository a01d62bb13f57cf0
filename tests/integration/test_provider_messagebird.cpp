// MessageBird against a loopback fake speaking the documented shapes (developers.messagebird.com
// api and api/balance; the error envelope from the official clients' tests), through the
// conformance kit. [UNCONFIRMED] error code 25 "not enough balance".
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "live_gshuPaZoeSECRET6ovbc8M79w0QyM";
constexpr const char* k_path = "/balance";

// The documented example (the Node client's README).
constexpr const char* k_doc_body = R"({"payment":"prepaid","type":"credits","amount":42.5})";

std::string balance_body(const std::string& amount, const std::string& type = "euros",
                         const std::string& payment = "prepaid") {
  return R"({"payment":")" + payment + R"(","type":")" + type + R"(","amount":)" + amount + "}";
}

std::string errors_body(int code, const std::string& description, const std::string& parameter = "") {
  return R"({"errors":[{"code":)" + std::to_string(code) + R"(,"description":")" + description + R"(","parameter":)" +
         (parameter.empty() ? std::string("null") : "\"" + parameter + "\"") + "}]}";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance messagebird_table() {
  ProviderConformance t{"messagebird", k_key, {}, "Authorization", std::string("AccessKey ") + k_key, {}, {}};
  t.cases = {
      {"documented body: credits are the unit, payment and type in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"42.5", "credits", true, std::nullopt, {{"payment", "prepaid"}, {"type", "credits"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"a euros balance is EUR", Shape::other, {answer(k_path, 200, balance_body("18.75"))},
       ExpectedReading{"18.75", "EUR", true, std::nullopt, {{"type", "euros"}}}},
      {"the account's currency renames credits", Shape::other, {answer(k_path, 200, balance_body("300", "credits"))},
       ExpectedReading{"300", "SMS"}, std::nullopt, "", "SMS"},
      {"the account's currency does not rename euros", Shape::other, {answer(k_path, 200, balance_body("5"))},
       ExpectedReading{"5", "EUR"}, std::nullopt, "", "SMS"},
      {"a prepaid account at zero cannot send", Shape::empty_balance, {answer(k_path, 200, balance_body("0"))},
       ExpectedReading{"0", "EUR", false}},
      {"a postpaid account at zero still sends", Shape::other, {answer(k_path, 200, balance_body("0", "euros", "postpaid"))},
       ExpectedReading{"0", "EUR", true, std::nullopt, {{"payment", "postpaid"}, {"postpaid", true}}}},
      {"error 25 not enough balance is out of money", Shape::out_of_money,
       {answer(k_path, 422, errors_body(25, "Not enough balance"), {{"Retry-After", "60"}})}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, 422, {"Not enough balance"}, std::nullopt, true}},
      {"401 incorrect access key", Shape::invalid_key,
       {answer(k_path, 401, errors_body(2, "Request not allowed (incorrect access_key)", "access_key"))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"incorrect access_key"})},
      {"429 rate limited", Shape::rate_limit,
       {answer(k_path, 429, errors_body(98, "Too many requests"), {{"Retry-After", "10"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {"Too many requests"}, std::chrono::seconds(10), false}},
      {"500 internal error", Shape::other, {answer(k_path, 500, errors_body(99, "Internal error"))}, std::nullopt,
       error_of(ErrorKind::server_error, 500, {"Internal error"})},
      malformed(R"({"payment":"prepaid","type":"credits"})", "amount"),
      malformed(R"({"payment":"prepaid","type":"credits","amount":"many"})", "amount"),
      malformed(R"({"payment":"prepaid","type":"dollars","amount":3})", "type"),
      malformed(R"({"payment":"prepaid","amount":3})", "type"),
      malformed(R"({"payment":"prepaid","type":"credits","amount":4)", "truncated"),
      malformed("<html><body>Bird</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "access key"}, {k_key, {{"originator", "x"}}, "unknown key \"originator\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_messagebird") {
  TEST_CASE("provider conformance: messagebird") { run_conformance(messagebird_table()); }

  TEST_CASE("providers lists messagebird with its route") {
    const auto line = providers_line("messagebird");
    INFO("line: " << line);
    CHECK(line.find("/balance") != std::string::npos);
    CHECK(line.find("https://rest.messagebird.com") != std::string::npos);
  }

  TEST_CASE("check --json reports MessageBird credits and keeps the key hidden") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: messagebird", "api_key: ${MESSAGEBIRD_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"MESSAGEBIRD_KEY", k_key}}, {k_key, "SECRET6ovbc"});
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "credits");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 10) == 425);
  }
}
