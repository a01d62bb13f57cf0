// Baidu AI Cloud (Qianfan bills here): the cash balance from the finance API,
// POST {base}/v1/finance/cash/balance, signed with BCE auth v1 (signing_baidu.cpp; headers host
// and x-bce-date) under an AccessKey pair: `access_key_id` in the settings, the Secret Access
// Key in api_key / api_key_file.
//
// Confirmed against Baidu's docs:
// - 账户余额查询, https://cloud.baidu.com/doc/Finance/s/Skhtyytwu: POST /v1/finance/cash/balance
//   on billing.baidubce.com, no parameters; 200 {"cashBalance": 850.0000} (a JSON number,
//   BigDecimal, yuan); an anonymous request gets 403 AccessDenied.
// - The authorization string, https://cloud.baidu.com/doc/Reference/s/njwvz1yfu:
//   bce-auth-v1/{ak}/{timestamp}/{expirationPeriodInSeconds}/{signedHeaders}/{signature}, the
//   timestamp UTC yyyy-mm-ddThh:mm:ssZ; host and x-bce-date are the headers worth signing.
// - Errors, https://intl.cloud.baidu.com/doc/Reference/s/Bjz3uz3qj-en: {"requestId","code",
//   "message"}; AccessDenied and InvalidAccessKeyId are 403s, InvalidHTTPAuthHeader 400,
//   InternalError 500. [UNCONFIRMED: the status of SignatureDoesNotMatch and RequestExpired
//   (400 in the BOS error list) and of a rate limit; 429 is read as one.]
//
// Baidu's cash balance is what pays for pay-as-you-go services; at zero or below they stop.
#include "builders.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/providers/cloud_signing.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://billing.baidubce.com";
constexpr const char* k_path = "/v1/finance/cash/balance";
constexpr int k_expiration_seconds = 1800;

using Json = nlohmann::json;

bool valid_access_key_id(const std::string& id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); });
}

std::optional<ErrorKind> kind_of_code(const std::string& code) {
  for (const char* name : {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidHTTPAuthHeader"}) {
    if (code == name) return ErrorKind::key_invalid;
  }
  if (code == "RequestLimitExceeded" || code == "TooManyRequests") return ErrorKind::rate_limited;
  return std::nullopt;
}

ProbeError from_baidu_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const auto body = Json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("code") || !body["code"].is_string()) return e;
  const std::string code = body["code"].get<std::string>();
  std::string status = "HTTP " + std::to_string(response.status);
  if (auto kind = kind_of_code(code)) {
    e.kind = *kind;
    status += *kind == ErrorKind::key_invalid ? " AccessKey rejected" : " rate limited";
    e.retry_after = *kind == ErrorKind::rate_limited ? response.retry_after() : std::nullopt;
  } else if (code == "RequestExpired") {
    status += " request time refused (check the system clock)";
  }
  const std::string said = provider_message(body);
  e.message = message_text(status + ": " + code + (said.empty() ? "" : ": " + said));
  return e;
}

class Baidu final : public Provider {
public:
  Baidu(config::AccountConfig account, std::string access_key_id, const Clock& clock)
      : m_account(std::move(account)), m_access_key_id(std::move(access_key_id)), m_clock(clock) {}

  ProbeResult probe(http::Client& client) override {
    const std::string url = join_url(base(), k_path);
    const std::string timestamp = format_rfc3339(m_clock.now());
    signing::RequestToSign to_sign{"POST", signing::path_of(url), {},
                                   {{"Host", signing::authority_of(url)}, {"x-bce-date", timestamp}}, "{}"};
    const auto signature = signing::baidu_sign(to_sign, m_access_key_id, m_account.api_key.reveal(), timestamp,
                                               k_expiration_seconds);
    auto request = make_request(m_account, url);
    request.method = "POST";
    request.body = to_sign.body;
    for (const auto& [name, value] : to_sign.headers) request.headers.push_back({name, value});
    request.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
    request.headers.push_back({"Authorization", signature.authorization});
    auto body = fetch_object(client, request, from_baidu_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto cash = required_amount(body, "cashBalance", "cashBalance");
    if (!cash) return cash.error();
    Reading reading;
    reading.available = *cash > Decimal();
    if (!reading.available) reading.unavailable_reason = "no cash balance left";
    reading.balances.push_back({m_account.currency.value_or("CNY"), *cash, std::nullopt, Json::object()});
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_access_key_id;
  const Clock& m_clock;
};

}  // namespace

std::unique_ptr<Provider> make_baidu(const config::AccountConfig& account, const Clock& clock, SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider baidu needs the Secret Access Key in api_key or api_key_file");
  auto access_key_id = settings.required_string("access_key_id");
  if (access_key_id && !valid_access_key_id(*access_key_id))
    settings.error("access_key_id", "access_key_id: expected letters and digits");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Baidu>(account, *access_key_id, clock);
}

}  // namespace creditwatch::providers
