// Novita AI: GET {base}/openapi/v1/billing/balance/detail (shapes in
// shared/reference/providers.md sections 0 and 7.1).
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.novita.ai";
// Every amount is a count of 1/10000 USD: "10000" is $1.00.
constexpr Decimal k_unit = Decimal::from_micros(100);

using Json = nlohmann::json;

class Novita final : public Provider {
public:
  explicit Novita(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/openapi/v1/billing/balance/detail"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    request.headers.push_back({"Content-Type", "application/json"});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  static ProbeResult parse(const Json& body) {
    // availableBalance is what can still be spent: cash plus the credit limit.
    auto available = required_amount(body, "availableBalance", "availableBalance");
    if (!available) return available.error();
    BalanceEntry entry{"USD", available->scaled(k_unit), std::nullopt, Json::object()};
    for (const char* part : {"cashBalance", "creditLimit", "pendingCharges", "outstandingInvoices"}) {
      if (auto value = body.contains(part) ? amount(body[part]) : std::nullopt) {
        entry.details[part] = value->scaled(k_unit).to_string();
      }
    }
    Reading reading;
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_novita(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider novita needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Novita>(account);
}

}  // namespace creditwatch::providers
