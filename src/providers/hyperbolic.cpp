// Hyperbolic: GET {base}/billing/get_current_balance with `Authorization: Bearer <key>`.
//
// [UNCONFIRMED] Hyperbolic's public docs (docs.hyperbolic.xyz) do not document this route. It
// is implemented from the public code shared/reference/providers-2.md cites:
// - coinbase/agentkit, the Hyperbolic action provider (getCurrentBalance): GET
//   https://api.hyperbolic.xyz/billing/get_current_balance with Bearer auth and
//   Content-Type: application/json; the body's `credits` is divided by 100 to give USD;
//   its tests feed {"credits":10000} and expect "$100.00".
// - the elizaOS Hyperbolic plugin: the same URL (HYPERBOLIC_ENDPOINTS.production.balance)
//   and the same reading of `credits` as cents.
// One other client calls /v1/billing/get_current_balance; the route without /v1 is the one
// both cited sources use. No error body is documented anywhere: error statuses take the
// shared mapping (401/403 key, 402 out of money, 429, 5xx) and quote {"detail":...} or
// {"error":...} when one is sent.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.hyperbolic.xyz";
constexpr Decimal k_cents = Decimal::from_micros(10'000);  // 0.01: credits are US cents

using Json = nlohmann::json;

class Hyperbolic final : public Provider {
public:
  explicit Hyperbolic(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/billing/get_current_balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto cents = required_amount(body, "credits", "credits");
    if (!cents) return cents.error();
    const Decimal usd = cents->scaled(k_cents);
    BalanceEntry entry{"USD", usd, std::nullopt, Json::object()};
    entry.details["credits_cents"] = cents->to_string();
    Reading reading;
    reading.available = usd > Decimal();
    if (!reading.available) reading.unavailable_reason = "no credits left";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_hyperbolic(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider hyperbolic needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Hyperbolic>(account);
}

}  // namespace creditwatch::providers
