// Twilio: GET {base}/2010-04-01/Accounts/{account_sid}/Balance.json with HTTP basic auth
// (shapes in shared/reference/providers.md section 9.1).
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.twilio.com";

using Json = nlohmann::json;

bool valid_sid(const std::string& sid) {
  return !sid.empty() && std::all_of(sid.begin(), sid.end(), [](unsigned char c) { return std::isalnum(c); });
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

class Twilio final : public Provider {
public:
  // `user` is the basic-auth user: the account SID with its auth token, or an API key SID
  // with that key's secret. Either way the secret is the account's api_key.
  Twilio(config::AccountConfig account, std::string sid, std::string user)
      : m_account(std::move(account)), m_sid(std::move(sid)), m_user(std::move(user)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/2010-04-01/Accounts/" + m_sid + "/Balance.json"));
    request.basic_auth = m_user + ":" + m_account.api_key.reveal();
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_error_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  static ProbeError from_error_status(const http::Response& response) {
    ProbeError e = from_status(response);
    if (response.status == 404) e.message += " (check account_sid; subaccounts have no balance)";
    return e;
  }

  static ProbeResult parse(const Json& body) {
    auto balance = required_amount(body, "balance", "balance");
    if (!balance) return balance.error();
    auto currency = body.find("currency");
    if (currency == body.end()) return bad_response("currency is missing");
    if (!currency->is_string() || currency->get<std::string>().empty()) {
      return bad_response("currency: expected a currency code, got " + describe(*currency));
    }
    BalanceEntry entry{upper(*currency), *balance, std::nullopt, Json::object()};
    if (auto sid = body.find("account_sid"); sid != body.end() && sid->is_string()) entry.details["account_sid"] = *sid;
    Reading reading;
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_sid;
  std::string m_user;
};

}  // namespace

std::unique_ptr<Provider> make_twilio(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) {
    settings.error("api_key", "provider twilio needs the auth token (or API key secret) in api_key or api_key_file");
  }
  auto sid = settings.required_string("account_sid");
  if (sid && !valid_sid(*sid)) settings.error("account_sid", "account_sid: expected letters and digits (AC...)");
  auto key_sid = settings.string("key_sid");
  if (key_sid && !valid_sid(*key_sid)) settings.error("key_sid", "key_sid: expected letters and digits (SK...)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Twilio>(account, *sid, key_sid.value_or(*sid));
}

}  // namespace creditwatch::providers
