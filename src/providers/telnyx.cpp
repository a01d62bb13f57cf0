// Telnyx: GET {base}/v2/balance with `Authorization: Bearer <API key>`.
//
// Confirmed against Telnyx's API reference, "Get user balance details":
//   https://developers.telnyx.com/api-reference/billing (OpenAPI: servers https://api.telnyx.com/v2,
//   bearerAuth; 200 {"data":{"record_type":"balance","pending":"10.00","balance":"300.00",
//   "credit_limit":"100.00","available_credit":"400.00","currency":"USD"}}; 403, 422, 503)
// and its first-request guide (https://developers.telnyx.com/docs/development/api-fundamentals/first-api-request):
// amounts are decimal strings, 401 means a missing or invalid key, 403 a key that may not read
// billing. Errors are {"errors":[{"code":"10009","title":"Authentication failed","detail":...}]}
// (https://developers.telnyx.com/development/api-fundamentals/api-errors).
// shared/reference/providers-2.md agrees on path, auth and fields.
//
// The balance is `balance` (the money on the account); `available_credit` (balance plus the
// credit line) decides whether the account can still place calls and send messages.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.telnyx.com";

using Json = nlohmann::json;

// "Authentication failed: The required authentication headers were ..." from Telnyx's
// {"errors":[{title, detail}]}; "" when the body has no such list.
std::string telnyx_message(const http::Response& response) {
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  if (!body.is_object() || !body.contains("errors") || !body["errors"].is_array() || body["errors"].empty()) return "";
  const auto& first = body["errors"][0];
  if (!first.is_object()) return "";
  std::string text;
  for (const char* part : {"title", "detail"}) {
    auto it = first.find(part);
    if (it == first.end() || !it->is_string()) continue;
    text += (text.empty() ? "" : ": ") + it->get<std::string>();
  }
  return message_text(text);
}

ProbeError from_telnyx_status(const http::Response& response) {
  ProbeError e = from_status(response);
  if (provider_message(response).empty()) {
    if (auto said = telnyx_message(response); !said.empty()) e.message = message_text(e.message + ": " + said);
  }
  return e;
}

class Telnyx final : public Provider {
public:
  explicit Telnyx(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v2/balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request, from_telnyx_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto found = required_object(body, "data");
    if (!found) return found.error();
    const Json* data = *found;
    auto balance = required_amount(*data, "balance", "data.balance");
    if (!balance) return balance.error();
    BalanceEntry entry{currency_of(*data), *balance, std::nullopt, Json::object()};
    copy_amounts(*data, {"available_credit", "credit_limit", "pending"}, entry.details);
    Reading reading;
    // Without the credit line field, the balance alone says whether anything is left.
    auto available = data->contains("available_credit") ? amount((*data)["available_credit"]) : std::nullopt;
    reading.available = available.value_or(*balance) > Decimal();
    if (!reading.available) reading.unavailable_reason = "no available credit left";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  // The body's ISO 4217 code; the account's `currency` when the body has none.
  std::string currency_of(const Json& data) const {
    auto it = data.find("currency");
    if (it != data.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
    return m_account.currency.value_or("USD");
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_telnyx(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider telnyx needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Telnyx>(account);
}

}  // namespace creditwatch::providers
