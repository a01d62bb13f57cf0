// Baidu AI Cloud's cash balance (POST /v1/finance/cash/balance) against a loopback fake that
// checks every request's BCE auth v1 string as Baidu does (the canonical request rebuilt from
// what arrived, signed with the known secret by code independent of src/providers/signing_baidu.cpp)
// and answers InvalidAccessKeyId or SignatureDoesNotMatch when it does not hold, through the
// conformance kit. Bodies from https://cloud.baidu.com/doc/Finance/s/Skhtyytwu (账户余额查询)
// and the common error codes, https://intl.cloud.baidu.com/doc/Reference/s/Bjz3uz3qj-en.
#include "integration/provider_conformance.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_secret = "bd5e6f1a2b3c4d5e6f708192a3b4c5d6";
constexpr const char* k_key_id = "ALTAKexampleAccessKey0123";
constexpr const char* k_path = "/v1/finance/cash/balance";

std::string balance_body(const std::string& cash) { return R"({"cashBalance": )" + cash + "}"; }

// Baidu's error envelope.
std::string error_body(const std::string& code, const std::string& message) {
  return R"({"requestId":"d4591fcf-025b-46bc-81eb-91ddda4e27bc","code":")" + code + R"(","message":")" + message + R"("})";
}

std::string hmac_hex(const std::string& key, const std::string& message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac.data(), &length);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", mac[i]);
    out += byte;
  }
  return out;
}

std::string encode(const std::string& text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || std::string("-_.~").find(static_cast<char>(c)) != std::string::npos ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.emplace_back();
  return parts;
}

CannedAnswer refusal(int status, const std::string& code, const std::string& message) {
  return answer(k_path, status, error_body(code, message));
}

// What Baidu's gateway does before the API runs; with `now`, a request stamped otherwise is
// refused as expired (probe_once's FakeClock reads 2026-05-01T00:00:00Z).
std::optional<CannedAnswer> baidu_gateway(const httplib::Request& req, const std::string& secret,
                                          const char* now = nullptr) {
  const auto parts = split(req.get_header_value("Authorization"), '/');
  if (parts.size() != 6 || parts[0] != "bce-auth-v1")
    return refusal(400, "InvalidHTTPAuthHeader", "The Authorization header you provided is invalid.");
  if (parts[1] != k_key_id)
    return refusal(403, "InvalidAccessKeyId", "The Access Key ID you provided does not exist in our records.");
  const auto names = split(parts[4], ';');
  if (std::find(names.begin(), names.end(), "host") == names.end())
    return refusal(400, "SignatureDoesNotMatch", "The host header must be signed.");
  std::vector<std::string> lines;
  for (const auto& name : names) lines.push_back(name + ":" + encode(req.get_header_value(name), false));
  std::sort(lines.begin(), lines.end());
  std::string headers;
  for (const auto& line : lines) headers += (headers.empty() ? "" : "\n") + line;
  std::vector<std::string> pairs;
  for (const auto& [k, v] : req.params) pairs.push_back(encode(k, false) + "=" + encode(v, false));
  std::sort(pairs.begin(), pairs.end());
  std::string query;
  for (const auto& p : pairs) query += (query.empty() ? "" : "&") + p;
  const std::string canonical = req.method + "\n" + encode(req.path, true) + "\n" + query + "\n" + headers;
  const std::string signing_key = hmac_hex(secret, parts[0] + "/" + parts[1] + "/" + parts[2] + "/" + parts[3]);
  if (hmac_hex(signing_key, canonical) != parts[5])
    return refusal(400, "SignatureDoesNotMatch",
                   "The request signature we calculated does not match the signature you provided.");
  if (now && (parts[2] != now || req.get_header_value("x-bce-date") != now))
    return refusal(400, "RequestExpired", "Request has expired.");
  return std::nullopt;
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance baidu_table() {
  ProviderConformance t{"baidu", k_secret, {{"access_key_id", k_key_id}}, "", "", {}, {}};
  t.method = "POST";
  t.check_request = [](const httplib::Request& req) { return baidu_gateway(req, k_secret, "2026-05-01T00:00:00Z"); };
  t.cases = {
      {"documented body: the cash balance as a JSON number", Shape::success, {answer(k_path, 200, balance_body("850.0000"))},
       ExpectedReading{"850", "CNY", true}, std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero cash balance", Shape::empty_balance, {answer(k_path, 200, balance_body("0.0000"))},
       ExpectedReading{"0", "CNY", false}},
      {"in arrears: a negative cash balance", Shape::out_of_money, {answer(k_path, 200, balance_body("-15.2000"))},
       ExpectedReading{"-15.2", "CNY", false}},
      {"the account's currency setting is used", Shape::other, {answer(k_path, 200, balance_body("3.5"))},
       ExpectedReading{"3.5", "USD"}, std::nullopt, "", std::string("USD")},
      {"403 InvalidAccessKeyId", Shape::invalid_key,
       {answer(k_path, 403, error_body("InvalidAccessKeyId", "The Access Key ID you provided does not exist in our records."))},
       std::nullopt, error_of(ErrorKind::key_invalid, 403, {"InvalidAccessKeyId"})},
      {"an AccessKey id Baidu does not know is refused by the gateway", Shape::invalid_key,
       {answer(k_path, 200, balance_body("850.0000"))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 403, {"InvalidAccessKeyId"}), "", std::nullopt,
       {{"access_key_id", "ALTAKsomebodyElse99"}}},
      {"403 AccessDenied: a sub-user without finance permission", Shape::invalid_key,
       {answer(k_path, 403, error_body("AccessDenied", "Access denied."))}, std::nullopt,
       error_of(ErrorKind::key_invalid, 403, {"AccessDenied"})},
      {"400 SignatureDoesNotMatch", Shape::invalid_key,
       {answer(k_path, 400, error_body("SignatureDoesNotMatch", "The request signature we calculated does not match."))},
       std::nullopt, error_of(ErrorKind::key_invalid, 400, {"SignatureDoesNotMatch"})},
      {"429 too many requests", Shape::rate_limit,
       {answer(k_path, 429, error_body("RequestLimitExceeded", "Request limit exceeded."), {{"Retry-After", "7"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"RequestLimitExceeded"}, std::chrono::seconds(7), false}},
      {"500 InternalError", Shape::other,
       {answer(k_path, 500, error_body("InternalError", "We encountered an internal error. Please try again."))},
       std::nullopt, error_of(ErrorKind::server_error, 500, {"InternalError"})},
      {"400 RequestExpired points at the clock", Shape::other,
       {answer(k_path, 400, error_body("RequestExpired", "Request has expired."))}, std::nullopt,
       error_of(ErrorKind::http_status, 400, {"system clock", "RequestExpired"})},
      malformed(R"({"cashBalance":"abc"})", "cashBalance"),
      malformed(R"({"balance":850})", "cashBalance"),
      malformed(R"({"cashBalance":85)", "truncated"),
      malformed("<html><body>503 Service Unavailable</body></html>", "HTML"),
  };
  t.config_cases = {{"", {{"access_key_id", k_key_id}}, "api_key"},
                    {k_secret, {}, "access_key_id"},
                    {k_secret, {{"access_key_id", "ALTAK x"}}, "access_key_id"}};
  return t;
}

}  // namespace

TEST_SUITE("provider_baidu") {
  TEST_CASE("provider conformance: baidu") { run_conformance(baidu_table()); }

  TEST_CASE("a request signed with another secret is refused by the fake as Baidu would") {
    FakeHttpServer server;
    server.post(k_path, [](const httplib::Request& req, httplib::Response& res) {
      const auto refused = baidu_gateway(req, k_secret);
      res.status = refused ? refused->status : 200;
      res.set_content(refused ? refused->body : balance_body("1"), "application/json");
    });
    server.start();
    auto result = probe_once(provider_account("baidu", server.url(), "anotherSecret0123456789",
                                              {{"access_key_id", k_key_id}}));
    auto e = expect_error(result, ErrorKind::key_invalid);
    CHECK(e.http_status == 400);
    CHECK(e.message.find("SignatureDoesNotMatch") != std::string::npos);
  }

  TEST_CASE("providers lists baidu with what it reads and where") {
    const auto line = providers_line("baidu");
    INFO("line: " << line);
    CHECK(line.find("/v1/finance/cash/balance") != std::string::npos);
    CHECK(line.find("https://billing.baidubce.com") != std::string::npos);
    CHECK(line.find("access_key_id") != std::string::npos);
  }

  TEST_CASE("check --json reports the Baidu balance and keeps the secret hidden") {
    FakeHttpServer server;
    server.post(k_path, [](const httplib::Request& req, httplib::Response& res) {
      const auto refused = baidu_gateway(req, k_secret);
      res.status = refused ? refused->status : 200;
      res.set_content(refused ? refused->body : balance_body("412.3400"), "application/json");
    });
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: baidu", "api_key: ${BAIDU_SECRET}",
                                           std::string("access_key_id: ") + k_key_id, "base_url: " + server.url()});
    auto a = check_one(config, {{"BAIDU_SECRET", k_secret}}, {k_secret});
    CHECK(a["provider"] == "baidu");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "CNY");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 41234);
  }
}
