// Alibaba Cloud's BSS QueryAccountBalance against a loopback fake that checks every request's
// RPC signature as Alibaba does (recomputed from the query it received with the known
// AccessKey secret, by code independent of src/providers/signing_alibaba.cpp) and answers
// SignatureDoesNotMatch or InvalidAccessKeyId.NotFound when it does not hold, through the
// conformance kit. Bodies from https://help.aliyun.com/en/user-center/developer-reference/api-queryaccountbalance
// (success, and the XML example's account in arrears) and the common error codes,
// https://www.alibabacloud.com/help/doc-detail/69008.htm.
#include "integration/provider_conformance.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_secret = "kSecret0123456789abcdefSECRETxyz";
constexpr const char* k_key_id = "LTAI5tExampleKeyId01";
constexpr const char* k_path = "/";

// The documented JSON example.
constexpr const char* k_doc_body =
    R"({"Message":"success","RequestId":"16176743-6DC7-4CB3-BB25-A13982D8DFAD","Data":{"AvailableCashAmount":"0.00","MybankCreditAmount":"0.00","Currency":"CNY","AvailableAmount":"1000.19","CreditAmount":"1000.00"},"Code":"200","Success":true})";

std::string balance_body(const std::string& available, const std::string& cash, const std::string& currency = "CNY") {
  return R"({"Message":"success","RequestId":"6DC7","Data":{"AvailableCashAmount":")" + cash +
         R"(","MybankCreditAmount":"0.00","Currency":")" + currency + R"(","AvailableAmount":")" + available +
         R"(","CreditAmount":"0.00"},"Code":"200","Success":true})";
}

// Alibaba's error envelope.
std::string error_body(const std::string& code, const std::string& message) {
  return R"({"RequestId":"E85DB688-A2D3-44CA-9790-4259F59E90D8","HostId":"business.aliyuncs.com","Code":")" + code +
         R"(","Message":")" + message + R"(","Recommend":"https://api.aliyun.com/troubleshoot?q=)" + code + R"("})";
}

// RFC 3986 percent-encoding as Alibaba's pages spell it (Java's URLEncoder, then + to %20,
// * to %2A and %7E back to ~), written apart from the provider's own encoder.
std::string vendor_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string vendor_signature(const std::map<std::string, std::string>& sorted_params, const std::string& secret) {
  std::string canonical;
  for (const auto& [k, v] : sorted_params) canonical += (canonical.empty() ? "" : "&") + vendor_encode(k) + "=" + vendor_encode(v);
  const std::string to_sign = "GET&%2F&" + vendor_encode(canonical);
  const std::string key = secret + "&";
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(to_sign.data()),
       to_sign.size(), mac.data(), &length);
  std::array<unsigned char, 64> b64{};
  const int n = EVP_EncodeBlock(b64.data(), mac.data(), static_cast<int>(length));
  return std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

// The time of the FakeClock probe_once gives the provider: a request stamped otherwise did not
// take its time from the injected clock.
constexpr const char* k_fake_now = "2026-05-01T00:00:00Z";

// Nonces the fake has seen: Alibaba refuses one used twice.
struct SeenNonces {
  std::mutex mutex;
  std::set<std::string> seen;
  bool first_use(const std::string& nonce) {
    std::lock_guard lock(mutex);
    return seen.insert(nonce).second;
  }
};

// What Alibaba's gateway does before the API runs: the AccessKey must exist, the common
// parameters must be there, the signature must match and (when given) the request must be
// stamped `now` with a nonce not used before.
std::optional<CannedAnswer> alibaba_gateway(const httplib::Request& req, const std::string& secret,
                                            const char* now = nullptr, SeenNonces* nonces = nullptr) {
  std::map<std::string, std::string> params;
  for (const auto& [k, v] : req.params) params[k] = v;
  for (const char* required : {"AccessKeyId", "Signature", "SignatureNonce", "Timestamp"}) {
    if (!params.contains(required))
      return answer(k_path, 400, error_body("MissingParameter", std::string("The input parameter ") + required +
                                                                    " that is mandatory for processing this request is not supplied."));
  }
  const std::map<std::string, std::string> expected = {{"Action", "QueryAccountBalance"}, {"Version", "2017-12-14"},
                                                       {"Format", "JSON"}, {"SignatureMethod", "HMAC-SHA1"},
                                                       {"SignatureVersion", "1.0"}};
  for (const auto& [k, v] : expected) {
    if (params[k] != v) return answer(k_path, 400, error_body("InvalidParameter", "The specified parameter " + k + " is not valid."));
  }
  if (params["AccessKeyId"] != k_key_id)
    return answer(k_path, 404, error_body("InvalidAccessKeyId.NotFound", "Specified access key is not found."));
  const std::string sent = params["Signature"];
  params.erase("Signature");
  if (vendor_signature(params, secret) != sent)
    return answer(k_path, 400, error_body("SignatureDoesNotMatch", "Specified signature is not matched with our calculation."));
  if (now && params["Timestamp"] != now)
    return answer(k_path, 400, error_body("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."));
  if (nonces && (params["SignatureNonce"].size() < 16 || !nonces->first_use(params["SignatureNonce"])))
    return answer(k_path, 400, error_body("SignatureNonceUsed", "Specified signature nonce was used already."));
  return std::nullopt;
}

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ProviderConformance alibaba_table() {
  ProviderConformance t{"alibaba", k_secret, {{"access_key_id", k_key_id}}, "", "", {}, {}};
  auto nonces = std::make_shared<SeenNonces>();
  t.check_request = [nonces](const httplib::Request& req) {
    return alibaba_gateway(req, k_secret, k_fake_now, nonces.get());
  };
  t.cases = {
      {"documented body: available amount, with cash and credit line in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"1000.19", "CNY", true, std::nullopt,
                       {{"AvailableCashAmount", "0.00"}, {"CreditAmount", "1000.00"}, {"MybankCreditAmount", "0.00"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"zero available amount", Shape::empty_balance, {answer(k_path, 200, balance_body("0.00", "0.00"))},
       ExpectedReading{"0", "CNY", false}},
      {"in arrears as the documented XML example shows", Shape::out_of_money,
       {answer(k_path, 200, balance_body("-11.19", "0.00"))}, ExpectedReading{"-11.19", "CNY", false}},
      {"an international account in USD", Shape::other, {answer(k_path, 200, balance_body("250.50", "250.50", "USD"))},
       ExpectedReading{"250.5", "USD"}},
      {"404 InvalidAccessKeyId.NotFound", Shape::invalid_key,
       {answer(k_path, 404, error_body("InvalidAccessKeyId.NotFound", "Specified access key is not found."))},
       std::nullopt, error_of(ErrorKind::key_invalid, 404, {"InvalidAccessKeyId.NotFound"})},
      {"an AccessKey id Alibaba does not know is refused by the gateway", Shape::invalid_key,
       {answer(k_path, 200, k_doc_body)}, std::nullopt,
       error_of(ErrorKind::key_invalid, 404, {"InvalidAccessKeyId.NotFound"}), "", std::nullopt,
       {{"access_key_id", "LTAI5tSomebodyElse99"}}},
      {"400 SignatureDoesNotMatch", Shape::invalid_key,
       {answer(k_path, 400, error_body("SignatureDoesNotMatch", "Specified signature is not matched with our calculation."))},
       std::nullopt, error_of(ErrorKind::key_invalid, 400, {"SignatureDoesNotMatch"})},
      {"200 with Success false: a RAM user without billing permission", Shape::invalid_key,
       {answer(k_path, 200, R"({"Code":"NotAuthorized","Message":"This API is not authorized for caller.","Success":false,"RequestId":"A1"})")},
       std::nullopt, error_of(ErrorKind::key_invalid, 200, {"NotAuthorized"})},
      {"400 Throttling.User", Shape::rate_limit,
       {answer(k_path, 400, error_body("Throttling.User", "Request was denied due to user flow control."))}, std::nullopt,
       error_of(ErrorKind::rate_limited, 400, {"Throttling.User"})},
      {"503 ServiceUnavailable", Shape::other,
       {answer(k_path, 503, error_body("ServiceUnavailable", "The request has failed due to a temporary failure of the server."))},
       std::nullopt, error_of(ErrorKind::server_error, 503, {"ServiceUnavailable"})},
      {"400 InvalidTimeStamp.Expired points at the clock", Shape::other,
       {answer(k_path, 400, error_body("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."))},
       std::nullopt, error_of(ErrorKind::http_status, 400, {"system clock", "InvalidTimeStamp.Expired"})},
      malformed(R"({"Data":{"AvailableAmount":"abc","Currency":"CNY"},"Success":true})", "Data.AvailableAmount"),
      malformed(R"({"Data":{"Currency":"CNY"},"Success":true})", "Data.AvailableAmount"),
      malformed(R"({"Code":"200","Success":true})", "Data"),
      malformed(R"({"Data":{"AvailableAmount":"10)", "truncated"),
      malformed("<html><body>502 Bad Gateway</body></html>", "HTML"),
  };
  t.config_cases = {{"", {{"access_key_id", k_key_id}}, "api_key"},
                    {k_secret, {}, "access_key_id"},
                    {k_secret, {{"access_key_id", "LTAI 5t/x"}}, "access_key_id"},
                    {k_secret, {{"access_key_id", k_key_id}, {"auth_id", "x"}}, "unknown key \"auth_id\""}};
  return t;
}

}  // namespace

TEST_SUITE("provider_alibaba") {
  TEST_CASE("provider conformance: alibaba") { run_conformance(alibaba_table()); }

  TEST_CASE("a request signed with another secret is refused by the fake as Alibaba would") {
    FakeHttpServer server;
    server.get("/", [](const httplib::Request& req, httplib::Response& res) {
      const auto refusal = alibaba_gateway(req, k_secret);
      res.status = refusal ? refusal->status : 200;
      res.set_content(refusal ? refusal->body : k_doc_body, "application/json");
    });
    server.start();
    auto result = probe_once(provider_account("alibaba", server.url(), "anotherSecret0123456789",
                                              {{"access_key_id", k_key_id}}));
    auto e = expect_error(result, ErrorKind::key_invalid);
    CHECK(e.http_status == 400);
    CHECK(e.message.find("SignatureDoesNotMatch") != std::string::npos);
  }

  TEST_CASE("providers lists alibaba with what it reads and where") {
    const auto line = providers_line("alibaba");
    INFO("line: " << line);
    CHECK(line.find("QueryAccountBalance") != std::string::npos);
    CHECK(line.find("https://business.aliyuncs.com") != std::string::npos);
    CHECK(line.find("access_key_id") != std::string::npos);
  }

  TEST_CASE("check --json reports the Alibaba balance and keeps the secret hidden") {
    FakeHttpServer server;
    server.get("/", [](const httplib::Request& req, httplib::Response& res) {
      const auto refusal = alibaba_gateway(req, k_secret);
      res.status = refusal ? refusal->status : 200;
      res.set_content(refusal ? refusal->body : balance_body("321.45", "321.45"), "application/json");
    });
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: alibaba", "api_key: ${ALIBABA_SECRET}",
                                           std::string("access_key_id: ") + k_key_id, "base_url: " + server.url()});
    auto a = check_one(config, {{"ALIBABA_SECRET", k_secret}}, {k_secret, "SECRETxyz"});
    CHECK(a["provider"] == "alibaba");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "CNY");
    REQUIRE(a["balance"].is_number());
    CHECK(std::llround(a["balance"].get<double>() * 100) == 32145);
    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].target.find(k_secret) == std::string::npos);
  }
}
