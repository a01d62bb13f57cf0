// fal.ai: GET {base}/v1/account/billing?expand=credits with `Authorization: Key <admin key>`.
//
// Confirmed against fal's docs:
// - Account Billing, https://fal.ai/docs/platform-apis/v1/account/billing (OpenAPI server
//   https://api.fal.ai/v1, operation getAccountBilling): the Authorization header is the key
//   prefixed with "Key " ("Admin API key must be prefixed with \"Key \""); `expand=credits`
//   adds {"credits":{"current_balance":24.5,"currency":"USD"}} beside "username"; without it
//   there is no credits block.
// - FAQ, https://fal.ai/docs/model-apis/faq: once the balance drops below the account's lock
//   threshold the account is locked and requests are rejected; enterprise invoice billing is
//   never locked.
// Error bodies: fal answers with {"detail": ...}; a locked account is 403 "User is locked.
// Reason: Exhausted balance..." (public reports quoted in wavespeed.ai's write-up, 2026-11-22;
// [UNCONFIRMED] on fal's own pages), which is out of money here. Any other 403 is a key without
// the billing permission (CodexBar docs/fal.md: an inference-only key gets 403; the BILLING,
// READONLY and FULL presets can read it). shared/reference/providers-2.md agrees on path, auth
// and fields. The username is not copied: it names the account, and the reading does not need it.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.fal.ai";

using Json = nlohmann::json;

ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  if (response.status != 403) return e;
  const std::string said = provider_message(response);
  if (lower_ascii(said).find("exhausted balance") != std::string::npos) {
    e.kind = ErrorKind::exhausted;
    e.message = message_text("HTTP 403 account locked, balance exhausted: " + said);
  } else {
    e.message = message_text(e.message + " (the key needs billing read access: an ADMIN key)");
  }
  return e;
}

class Fal final : public Provider {
public:
  explicit Fal(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/account/billing") + "?expand=credits");
    request.headers.push_back({"Authorization", "Key " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto found = required_object(body, "credits");
    if (!found) return found.error();
    auto balance = required_amount(**found, "current_balance", "credits.current_balance");
    if (!balance) return balance.error();
    Reading reading;
    reading.available = *balance > Decimal();
    if (!reading.available) reading.unavailable_reason = "no credits left";
    reading.balances.push_back({currency_of(**found), *balance, std::nullopt, Json::object()});
    return reading;
  }

  std::string currency_of(const Json& credits) const {
    auto it = credits.find("currency");
    if (it == credits.end() || !it->is_string() || it->get<std::string>().empty())
      return m_account.currency.value_or("USD");
    std::string code = it->get<std::string>();
    for (auto& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return message_text(code);
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_fal(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider fal needs api_key or api_key_file (an ADMIN key with billing read access)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Fal>(account);
}

}  // namespace creditwatch::providers
