#pragma once
// The provider conformance kit: one table per provider of documented answers and the
// outcome each must give, run by one harness against a loopback fake. A new provider's
// tests are one table (test_provider_NAME.cpp) built from its vendor's documented bodies.
//
// Every table must cover the six shapes each provider meets in the wild (the harness fails
// a table that misses one): the documented success body, an empty balance, the vendor's
// out-of-money answer, its invalid-key answer, a rate limit and a malformed body.

#include "integration/provider_probe.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace creditwatch::testing {

// Which of the required shapes a case stands for.
enum class Shape { success, empty_balance, out_of_money, invalid_key, rate_limit, malformed, other };

// One canned answer the fake gives at `path` (below the case's own prefix).
struct CannedAnswer {
  std::string path = "";
  int status = 200;
  std::string body = "";
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// The reading a case must produce. `balance` nullopt: the reading has no balance at all
// (an unlimited key), and `available` still holds.
struct ExpectedReading {
  std::optional<std::string> balance;
  std::string currency = "";
  bool available = true;
  std::optional<std::string> spend_total = std::nullopt;
  std::map<std::string, nlohmann::json> details = {};
  std::vector<std::string> absent_details = {};  // keys the details must not copy (personal data)
  std::optional<std::string> unavailable_reason = std::nullopt;  // checked when set
  std::vector<std::string> absent_text = {};  // words the details must not hold anywhere (a key's echo)
  // The balances after the first, in order, for a provider that reads several (one per
  // currency). Only balance, currency, spend_total, details, absent_details and absent_text are read.
  std::vector<ExpectedReading> more_balances = {};
};

// The failure a case must produce.
struct ExpectedError {
  providers::ErrorKind kind = providers::ErrorKind::internal;
  long http_status = -1;                      // -1: not checked
  std::vector<std::string> message_has = {};  // substrings of the message
  std::optional<std::chrono::seconds> retry_after = std::nullopt;
  bool no_retry_after = false;  // an out-of-money answer must never say "retry later"
};

struct ConformanceCase {
  std::string name = "";
  Shape shape = Shape::other;
  std::vector<CannedAnswer> answers = {};
  std::optional<ExpectedReading> reading = std::nullopt;
  std::optional<ExpectedError> error = std::nullopt;
  std::string base_suffix = "";                        // appended to the case's base URL ("/v1")
  std::optional<std::string> currency = std::nullopt;  // the account's `currency`
  std::map<std::string, std::string> settings = {};    // provider keys for this case
  std::vector<std::string> requested_paths = {};       // the paths asked, in order, when checked
};

// A config the provider must refuse, with words its error must carry.
struct ConfigCase {
  std::string key;  // the api_key ("" for none)
  std::map<std::string, std::string> settings;
  std::string mentions;
};

// Checks a request as the vendor would before answering it (a signed request's signature,
// recomputed from what arrived). nullopt: the request passes and gets the case's canned
// answer; otherwise the answer the vendor gives a request it refuses.
using RequestCheck = std::function<std::optional<CannedAnswer>(const httplib::Request&)>;

struct ProviderConformance {
  std::string provider;
  std::string key;                                   // the api_key every case's account carries
  std::map<std::string, std::string> settings = {};  // provider keys every case needs
  std::string auth_header = "Authorization";  // "": no fixed header (a signature that changes per request)
  std::string auth_value;  // what every request must carry in auth_header
  std::vector<ConformanceCase> cases;
  std::vector<ConfigCase> config_cases = {};
  std::string method = "GET";           // the method every request must use
  RequestCheck check_request = nullptr;  // run on every request before the canned answer
};

// Serves every case's answers under its own prefix, probes each case once through the real
// curl client and checks its outcome, the requests it made and that the key never reached
// an error message. Fails the table if one of the required shapes has no case.
void run_conformance(const ProviderConformance& table);

// Builders that keep tables short.
inline CannedAnswer answer(std::string path, int status, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
  return CannedAnswer{std::move(path), status, std::move(body), "application/json", std::move(headers)};
}

inline ExpectedError error_of(providers::ErrorKind kind, long http_status = -1,
                              std::vector<std::string> message_has = {}) {
  return ExpectedError{kind, http_status, std::move(message_has), std::nullopt, false};
}

}  // namespace creditwatch::testing

namespace creditwatch::testing {

// The line `creditwatch providers` prints for `provider`, or "" when it lists none.
inline std::string providers_line(const std::string& provider) {
  auto r = run_creditwatch({"providers"});
  CHECK(r.exit_code == 0);
  std::size_t start = 0;
  while (start < r.out.size()) {
    const auto end = std::min(r.out.find('\n', start), r.out.size());
    const std::string line = r.out.substr(start, end - start);
    if (line.starts_with(provider + " ")) return line;
    start = end + 1;
  }
  return "";
}

}  // namespace creditwatch::testing
