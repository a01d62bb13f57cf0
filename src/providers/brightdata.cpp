// Bright Data: GET {base}/customer/balance with `Authorization: Bearer <API key>`.
//
// Confirmed against Bright Data's Account Management API, "Total Balance":
//   https://docs.brightdata.com/api-reference/account-management-api/Get_total_balance_through_API
//   (OpenAPI: servers https://api.brightdata.com, bearerAuth; 200 {"balance":456,
//   "pending_balance":123}, numbers; balance "the amount of money in your account",
//   pending_balance "the amount of money you will be billed for, as of this moment, in the
//   next billing cycle") and its authentication page (https://docs.brightdata.com/api-reference/authentication:
//   an API key per user, with a permission level; only Admin and Finance keys see billing).
// shared/reference/providers-2.md agrees. [UNCONFIRMED] The docs show no error body for this
// route (the sibling GET /status documents only "401 Auth method is not supported"), and no
// currency field: Bright Data bills in USD, so USD unless the account's `currency` says
// otherwise. Error statuses take the shared mapping; plain-text bodies are quoted safely.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.brightdata.com";

using Json = nlohmann::json;

class BrightData final : public Provider {
public:
  explicit BrightData(config::AccountConfig account)
      : m_account(std::move(account)), m_currency(m_account.currency.value_or("USD")) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/customer/balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto balance = required_amount(body, "balance", "balance");
    if (!balance) return balance.error();
    BalanceEntry entry{m_currency, *balance, std::nullopt, Json::object()};
    // What the next invoice will charge: shown beside the balance, not taken from it.
    copy_amounts(body, {"pending_balance"}, entry.details);
    Reading reading;
    reading.available = *balance > Decimal();
    if (!reading.available) reading.unavailable_reason = "no money left on the account";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_brightdata(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider brightdata needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<BrightData>(account);
}

}  // namespace creditwatch::providers
