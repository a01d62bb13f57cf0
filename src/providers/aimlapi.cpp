// AI/ML API (aimlapi.com): GET {base}/v2/billing with the API key as Bearer; the balance in USD.
//
// Confirmed against AI/ML API's docs (docs.aimlapi.com, source aimlapi/api-docs on GitHub):
// - Account Balance, https://docs.aimlapi.com/api-references/service-endpoints/account-balance
//   and its OpenAPI docs/api-references/service-endpoints/billing-v2.json: GET
//   https://api.aimlapi.com/v2/billing, `Authorization: Bearer <key>`, 200
//   {"current_balance":123.45,"currency":"USD"}: "current user balance in USD", currency
//   "always USD". The legacy GET /v1/billing/balance answers {"balance":551564495,
//   "lowBalance":false,"lowBalanceThreshold":10000,...} in credits.
// - How can I track my funds?, https://docs.aimlapi.com/faq/how-can-i-track-my-funds:
//   $1 USD = 2,000,000 credits.
// - Errors with status code 4xx, https://docs.aimlapi.com/errors-and-messages/errors-with-status-code-4xx:
//   401 "This request requires a valid API key..."; 403 "You've run out of credits. Please top
//   up your balance..." (authenticated but not allowed, e.g. no credits); 429 "Too Many Requests".
// Where the reference differs: shared/reference/providers-2.md gives /v2/billing with
// `balance` in credits; the vendor's current page gives /v2/billing with `current_balance` in
// USD (credits belong to the legacy v1 path). The vendor wins, and USD is kept: it is what the
// endpoint reports, so balances, burn and top-up advice read in money without a conversion
// factor that the vendor may change. A 403 is out of money only when it says so; otherwise it
// is a key that may not read billing.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.aimlapi.com";

using Json = nlohmann::json;

ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  if (response.status != 403) return e;
  const std::string said = lower_ascii(provider_message(response));
  if (said.find("out of credits") != std::string::npos || said.find("top up") != std::string::npos) {
    e.kind = ErrorKind::exhausted;
    e.message = message_text("HTTP 403 out of credits: " + provider_message(response));
  }
  return e;
}

class AimlApi final : public Provider {
public:
  explicit AimlApi(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v2/billing"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto balance = required_amount(body, "current_balance", "current_balance");
    if (!balance) return balance.error();
    Reading reading;
    reading.available = *balance > Decimal();
    if (!reading.available) reading.unavailable_reason = "no balance left";
    reading.balances.push_back({currency_of(body), *balance, std::nullopt, Json::object()});
    return reading;
  }

  // "USD" (always, per the docs); the account's `currency` when the body has none.
  std::string currency_of(const Json& body) const {
    auto it = body.find("currency");
    if (it == body.end() || !it->is_string() || it->get<std::string>().empty())
      return m_account.currency.value_or("USD");
    std::string code = it->get<std::string>();
    for (auto& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return message_text(code);
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_aimlapi(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider aimlapi needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<AimlApi>(account);
}

}  // namespace creditwatch::providers
