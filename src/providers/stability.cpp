// Stability AI: GET {base}/v1/user/balance with the API key as Bearer; the unit is credits.
//
// Confirmed against Stability's v1 REST API reference (platform.stability.ai/docs/api-reference,
// "v1/user" > "balance", as mirrored in the apifox copy of the same OpenAPI:
// https://apifox.com/apidoc/docs-site/3757851/api-133524603): GET /v1/user/balance "Get the
// credit balance of the account/organization associated with the API key", optional
// Organization header, 200 {"credits":0.6336833840314097} (a number), 401 and 500 documented.
// Stability's error body is {"id":...,"name":"unauthorized","message":...}; an empty wallet is
// refused at generation time with 402 "payment_required" ([UNCONFIRMED] for this endpoint, it is
// read through the shared mapping). The body counts credits, not money (their price in USD was
// not confirmed here), so the unit is `credits` unless the account's `currency` renames it.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.stability.ai";

using Json = nlohmann::json;

class Stability final : public Provider {
public:
  explicit Stability(config::AccountConfig account)
      : m_account(std::move(account)), m_unit(m_account.currency.value_or("credits")) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/user/balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request);
    if (!body) return body.error();
    auto credits = required_amount(*body, "credits", "credits");
    if (!credits) return credits.error();
    Reading reading;
    reading.available = *credits > Decimal();
    if (!reading.available) reading.unavailable_reason = "no credits left";
    reading.balances.push_back({m_unit, *credits, std::nullopt, Json::object()});
    return reading;
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  config::AccountConfig m_account;
  std::string m_unit;
};

}  // namespace

std::unique_ptr<Provider> make_stability(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider stability needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Stability>(account);
}

}  // namespace creditwatch::providers
