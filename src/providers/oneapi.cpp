// one-api / new-api relays ("中转站"): GET {base}/v1/dashboard/billing/subscription, then
// GET {base}/v1/dashboard/billing/usage, with the relay token as a Bearer key.
//
// Confirmed against (shared/reference/providers.md 7.9 agrees on paths and fields):
// - new-api's own docs, "Account Billing Dashboard Module":
//   https://github.com/QuantumNous/new-api-docs/blob/main/docs/en/api/fei-account-billing-panel.md
//   both paths exist with and without /v1; hard_limit_usd in USD; total_usage in $0.01;
//   failures come back as HTTP 200 {"error":{"message":...,"type":"upstream_error"}}.
// - the code behind them, songquanpeng/one-api and QuantumNous/new-api controller/billing.go:
//   hard_limit_usd = remaining + used quota, total_usage = used * 100, and an unlimited token
//   reports hard_limit_usd 100000000 (a sentinel, not money).
// - new-api answers an empty wallet with HTTP 403 and error.code insufficient_user_quota
//   (types.ErrorCodeInsufficientUserQuota, http.StatusForbidden); the token check in front of
//   every relay route refuses a spent token with "该令牌额度已用尽" and a bad one with
//   "无效的令牌" (one-api middleware/auth.go: HTTP 200 in old releases, 401 in new ones).
// Where the reference is incomplete: the "_usd" fields are in the site's display unit, which
// new-api lets an operator set to CNY or tokens (the account's `currency` says which), and
// old one-api releases put only the remaining quota in hard_limit_usd (such a relay reads
// low by its usage; nothing in the body tells the two apart).
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

using Json = nlohmann::json;

// A token with unlimited quota reports this as its limit.
const Decimal k_unlimited = *Decimal::parse("100000000");
// total_usage counts hundredths of the unit.
constexpr Decimal k_cent = Decimal::from_micros(Decimal::k_scale / 100);

// The error's code ("insufficient_user_quota"), or "" when there is none.
std::string error_code(const Json& body) {
  auto error = body.find("error");
  if (error == body.end() || !error->is_object()) return "";
  auto code = error->find("code");
  return code != error->end() && code->is_string() ? code->get<std::string>() : "";
}

bool says(const std::string& text, const char* words) { return text.find(words) != std::string::npos; }

// The relay's token check runs before the billing handlers, so a spent token is refused there:
// new-api 403 insufficient_user_quota or pre_consume_token_quota_failed, and "该令牌额度已用尽"
// (the token's quota is used up) as 401, 403 or, in old one-api, HTTP 200.
bool out_of_quota(const Json& body) {
  const std::string code = error_code(body);
  const std::string said = provider_message(body);
  return code == "insufficient_user_quota" || code == "pre_consume_token_quota_failed" || says(said, "额度已用尽") ||
         says(said, "额度不足");
}

// Old one-api answers a bad token with HTTP 200: "无效的令牌" (invalid), "未提供令牌" (none
// sent), "该令牌已过期" (expired), "该令牌状态不可用" (disabled).
bool token_refused(const Json& body) {
  const std::string said = provider_message(body);
  return says(said, "无效的令牌") || says(said, "未提供令牌") || says(said, "该令牌已过期") ||
         says(said, "令牌状态不可用");
}

ProbeError out_of_quota_error(long status, const Json& body) {
  const std::string said = provider_message(body);
  return ProbeError{
      ErrorKind::exhausted,
      message_text("HTTP " + std::to_string(status) + " out of quota" + (said.empty() ? "" : ": " + said)), status,
      std::nullopt};
}

ProbeError from_error_status(const http::Response& response) {
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  const bool refusal = response.status == 401 || response.status == 403;
  if (refusal && body.is_object() && out_of_quota(body)) return out_of_quota_error(response.status, body);
  return from_status(response);
}

// Relays answer failures with HTTP 200 and {"error":{...}} instead of the billing object.
std::optional<ProbeError> error_in_body(const Json& body) {
  auto error = body.find("error");
  if (error == body.end() || error->is_null()) return std::nullopt;
  if (out_of_quota(body)) return out_of_quota_error(200, body);
  const std::string said = provider_message(body);
  const ErrorKind kind = token_refused(body) ? ErrorKind::key_invalid : ErrorKind::http_status;
  return ProbeError{kind, message_text("HTTP 200 with an error" + (said.empty() ? "" : ": " + said)), 200,
                    std::nullopt};
}

class OneApi final : public Provider {
public:
  explicit OneApi(config::AccountConfig account)
      : m_account(std::move(account)), m_currency(m_account.currency.value_or("USD")) {}

  ProbeResult probe(http::Client& client) override {
    auto subscription = fetch(client, "/dashboard/billing/subscription");
    if (!subscription) return subscription.error();
    auto limit = required_amount(*subscription, "hard_limit_usd", "hard_limit_usd");
    if (!limit) return limit.error();
    // An unlimited token has no balance to watch, and its usage would only invent one.
    if (*limit >= k_unlimited) return Reading{};
    auto usage_body = fetch(client, "/dashboard/billing/usage");
    if (!usage_body) return usage_body.error();
    auto usage = required_amount(*usage_body, "total_usage", "total_usage");
    if (!usage) return usage.error();
    return reading(*limit, usage->scaled(k_cent));
  }

private:
  // {base}/v1/PATH, or {base}/PATH when the base already ends in /v1.
  std::string url_for(const std::string& path) const {
    std::string base = m_account.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return join_url(base.ends_with("/v1") ? base : base + "/v1", path);
  }

  Result<Json, ProbeError> fetch(http::Client& client, const std::string& path) const {
    auto request = make_request(m_account, url_for(path));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    if (auto failed = error_in_body(*body)) return *failed;
    return *body;
  }

  ProbeResult reading(Decimal limit, Decimal used) const {
    BalanceEntry entry{m_currency, limit - used, used, Json::object()};
    entry.details["hard_limit"] = limit.to_string();
    Reading reading;
    // The relay refuses every call once the quota is spent.
    reading.available = entry.balance > Decimal();
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_oneapi(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider oneapi needs api_key or api_key_file (the relay token)");
  if (account.base_url.empty()) settings.error("base_url", "provider oneapi needs base_url (the relay's address)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<OneApi>(account);
}

}  // namespace creditwatch::providers
