// ZenMux (router): GET {base}/api/v1/management/payg/balance with a Management API key as Bearer.
//
// Confirmed against ZenMux's docs:
// - Get PAYG Balance, https://docs.zenmux.ai/api/platform/payg-balance.html (and the /zh/ page):
//   GET https://zenmux.ai/api/v1/management/payg/balance, `Authorization: Bearer
//   <ZENMUX_MANAGEMENT_API_KEY>`, management keys only (a standard API key is refused); body
//   {"success":true,"data":{"currency":"usd","total_credits":482.74,"top_up_credits":35.00,
//   "bonus_credits":447.74}}, numbers in USD ("1 credit = 1 USD" on the Pay As You Go guide),
//   total_credits = top_up_credits + bonus_credits; each endpoint has a per-minute cap and
//   going over it answers **422**.
// - API Error Codes, https://docs.zenmux.ai/guide/advanced/error-codes.html: errors are
//   {"error":{"code":"<status as a string>","type":...,"message":...}}; 402 insufficient_credit
//   (account overdue), reject_no_credit (insufficient balance), quote_exceeded (subscription
//   quota used up); 403 access_denied (invalid or missing key); 429 rate_limit.
// shared/reference/providers.md 7.5 agrees. The docs do not say whether the management API
// sends Retry-After with its 422; it is honoured when present.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://zenmux.ai";

using Json = nlohmann::json;

// The management API's per-minute cap answers 422, not 429: a rate limit all the same.
ProbeError from_error_status(const http::Response& response) {
  if (response.status != 422) return from_status(response);
  const std::string said = provider_message(response);
  return ProbeError{ErrorKind::rate_limited,
                    message_text("HTTP 422 rate limited (management API per-minute cap)" +
                                 (said.empty() ? "" : ": " + said)),
                    422, response.retry_after()};
}

class ZenMux final : public Provider {
public:
  explicit ZenMux(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/api/v1/management/payg/balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    if (auto ok = body.find("success"); ok != body.end() && *ok == false) {
      const std::string said = provider_message(body);
      return ProbeError{ErrorKind::http_status,
                        message_text("HTTP 200 with success false" + (said.empty() ? "" : ": " + said)), 200,
                        std::nullopt};
    }
    auto found = required_object(body, "data");
    if (!found) return found.error();
    const Json* data = *found;
    auto total = required_amount(*data, "total_credits", "data.total_credits");
    if (!total) return total.error();
    BalanceEntry entry{currency_of(*data), *total, std::nullopt, Json::object()};
    copy_amounts(*data, {"top_up_credits", "bonus_credits"}, entry.details);
    Reading reading;
    reading.available = *total > Decimal();
    if (!reading.available) reading.unavailable_reason = "no PAYG credits left";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  // "usd" in the body, as an ISO code; the account's `currency` when the body has none.
  std::string currency_of(const Json& data) const {
    auto it = data.find("currency");
    if (it != data.end() && it->is_string() && !it->get<std::string>().empty()) {
      std::string code = it->get<std::string>();
      for (auto& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return message_text(code);
    }
    return m_account.currency.value_or("USD");
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_zenmux(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider zenmux needs api_key or api_key_file (a Management API key)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<ZenMux>(account);
}

}  // namespace creditwatch::providers
