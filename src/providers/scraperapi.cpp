// ScraperAPI: GET {base}/account?api_key=<key>, a free call that counts requests, not money.
//
// Confirmed against ScraperAPI's docs:
// - Account Information, https://docs.scraperapi.com/account-information: GET
//   http://api.scraperapi.com/account?api_key=API_KEY returns JSON with the account's usage and
//   limits; requestCount and failedRequestCount refresh once every 15 seconds,
//   concurrentRequests is live. (The Ruby page uses https://api.scraperapi.com: https here.)
// - API Status Codes, https://docs.scraperapi.com/responses-and-formats/api-status-codes: 200
//   success, 500 failed after 70 s of retries, 429 over the concurrency limit, 403 the
//   account's API credits are used up, 401 a key that is not valid; error bodies are plain text.
// shared/reference/providers-2.md agrees on path, query parameter and fields. [UNCONFIRMED] The
// docs print no example body: requestLimit, concurrencyLimit and subscriptionDate are the
// names ScraperAPI's own SDKs and dashboards show beside requestCount; 401/403 wording from
// the status code page's tabs as far as the stored copy shows them.
//
// What is left is requestLimit - requestCount, in the unit `requests` (the account's
// `currency` can rename it). The key travels in the URL, so every message is scrubbed of it.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.scraperapi.com";

using Json = nlohmann::json;

// ScraperAPI answers errors in plain text: quote it when the body is not JSON.
std::string said_in(const http::Response& response) {
  const std::string json_said = provider_message(response);
  return json_said.empty() ? message_text(safe_text(response.body, LineBreaks::fold)) : json_said;
}

// 403 is ScraperAPI's "credits used up": out of money, never retried.
ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const std::string said = said_in(response);
  if (response.status == 403) {
    e.kind = ErrorKind::exhausted;
    e.retry_after.reset();
    e.message = message_text("HTTP 403 API credits used up" + (said.empty() ? "" : ": " + said));
  } else if (provider_message(response).empty() && !said.empty()) {
    e.message = message_text(e.message + ": " + said);
  }
  return e;
}

class ScraperApi final : public Provider {
public:
  explicit ScraperApi(config::AccountConfig account)
      : m_account(std::move(account)), m_unit(m_account.currency.value_or("requests")) {}

  ProbeResult probe(http::Client& client) override {
    const std::string key = m_account.api_key.reveal();
    auto request = make_request(m_account, join_url(base(), "/account") + "?api_key=" + percent_encode(key));
    auto body = fetch_object(client, request, from_error_status);
    ProbeResult result = body ? parse(*body) : ProbeResult(body.error());
    if (!result) result.error().message = redact(result.error().message, {key, percent_encode(key)});
    return result;
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto limit = required_amount(body, "requestLimit", "requestLimit");
    if (!limit) return limit.error();
    auto used = required_amount(body, "requestCount", "requestCount");
    if (!used) return used.error();
    const Decimal left = *limit - *used;
    BalanceEntry entry{m_unit, left, std::nullopt, Json::object()};
    copy_amounts(body, {"requestLimit", "requestCount", "failedRequestCount", "concurrentRequests", "concurrencyLimit"},
                 entry.details);
    if (auto it = body.find("subscriptionDate"); it != body.end() && it->is_string())
      entry.details["subscriptionDate"] = message_text(it->get<std::string>());
    Reading reading;
    reading.available = left > Decimal();
    if (!reading.available) reading.unavailable_reason = "request limit reached";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_unit;
};

}  // namespace

std::unique_ptr<Provider> make_scraperapi(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider scraperapi needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<ScraperApi>(account);
}

}  // namespace creditwatch::providers
