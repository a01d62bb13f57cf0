// Vercel AI Gateway: GET {base}/v1/credits with the AI Gateway API key (or an OIDC token) as
// Bearer.
//
// Confirmed against Vercel's docs:
// - Usage & Billing, https://vercel.com/docs/ai-gateway/usage (now also
//   /docs/ai-gateway/observability-and-spend/usage): base https://ai-gateway.vercel.sh/v1,
//   GET /credits "returns the team's remaining credit balance and lifetime spend", sample
//   {"balance":"95.50","total_used":"4.50"} (decimal strings): balance is the remaining credit,
//   total_used the total amount used. The dashboard calls them "AI Gateway Credits" priced
//   in USD.
// - Error words: the AI SDK's gateway provider (@ai-sdk/gateway, GatewayAuthenticationError)
//   reads 401 {"error":{"message":...,"type":"authentication_error"}}; other error bodies of
//   /v1/credits are [UNCONFIRMED] and go through the shared status mapping (402 out of money,
//   429 with Retry-After).
// shared/reference/providers-2.md agrees on path, auth and fields. total_used only grows, so
// it is the spend counter: a top-up never looks like negative burn.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://ai-gateway.vercel.sh";

using Json = nlohmann::json;

class VercelGateway final : public Provider {
public:
  explicit VercelGateway(config::AccountConfig account)
      : m_account(std::move(account)), m_currency(m_account.currency.value_or("USD")) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/credits"));
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
    auto used = required_amount(body, "total_used", "total_used");
    if (!used) return used.error();
    Reading reading;
    reading.available = *balance > Decimal();
    if (!reading.available) reading.unavailable_reason = "no AI Gateway credits left";
    reading.balances.push_back({m_currency, *balance, *used, Json::object()});
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_vercel_gateway(const config::AccountConfig& account, const Clock&,
                                              SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider vercel_gateway needs api_key or api_key_file (an AI Gateway API key)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<VercelGateway>(account);
}

}  // namespace creditwatch::providers
