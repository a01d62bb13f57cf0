// Plivo: GET {base}/v1/Account/{auth_id}/ with HTTP basic auth auth_id:auth_token.
//
// Confirmed against Plivo's docs:
// - Retrieve account details, https://www.plivo.com/docs/account-api/api-reference/account/retrieve-account-details/
//   (GET https://api.plivo.com/v1/Account/{auth_id}/, no arguments) and the Account object,
//   https://www.plivo.com/docs/account/api/account/the-account-object/: cash_credits is a
//   string, "Credits of the account in USD"; billing_mode prepaid or postpaid; auto_recharge.
// - API responses, https://docs.plivo.com/docs/account/api/response: JSON with an api_id;
//   401 authentication failed, 404 not found, 429 rate limited, 500 server error.
// shared/reference/providers-2.md (tagged CODE from plivo-dotnet) agrees with the vendor.
// Plivo says calls and messages stop when the balance reaches zero (support.plivo.com,
// "How can I recharge my account?").
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.plivo.com";

using Json = nlohmann::json;

bool valid_auth_id(const std::string& id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); });
}

class Plivo final : public Provider {
public:
  Plivo(config::AccountConfig account, std::string auth_id)
      : m_account(std::move(account)), m_auth_id(std::move(auth_id)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/Account/" + m_auth_id + "/"));
    request.basic_auth = m_auth_id + ":" + m_account.api_key.reveal();
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  static ProbeError from_error_status(const http::Response& response) {
    ProbeError e = from_status(response);
    if (response.status == 404) e.message = message_text(e.message + " (check auth_id)");
    return e;
  }

  ProbeResult parse(const Json& body) const {
    auto credits = required_amount(body, "cash_credits", "cash_credits");
    if (!credits) return credits.error();
    BalanceEntry entry{m_account.currency.value_or("USD"), *credits, std::nullopt, Json::object()};
    for (const char* part : {"billing_mode", "account_type"}) {
      if (auto it = body.find(part); it != body.end() && it->is_string())
        entry.details[part] = message_text(it->get<std::string>());
    }
    if (auto it = body.find("auto_recharge"); it != body.end() && it->is_boolean())
      entry.details["auto_recharge"] = *it;
    const bool postpaid = body.contains("billing_mode") && body["billing_mode"] == "postpaid";
    Reading reading;
    // A prepaid account stops calling and messaging at zero; a postpaid one is billed later.
    reading.available = postpaid || *credits > Decimal();
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_auth_id;
};

}  // namespace

std::unique_ptr<Provider> make_plivo(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider plivo needs the auth token in api_key or api_key_file");
  auto auth_id = settings.required_string("auth_id");
  if (auth_id && !valid_auth_id(*auth_id))
    settings.error("auth_id", "auth_id: expected letters and digits (MA... or SA...)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Plivo>(account, *auth_id);
}

}  // namespace creditwatch::providers
