// StepFun (阶跃星辰): GET {base}/v1/accounts with `Authorization: Bearer <key>`.
//
// Confirmed against StepFun's docs:
// - Accounts, https://platform.stepfun.com/docs/zh/api-reference/accounts/get:
//   GET https://api.stepfun.com/v1/accounts, no parameters; body {object:"account",
//   type:"prepaid"|"postpaid", balance (the available balance), total_cash_balance (all money
//   topped up), total_voucher_balance (all vouchers granted)}, numbers.
// - Errors, https://platform.stepfun.com/docs/zh/guide/exception: 401 invalid key, 402 balance
//   too low, 429 rate limit, 5xx server side; the body is {"error":{"message","type"}}.
// shared/reference/providers-2.md agrees. The body names no currency: the platform bills in
// CNY, so CNY unless the account's `currency` says otherwise.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.stepfun.com";

using Json = nlohmann::json;

class StepFun final : public Provider {
public:
  explicit StepFun(config::AccountConfig account)
      : m_account(std::move(account)), m_currency(m_account.currency.value_or("CNY")) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/accounts"));
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
    copy_amounts(body, {"total_cash_balance", "total_voucher_balance"}, entry.details);
    const bool postpaid = body.contains("type") && body["type"] == "postpaid";
    if (body.contains("type") && body["type"].is_string())
      entry.details["type"] = message_text(body["type"].get<std::string>());
    Reading reading;
    // A postpaid account is billed afterwards: an empty balance does not stop it.
    reading.available = postpaid || *balance > Decimal();
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_stepfun(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider stepfun needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<StepFun>(account);
}

}  // namespace creditwatch::providers
