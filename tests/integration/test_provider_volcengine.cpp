// Volcengine's billing QueryBalanceAcct against a loopback fake that checks every request's
// HMAC-SHA256 signature as Volcengine's gateway does (the canonical request rebuilt from what
// arrived, signed with the known secret by code independent of src/providers/signing_volcengine.cpp)
// and answers InvalidAccessKey or SignatureDoesNotMatch when it does not hold, through the
// conformance kit. Bodies from https://www.volcengine.com/docs/6269/1223898 (QueryBalanceAcct)
// and the platform's common error codes
// (https://docs.byteplus.com/byteplus-platform/reference/common-error-codes).
#include "integration/provider_conformance.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_secret = "WTJKbFpXVXdNak5qWVRnd05HRXdPV0ZsTmpSa1pHSTBORGd4TURrek5HVQ==";
constexpr const char* k_key_id = "AKLTZmVhMjM0ZjU2Nzg5MGFiY2RlZjAxMjM0NTY3ODk";
constexpr const char* k_path = "/";

// The documented example (AccountID filled in: the page elides it).
constexpr const char* k_doc_body =
    R"({"ResponseMetadata":{"RequestId":"202308231151163C400BE8545DED89B87D","Action":"QueryBalanceAcct","Version":"2022-01-01","Service":"billing"},"Result":{"AccountID":2100000001,"ArrearsBalance":"1.01","AvailableBalance":"77.01","CashBalance":"83.01","CreditLimit":"0.01","FreezeAmount":"5.01"}})";

std::string balance_body(const std::string& available, const std::string& cash, const std::string& arrears) {
  return R"({"ResponseMetadata":{"RequestId":"2023","Action":"QueryBalanceAcct","Version":"2022-01-01","Service":"billing"},"Result":{"AccountID":2100000001,"ArrearsBalance":")" +
         arrears + R"(","AvailableBalance":")" + available + R"(","CashBalance":")" + cash +
         R"(","CreditLimit":"0.00","FreezeAmount":"0.00"}})";
}

// The platform's error envelope.
std::string error_body(const std::string& code, int code_n, const std::string& message) {
  return R"({"ResponseMetadata":{"RequestId":"20230823115116","Action":"QueryBalanceAcct","Version":"2022-01-01","Service":"billing","Region":"cn-beijing","Error":{"CodeN":)" +
         std::to_string(code_n) + R"(,"Code":")" + code + R"(","Message":")" + message + R"("}}})";
}

std::string hmac256(const std::string& key, const std::string& message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac.data(), &length);
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

std::string sha256_hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::ostringstream out;
  for (unsigned int i = 0; i < length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    out << byte;
  }
  return out.str();
}

std::string to_hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", c);
    out += byte;
  }
  return out;
}

std::string encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || std::string("-_.~").find(static_cast<char>(c)) != std::string::npos) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// "key=value" pieces of the Authorization header after "HMAC-SHA256 ".
std::map<std::string, std::string> authorization_fields(const std::string& header) {
  std::map<std::string, std::string> fields;
  if (!header.starts_with("HMAC-SHA256 ")) return fields;
  std::stringstream rest(header.substr(12));
  std::string piece;
  while (std::getline(rest, piece, ',')) {
    piece.erase(0, piece.find_first_not_of(' '));
    const auto eq = piece.find('=');
    if (eq != std::string::npos) fields[piece.substr(0, eq)] = piece.substr(eq + 1);
  }
  return fields;
}

CannedAnswer refusal(int status, const std::string& code, int code_n, const std::string& message) {
  return answer(k_path, status, error_body(code, code_n, message));
}

// What Volcengine's gateway does before the API runs; with `now`, a request stamped otherwise
// is refused as expired (probe_once's FakeClock reads 2026-05-01T00:00:00Z).
std::optional<CannedAnswer> volcengine_gateway(const httplib::Request& req, const std::string& secret,
                                               const char* now = nullptr) {
  auto fields = authorization_fields(req.get_header_value("Authorization"));
  if (fields.empty() || !fields.contains("Credential") || !fields.contains("Signature"))
    return refusal(401, "MissingSignature", 100005, "The request is missing signature.");
  const std::string credential = fields["Credential"];
  const auto slash = credential.find('/');
  if (credential.substr(0, slash) != k_key_id)
    return refusal(401, "InvalidAccessKey", 100009, "The accesskey included in the request is invalid.");
  const std::string x_date = req.get_header_value("X-Date");
  const std::string scope = credential.substr(slash + 1);
  if (x_date.size() != 16 || scope != x_date.substr(0, 8) + "/cn-beijing/billing/request")
    return refusal(401, "SignatureDoesNotMatch", 100010, "The request signature we calculated does not match.");
  if (req.get_param_value("Action") != "QueryBalanceAcct" || req.get_param_value("Version") != "2022-01-01")
    return refusal(404, "InvalidActionOrVersion", 100008, "Could not find operation.");
  std::map<std::string, std::string> query;
  for (const auto& [k, v] : req.params) query[encode(k)] = encode(v);
  std::string canonical_query;
  for (const auto& [k, v] : query) canonical_query += (canonical_query.empty() ? "" : "&") + k + "=" + v;
  std::string header_lines;
  std::stringstream names(fields["SignedHeaders"]);
  std::string name;
  bool has_host = false;
  bool has_date = false;
  while (std::getline(names, name, ';')) {
    has_host = has_host || name == "host";
    has_date = has_date || name == "x-date";
    header_lines += name + ":" + req.get_header_value(name) + "\n";
  }
  if (!has_host || !has_date)
    return refusal(401, "SignatureDoesNotMatch", 100010, "host and x-date must be signed.");
  const std::string canonical = req.method + "\n" + req.path + "\n" + canonical_query + "\n" + header_lines + "\n" +
                                fields["SignedHeaders"] + "\n" + sha256_hex(req.body);
  const std::string to_sign = "HMAC-SHA256\n" + x_date + "\n" + scope + "\n" + sha256_hex(canonical);
  std::string key = hmac256(secret, x_date.substr(0, 8));
  for (const char* part : {"cn-beijing", "billing", "request"}) key = hmac256(key, part);
  if (to_hex(hmac256(key, to_sign)) != fields["Signature"])
    return refusal(401, "SignatureDoesNotMatch", 100010,
                   "The request signature we calculated does not match the signature you provided.");
  if (now && x_date != now) return refusal(400, "InvalidTimestamp", 100006, "The signature of the request is expired.");
  return std::nullopt;
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance volcengine_table() {
  ProviderConformance t{"volcengine", k_secret, {{"access_key_id", k_key_id}}, "", "", {}, {}};
  t.check_request = [](const httplib::Request& req) { return volcengine_gateway(req, k_secret, "20260501T000000Z"); };
  t.cases = {
      {"documented body: available balance, with cash, arrears, credit line and frozen in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"77.01", "CNY", true, std::nullopt,
                       {{"CashBalance", "83.01"}, {"ArrearsBalance", "1.01"}, {"CreditLimit", "0.01"}, {"FreezeAmount", "5.01"}},
                       {"AccountID"}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero available balance", Shape::empty_balance, {answer(k_path, 200, balance_body("0.00", "0.00", "0.00"))},
       ExpectedReading{"0", "CNY", false}},
      {"in arrears: nothing available and a debt", Shape::out_of_money,
       {answer(k_path, 200, balance_body("0.00", "-12.30", "12.30"))},
       ExpectedReading{"0", "CNY", false, std::nullopt, {{"ArrearsBalance", "12.30"}, {"CashBalance", "-12.30"}}}},
      {"the account's currency setting is used", Shape::other, {answer(k_path, 200, balance_body("5.00", "5.00", "0.00"))},
       ExpectedReading{"5", "USD"}, std::nullopt, "", std::string("USD")},
      {"401 InvalidAccessKey", Shape::invalid_key,
       {answer(k_path, 401, error_body("InvalidAccessKey", 100009, "The accesskey included in the request is invalid."))},
       std::nullopt, error_of(ErrorKind::key_invalid, 401, {"InvalidAccessKey"})},
      {"an AccessKey id Volcengine does not know is refused by the gateway", Shape::invalid_key,
       {answer(k_path, 200, k_doc_body)}, std::nullopt, error_of(ErrorKind::key_invalid, 401, {"InvalidAccessKey"}), "",
       std::nullopt, {{"access_key_id", "AKLTSomebodyElse0123"}}},
      {"403 AccessDenied: an IAM user without billing permission", Shape::invalid_key,
       {answer(k_path, 403, error_body("AccessDenied", 100013, "User is not authorized to perform: billing:QueryBalanceAcct"))},
       std::nullopt, error_of(ErrorKind::key_invalid, 403, {"AccessDenied"})},
      {"429 FlowLimitExceeded", Shape::rate_limit,
       {answer(k_path, 429, error_body("FlowLimitExceeded", 100018, "Your request is denied because of flow limit."),
               {{"Retry-After", "3"}})},
       std::nullopt, ExpectedError{ErrorKind::rate_limited, 429, {"FlowLimitExceeded"}, std::chrono::seconds(3), false}},
      {"500 InternalError", Shape::other,
       {answer(k_path, 500, error_body("InternalError", 100001, "The request has failed due to an unknown error"))},
       std::nullopt, error_of(ErrorKind::server_error, 500, {"InternalError"})},
      {"400 InvalidTimestamp points at the clock", Shape::other,
       {answer(k_path, 400, error_body("InvalidTimestamp", 100006, "The signature of the request is expired."))},
       std::nullopt, error_of(ErrorKind::http_status, 400, {"system clock", "InvalidTimestamp"})},
      malformed(R"({"ResponseMetadata":{},"Result":{"AvailableBalance":"abc"}})", "Result.AvailableBalance"),
      malformed(R"({"ResponseMetadata":{},"Result":{"CashBalance":"1.00"}})", "Result.AvailableBalance"),
      malformed(R"({"ResponseMetadata":{}})", "Result"),
      malformed(R"({"Result":{"AvailableBalance":"7)", "truncated"),
      malformed("<html><body>504 Gateway Time-out</body></html>", "HTML"),
  };
  t.config_cases = {{"", {{"access_key_id", k_key_id}}, "api_key"},
                    {k_secret, {}, "access_key_id"},
                    {k_secret, {{"access_key_id", "AKLT x/y"}}, "access_key_id"}};
  return t;
}

}  // namespace

TEST_SUITE("provider_volcengine") {
  TEST_CASE("provider conformance: volcengine") { run_conformance(volcengine_table()); }

  TEST_CASE("a request signed with another secret is refused by the fake as Volcengine would") {
    FakeHttpServer server;
    server.get("/", [](const httplib::Request& req, httplib::Response& res) {
      const auto refused = volcengine_gateway(req, k_secret);
      res.status = refused ? refused->status : 200;
      res.set_content(refused ? refused->body : k_doc_body, "application/json");
    });
    server.start();
    auto result = probe_once(provider_account("volcengine", server.url(), "anotherSecret0123456789",
                                              {{"access_key_id", k_key_id}}));
    auto e = expect_error(result, ErrorKind::key_invalid);
    CHECK(e.http_status == 401);
    CHECK(e.message.find("SignatureDoesNotMatch") != std::string::npos);
  }

  TEST_CASE("providers lists volcengine with what it reads and where") {
    const auto line = providers_line("volcengine");
    INFO("line: " << line);
    CHECK(line.find("QueryBalanceAcct") != std::string::npos);
    CHECK(line.find("https://open.volcengineapi.com") != std::string::npos);
    CHECK(line.find("access_key_id") != std::string::npos);
  }

  TEST_CASE("check --json reports the Volcengine balance and keeps the secret hidden") {
    FakeHttpServer server;
    server.get("/", [](const httplib::Request& req, httplib::Response& res) {
      const auto refused = volcengine_gateway(req, k_secret);
      res.status = refused ? refused->status : 200;
      res.set_content(refused ? refused->body : balance_body("88.80", "88.80", "0.00"), "application/json");
    });
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: volcengine", "api_key: ${VOLC_SECRET}",
                                           std::string("access_key_id: ") + k_key_id, "base_url: " + server.url()});
    auto a = check_one(config, {{"VOLC_SECRET", k_secret}}, {k_secret});
    CHECK(a["provider"] == "volcengine");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "CNY");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 8880);
  }
}
