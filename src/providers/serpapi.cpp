// SerpApi: GET {base}/account.json?api_key=<key>, a free call that counts searches, not money.
//
// Confirmed against SerpApi's docs:
// - Account API, https://serpapi.com/account-api: GET https://serpapi.com/account.json with the
//   private key as the `api_key` query parameter; free and not counted toward the quota; body
//   with plan_searches_left, extra_credits, total_searches_left, this_month_usage,
//   searches_per_month, plan_renewal_date (null without a monthly plan), account_status, and
//   also the account's email and api_key (neither is copied here).
// - Status and error codes, https://serpapi.com/api-status-and-error-codes: errors are
//   {"error":"<message>"}; 401 no valid key; 403 account deleted; 429 is the hourly throughput
//   limit OR an account that has run out of searches, so the body decides which.
// shared/reference/providers-2.md agrees.
//
// The unit is searches (the account's `currency` can rename it); the key travels in the URL,
// so every message is scrubbed of it here as well as upstream.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://serpapi.com";

using Json = nlohmann::json;

// A 429 that says the searches ran out is out of money; any other 429 is the hourly limit.
ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  if (response.status != 429) return e;
  const std::string said = lower_ascii(provider_message(response));
  if (said.find("run out") != std::string::npos || said.find("searches for the month") != std::string::npos ||
      said.find("no more searches") != std::string::npos) {
    e.kind = ErrorKind::exhausted;
    e.retry_after.reset();
    e.message = message_text("HTTP 429 out of searches: " + provider_message(response));
  }
  return e;
}

class SerpApi final : public Provider {
public:
  explicit SerpApi(config::AccountConfig account)
      : m_account(std::move(account)), m_unit(m_account.currency.value_or("searches")) {}

  ProbeResult probe(http::Client& client) override {
    const std::string key = m_account.api_key.reveal();
    auto request = make_request(m_account, join_url(base(), "/account.json") + "?api_key=" + percent_encode(key));
    ProbeResult result = read(fetch_object(client, request, from_error_status));
    if (!result) result.error().message = redact(result.error().message, {key, percent_encode(key)});
    return result;
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult read(const Result<Json, ProbeError>& body) const {
    if (!body) return body.error();
    if (auto error = body->find("error"); error != body->end() && !error->is_null()) {
      return ProbeError{ErrorKind::http_status, message_text("HTTP 200 with an error: " + provider_message(*body)), 200,
                        std::nullopt};
    }
    return parse(*body);
  }

  ProbeResult parse(const Json& body) const {
    auto left = required_amount(body, "total_searches_left", "total_searches_left");
    if (!left) return left.error();
    BalanceEntry entry{m_unit, *left, std::nullopt, Json::object()};
    copy_amounts(body, {"plan_searches_left", "extra_credits", "searches_per_month", "this_month_usage"},
                 entry.details);
    for (const char* part : {"plan_renewal_date", "account_status", "plan_name"}) {
      if (auto it = body.find(part); it != body.end() && it->is_string())
        entry.details[part] = message_text(it->get<std::string>());
    }
    Reading reading;
    const std::string status = body.contains("account_status") && body["account_status"].is_string()
                                   ? body["account_status"].get<std::string>()
                                   : "Active";
    reading.available = *left > Decimal() && status == "Active";
    if (status != "Active") reading.unavailable_reason = message_text("account status " + status);
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_unit;
};

}  // namespace

std::unique_ptr<Provider> make_serpapi(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider serpapi needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<SerpApi>(account);
}

}  // namespace creditwatch::providers
