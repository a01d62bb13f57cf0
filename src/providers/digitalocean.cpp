// DigitalOcean: GET {base}/v2/customers/my/balance with `Authorization: Bearer <token>`
// (a token with the billing:read scope).
//
// Confirmed against DigitalOcean's docs:
// - Get customer balance, https://docs.digitalocean.com/reference/dots/reference/billing/balance-get/
//   (and pydo balance.get, doctl balance get): GET /v2/customers/my/balance; 200
//   {"month_to_date_balance":"23.44","account_balance":"12.23","month_to_date_usage":"11.21",
//   "generated_at":"2019-07-09T15:01:12Z"}, decimal strings in USD. doctl: month_to_date_balance
//   is "your month-to-date balance including your account balance and month-to-date usage",
//   account_balance "your current overall balance as of your most recent billing activity"
//   (23.44 = 12.23 + 11.21 in the example).
// - The sign: these are what the account OWES. A credit (promo credit, a PayPal pre-payment)
//   shows as a negative balance (DigitalOcean staff on its community Q&A: a negative "You
//   owe" is credit left). Accounts are invoiced on the 1st; card accounts are charged then,
//   pre-paid ones past due once their credit is gone (docs.digitalocean.com/platform/billing/late-payments).
// - Errors: JSON {"id":"unauthorized","message":"Unable to authenticate you"}; 429
//   {"id":"too_many_requests",...}; 5xx server side (DigitalOcean API reference, "Errors").
// shared/reference/providers.md §9.3 agrees on path, auth and fields and says nothing of
// their sign.
//
// Decision: the balance is the credit left, -month_to_date_balance (this month's usage so far
// counted), so it falls as resources run and reaches zero when the credit is used up. A
// card-billed account (`postpaid: true`) is never unavailable for owing money; a prepaid one
// is unavailable once nothing is left.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.digitalocean.com";

using Json = nlohmann::json;

class DigitalOcean final : public Provider {
public:
  DigitalOcean(config::AccountConfig account, bool postpaid)
      : m_account(std::move(account)), m_postpaid(postpaid), m_currency(m_account.currency.value_or("USD")) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v2/customers/my/balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto owed = required_amount(body, "month_to_date_balance", "month_to_date_balance");
    if (!owed) return owed.error();
    const Decimal credit_left = -*owed;
    BalanceEntry entry{m_currency, credit_left, std::nullopt, Json::object()};
    // As DigitalOcean reports them: positive is owed, negative is credit.
    copy_amounts(body, {"month_to_date_balance", "account_balance", "month_to_date_usage"}, entry.details);
    if (auto it = body.find("generated_at"); it != body.end() && it->is_string())
      entry.details["generated_at"] = message_text(it->get<std::string>());
    // The alert rules read this: a zero or negative balance of a postpaid account is no page.
    if (m_postpaid) entry.details["postpaid"] = true;
    Reading reading;
    reading.available = m_postpaid || credit_left > Decimal();
    if (!reading.available) reading.unavailable_reason = "no credit left: this month's usage is owed";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  bool m_postpaid;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_digitalocean(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider digitalocean needs a token with billing:read in api_key or api_key_file");
  const bool postpaid = settings.boolean("postpaid").value_or(false);
  if (!settings.finish()) return nullptr;
  return std::make_unique<DigitalOcean>(account, postpaid);
}

}  // namespace creditwatch::providers
