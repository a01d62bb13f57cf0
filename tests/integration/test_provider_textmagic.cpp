// Textmagic against a loopback fake speaking the documented shapes (textmagic.com/docs/api/start
// and /response-codes; the User and Currency models of textmagic/textmagic-rest-php-v2), through
// the conformance kit.
#include "integration/provider_conformance.hpp"

#include <cmath>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "tmSECRETkey0123456789abcdefABCDEF";
constexpr const char* k_username = "janedoe";
constexpr const char* k_path = "/api/v2/user";

// A User in the documented shape (its name, email and phone must not be copied anywhere).
constexpr const char* k_doc_body = R"({"id":1234,"displayTimeFormat":"24h","username":"janedoe","firstName":"Jane",
  "lastName":"Doe","email":"jane@example.com","status":"A","balance":127.35,"phone":"447860021130","company":"Example",
  "currency":{"id":"GBP","unicodeSymbol":"£","htmlSymbol":"&pound;"},"country":{"id":"GB","name":"United Kingdom"},
  "timezone":{"id":2,"area":"Europe","dst":1,"offset":0,"timezone":"Europe/London"},"subaccountType":"P",
  "emailAccepted":true,"phoneAccepted":true,"avatar":{"id":1,"href":"/avatars/x.png"}})";

std::string user_body(const std::string& balance, const std::string& currency = "USD", const std::string& status = "A") {
  return R"({"id":1,"username":"janedoe","status":")" + status + R"(","balance":)" + balance +
         R"(,"currency":{"id":")" + currency + R"(","unicodeSymbol":"$","htmlSymbol":"$"},"subaccountType":"P"})";
}

std::string error_body(int code, const std::string& message) {
  return R"({"code":)" + std::to_string(code) + R"(,"message":")" + message + R"(","errors":null})";
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance textmagic_table() {
  ProviderConformance t{"textmagic", k_key, {{"username", k_username}}, "X-TM-Key", k_key, {}, {}};
  t.cases = {
      {"documented user: balance in the account currency, status in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"127.35", "GBP", true, std::nullopt, {{"status", "A"}, {"subaccountType", "P"}},
                       {"email", "phone", "firstName", "lastName", "company"}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"a trial account with money can send", Shape::other, {answer(k_path, 200, user_body("1.50", "EUR", "T"))},
       ExpectedReading{"1.5", "EUR", true, std::nullopt, {{"status", "T"}}}},
      {"zero balance", Shape::empty_balance, {answer(k_path, 200, user_body("0"))}, ExpectedReading{"0", "USD", false}},
      {"a negative balance is out of money", Shape::out_of_money, {answer(k_path, 200, user_body("-0.42"))},
       ExpectedReading{"-0.42", "USD", false}},
      {"no currency in the body: the account's currency", Shape::other,
       {answer(k_path, 200, R"({"id":1,"balance":"9.90","status":"A"})")}, ExpectedReading{"9.9", "EUR"}, std::nullopt,
       "", "EUR"},
      {"401 unauthorized", Shape::invalid_key, {answer(k_path, 401, error_body(401, "Unauthorized"))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 401, {"Unauthorized"})},
      {"429 request limit reached", Shape::rate_limit,
       {answer(k_path, 429, error_body(429, "Too many requests"), {{"Retry-After", "2"}})}, std::nullopt,
       ExpectedError{ErrorKind::rate_limited, 429, {"Too many requests"}, std::chrono::seconds(2), false}},
      {"503 maintenance", Shape::other, {answer(k_path, 503, error_body(503, "Service unavailable"))}, std::nullopt,
       error_of(ErrorKind::server_error, 503, {"Service unavailable"})},
      malformed(R"({"id":1,"currency":{"id":"USD"}})", "balance"),
      malformed(R"({"id":1,"balance":"plenty","currency":{"id":"USD"}})", "balance"),
      malformed(R"({"id":1,"balance":3})", "currency.id"),
      malformed(R"({"id":1,"balance":3)", "truncated"),
      malformed("<html><body>Maintenance</body></html>", "HTML"),
  };
  t.config_cases = {{"", {{"username", k_username}}, "api_key"},
                    {k_key, {}, "needs username"},
                    {k_key, {{"username", "jane doe"}}, "no spaces"},
                    {k_key, {{"username", k_username}, {"password", "x"}}, "unknown key \"password\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_textmagic") {
  TEST_CASE("provider conformance: textmagic") { run_conformance(textmagic_table()); }

  TEST_CASE("textmagic sends the username beside the key") {
    FakeHttpServer server;
    serve(server, k_path, 200, user_body("5"));
    server.start();
    auto result = probe_once(provider_account("textmagic", server.url(), k_key, {{"username", k_username}}));
    REQUIRE(result.ok());
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].header("X-TM-Username") == k_username);
    CHECK(requests[0].header("X-TM-Key") == k_key);
  }

  TEST_CASE("providers lists textmagic with its username setting") {
    const auto line = providers_line("textmagic");
    INFO("line: " << line);
    CHECK(line.find("/api/v2/user") != std::string::npos);
    CHECK(line.find("username") != std::string::npos);
  }
}
