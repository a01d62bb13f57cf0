// Cloudflare AI Gateway (unified billing credits):
// GET {base}/client/v4/accounts/{account_id}/ai-gateway/billing/credit-balance with an API
// token as Bearer.
//
// Confirmed against Cloudflare's API reference:
// - AI Gateway > Billing, https://developers.cloudflare.com/api/resources/ai_gateway/subresources/billing
//   and "Get credit balance" in its Go, Python and Node SDK pages
//   (.../billing/methods/credit_balance): GET /accounts/{account_id}/ai-gateway/billing/credit-balance,
//   "the current credit balance, payment method info, and top-up configuration"; API token
//   (`Authorization: Bearer`) needing AI Gateway Read or Write; the result is {balance (number),
//   has_default_payment_method, payment_method {brand, last4} or null, topup_config {amount,
//   disabledReason, error, lastFailedAt, threshold}, first_topup_success}. account_id is the
//   32-character account identifier.
// - Every Cloudflare v4 answer is the envelope {"success":bool,"errors":[{"code","message"}],
//   "messages":[],"result":...}. [UNCONFIRMED]: the exact error codes of this endpoint (a bad
//   token is 401/403 with code 10000 "Authentication error" across the v4 API, as Cloudflare's
//   clients see it; not re-read on a vendor page here). Also [UNCONFIRMED]: the
//   currency of `balance` is not named on the page; it is read as USD (AI Gateway's unified
//   billing is priced in dollars) unless the account's `currency` says otherwise.
// Where the reference differs: shared/reference/providers-2.md writes `Balance` and
// `TopupConfig` (the Go SDK's struct names); the JSON keys are `balance` and `topup_config`.
// Both spellings are read.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.cloudflare.com";

using Json = nlohmann::json;

// "10000 Authentication error" from the envelope's errors[]; "" when it has none.
std::string cloudflare_errors(const Json& body) {
  auto errors = body.find("errors");
  if (errors == body.end() || !errors->is_array()) return "";
  std::string text;
  for (const auto& e : *errors) {
    if (!e.is_object()) continue;
    std::string one;
    if (auto code = e.find("code"); code != e.end() && code->is_number_integer())
      one = std::to_string(code->get<long long>());
    if (auto m = e.find("message"); m != e.end() && m->is_string()) one += (one.empty() ? "" : " ") + m->get<std::string>();
    if (!one.empty()) text += (text.empty() ? "" : "; ") + one;
  }
  return message_text(text);
}

ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  if (body.is_object()) {
    if (auto said = cloudflare_errors(body); !said.empty()) e.message = message_text(e.message + ": " + said);
  }
  if (response.status == 404) e.message = message_text(e.message + " (check account_id)");
  return e;
}

const Json* field(const Json& object, const char* snake, const char* pascal) {
  for (const char* key : {snake, pascal}) {
    if (auto it = object.find(key); it != object.end()) return &*it;
  }
  return nullptr;
}

bool valid_account_id(const std::string& id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isxdigit(c); });
}

class CloudflareGateway final : public Provider {
public:
  CloudflareGateway(config::AccountConfig account, std::string account_id)
      : m_account(std::move(account)), m_account_id(std::move(account_id)),
        m_currency(m_account.currency.value_or("USD")) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(
        m_account, join_url(base(), "/client/v4/accounts/" + m_account_id + "/ai-gateway/billing/credit-balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto success = body.find("success");
    if (success != body.end() && *success == false) {
      const std::string said = cloudflare_errors(body);
      return ProbeError{ErrorKind::http_status,
                        message_text("HTTP 200 with success false" + (said.empty() ? "" : ": " + said)), 200,
                        std::nullopt};
    }
    auto found = required_object(body, "result");
    if (!found) return found.error();
    const Json& result = **found;
    const Json* balance_field = field(result, "balance", "Balance");
    if (!balance_field) return bad_response("result.balance: expected a number, got nothing");
    auto balance = amount(*balance_field);
    if (!balance) return bad_response("result.balance: expected a number, got " + describe(*balance_field));
    BalanceEntry entry{m_currency, *balance, std::nullopt, Json::object()};
    if (const Json* topup = field(result, "topup_config", "TopupConfig"); topup && topup->is_object()) {
      if (auto a = topup->find("amount"); a != topup->end() && amount(*a)) entry.details["topup_amount"] = amount(*a)->to_string();
      if (auto t = topup->find("threshold"); t != topup->end() && amount(*t))
        entry.details["topup_threshold"] = amount(*t)->to_string();
    }
    Reading reading;
    reading.available = *balance > Decimal();
    if (!reading.available) reading.unavailable_reason = "no AI Gateway credits left";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_account_id;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_cloudflare_gateway(const config::AccountConfig& account, const Clock&,
                                                  SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider cloudflare_gateway needs an API token (AI Gateway Read) in api_key or api_key_file");
  auto account_id = settings.required_string("account_id");
  if (account_id && !valid_account_id(*account_id))
    settings.error("account_id", "account_id: expected the 32 hexadecimal characters of a Cloudflare account ID");
  if (!settings.finish()) return nullptr;
  return std::make_unique<CloudflareGateway>(account, *account_id);
}

}  // namespace creditwatch::providers
