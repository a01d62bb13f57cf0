// ClickSend: GET {base}/v3/account with HTTP basic auth `username:api_key`.
//
// Confirmed against ClickSend's docs, https://developers.clicksend.com/docs/rest/v3: base URL
// https://rest.clicksend.com/v3/, basic auth with the API username and the API key; every
// answer is an envelope {http_code, response_code, response_msg, data}; status codes 200
// SUCCESS, 400 BAD_REQUEST, 401 UNAUTHORIZED, 403 FORBIDDEN, 404 NOT_FOUND, 429
// TOO_MANY_REQUESTS, 500 INTERNAL_SERVER_ERROR. GET /account "Get account information" is in
// ClickSend's official clients (ClickSend/clicksend-java docs/AccountApi.md).
// [UNCONFIRMED] The account fields: the vendor page for /account was not in a stored copy.
// Taken from a public client (NangoHQ/integration-templates integrations/clicksend/types.ts,
// which links developers.clicksend.com/docs/accounts/management/other/view-account-details):
// data.balance (a string), data._currency {currency_name_short, ...}, data.active and
// data.banned (0/1). ClickSend's own SMS examples spell the currency object both `currency`
// and `_currency`, so both are read. shared/reference/providers-2.md said "currency object"
// without a name. The envelope's response_code other than SUCCESS on a 200 is an error, and
// INSUFFICIENT_CREDIT (ClickSend's out-of-credit code on sends) is out of money wherever seen.
// Personal fields (email, phone, names) are never copied.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://rest.clicksend.com";

using Json = nlohmann::json;

// A username goes into basic auth before the colon: printable, no spaces or colons.
bool valid_username(const std::string& name) {
  return !name.empty() && name.size() <= 200 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isgraph(c) && c != ':'; });
}

std::string envelope_text(const Json& body, const char* key) {
  auto it = body.is_object() ? body.find(key) : body.end();
  return it != body.end() && it->is_string() ? message_text(it->get<std::string>()) : "";
}

ProbeError out_of_credit(long status, const std::string& said) {
  return ProbeError{ErrorKind::exhausted, message_text("HTTP " + std::to_string(status) + " out of credit: " + said),
                    status, std::nullopt};
}

// The envelope's response_code and response_msg give the reason behind a status.
ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  const std::string code = envelope_text(body, "response_code");
  const std::string said = envelope_text(body, "response_msg");
  if (code == "INSUFFICIENT_CREDIT") return out_of_credit(response.status, said);
  if (provider_message(response).empty() && !(code + said).empty())
    e.message = message_text(e.message + ": " + code + (said.empty() ? "" : " " + said));
  return e;
}

class ClickSend final : public Provider {
public:
  ClickSend(config::AccountConfig account, std::string username)
      : m_account(std::move(account)), m_username(std::move(username)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v3/account"));
    request.basic_auth = m_username + ":" + m_account.api_key.reveal();
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    return read(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult read(const Json& body) const {
    const std::string code = envelope_text(body, "response_code");
    if (code == "INSUFFICIENT_CREDIT") return out_of_credit(200, envelope_text(body, "response_msg"));
    if (!code.empty() && code != "SUCCESS") {
      return ProbeError{ErrorKind::http_status,
                        message_text("HTTP 200 with " + code + ": " + envelope_text(body, "response_msg")), 200,
                        std::nullopt};
    }
    auto data = required_object(body, "data");
    if (!data) return data.error();
    return parse(**data);
  }

  ProbeResult parse(const Json& data) const {
    auto balance = required_amount(data, "balance", "data.balance");
    if (!balance) return balance.error();
    BalanceEntry entry{currency_of(data), *balance, std::nullopt, Json::object()};
    copy_amounts(data, {"low_credit_amount", "auto_recharge_amount"}, entry.details);
    const bool banned = flag(data, "banned").value_or(false);
    const bool active = flag(data, "active").value_or(true);
    Reading reading;
    reading.available = *balance > Decimal() && active && !banned;
    if (banned) reading.unavailable_reason = "account banned";
    else if (!active) reading.unavailable_reason = "account not active";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  // ClickSend sends 0/1 (sometimes as strings) for its flags.
  static std::optional<bool> flag(const Json& data, const char* key) {
    auto it = data.find(key);
    if (it == data.end()) return std::nullopt;
    if (it->is_boolean()) return it->get<bool>();
    if (auto n = amount(*it)) return *n != Decimal();
    return std::nullopt;
  }

  // currency_name_short of `_currency` (or `currency`); the account's `currency`, else USD.
  std::string currency_of(const Json& data) const {
    for (const char* key : {"_currency", "currency"}) {
      auto it = data.find(key);
      if (it == data.end() || !it->is_object()) continue;
      auto name = it->find("currency_name_short");
      if (name != it->end() && name->is_string() && !name->get<std::string>().empty())
        return message_text(name->get<std::string>());
    }
    return m_account.currency.value_or("USD");
  }

  config::AccountConfig m_account;
  std::string m_username;
};

}  // namespace

std::unique_ptr<Provider> make_clicksend(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider clicksend needs the API key in api_key or api_key_file");
  auto username = settings.required_string("username");
  if (username && !valid_username(*username))
    settings.error("username", "username: expected the ClickSend API username (printable, no spaces or colons)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<ClickSend>(account, *username);
}

}  // namespace creditwatch::providers
