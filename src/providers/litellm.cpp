// LiteLLM proxy (self-hosted gateway): GET {base}/key/info with the virtual key as Bearer, then
// GET {base}/user/info?user_id=... or {base}/team/info?team_id=... when the account watches the
// key owner's or the key's team budget (`budget_scope`).
//
// Confirmed against LiteLLM's docs and code (BerriAI/litellm):
// - Virtual key budgets, https://docs.litellm.ai/docs/proxy/key_budgets: a key's `spend` counts
//   USD and requests fail once it reaches the key's `max_budget`; no max_budget means no cap.
//   Internal user budgets (docs/proxy/internal_user_budgets) and team budgets
//   (docs/proxy/team_budgets, docs/proxy/users) work the same on the user and the team;
//   `budget_duration` resets spend at `budget_reset_at`. A team key is capped by the team's
//   budget, not the owner's personal one.
// - litellm/proxy/management_endpoints/key_management_endpoints.py, info_key_fn: GET /key/info
//   without ?key= reads the calling key and answers {"key": <the key as sent>, "info": {spend,
//   max_budget, user_id, team_id, budget_reset_at, ...}}: the key comes back in the body, so
//   nothing from "key" is ever copied. /user/info answers {"user_id", "user_info": {spend,
//   max_budget, budget_reset_at, ...}, "keys", "teams"}; /team/info answers {"team_id",
//   "team_info": {spend, max_budget, budget_reset_at, ...}, ...} (user/team management
//   endpoints; CodexBar docs/litellm.md reads the same three calls).
// - Errors are {"error":{"message","type","param","code"}}; an exceeded budget is type
//   "budget_exceeded", answered 400 by older releases and 429 by newer ones
//   (auth_exception_handler.py: BudgetExceededError -> ProxyException), so the type decides,
//   not the status; a bad key is 401 auth_error.
// shared/reference/providers.md 7.8 agrees (it had not read LiteLLM's own docs).
//
// Balance = max_budget - spend in USD with spend as the spend counter; a budget_duration resets
// spend at budget_reset_at, which the forecast sees as a top-up (the balance rises). A scope
// without max_budget has no cap: the account's `budget` setting, when given, stands in for it (like
// openai_costs' credit); otherwise the reading has no balance at all (an uncapped key, as
// oneapi's unlimited token), because a made-up zero would page as exhausted.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

using Json = nlohmann::json;

enum class Scope { key, user, team };

std::string error_type(const http::Response& response) {
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "";
  const auto& error = body["error"];
  return error.contains("type") && error["type"].is_string() ? error["type"].get<std::string>() : "";
}

// budget_exceeded is out of money whatever the status (400 in old releases, 429 in new).
ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  if (error_type(response) != "budget_exceeded") return e;
  const std::string said = provider_message(response);
  return ProbeError{ErrorKind::exhausted,
                    message_text("HTTP " + std::to_string(response.status) + " budget exceeded" +
                                 (said.empty() ? "" : ": " + said)),
                    response.status, std::nullopt};
}

// A string field that may be null or absent; "" then.
std::string text_of(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

class LiteLlm final : public Provider {
public:
  LiteLlm(config::AccountConfig account, Scope scope, std::optional<Decimal> budget)
      : m_account(std::move(account)), m_scope(scope), m_budget(budget),
        m_currency(m_account.currency.value_or("USD")) {}

  ProbeResult probe(http::Client& client) override {
    auto key_body = fetch(client, "/key/info");
    if (!key_body) return key_body.error();
    auto info = required_object(*key_body, "info");
    if (!info) return info.error();
    if (m_scope == Scope::key) return reading(**info, "info");
    const bool user = m_scope == Scope::user;
    const std::string id = text_of(**info, user ? "user_id" : "team_id");
    if (id.empty()) {
      return ProbeError{ErrorKind::http_status,
                        std::string("budget_scope ") + (user ? "user" : "team") + ": this key has no " +
                            (user ? "user_id" : "team_id") + " in /key/info",
                        200, std::nullopt};
    }
    auto owner = fetch(client, user ? "/user/info?user_id=" + percent_encode(id)
                                    : "/team/info?team_id=" + percent_encode(id));
    if (!owner) return owner.error();
    const char* part = user ? "user_info" : "team_info";
    auto found = required_object(*owner, part);
    if (!found) return found.error();
    return reading(**found, part);
  }

private:
  // The proxy's address without a trailing /v1: the management routes sit at its root.
  std::string root() const {
    std::string base = m_account.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.ends_with("/v1")) base.resize(base.size() - 3);
    return base;
  }

  Result<Json, ProbeError> fetch(http::Client& client, const std::string& path_and_query) const {
    auto request = make_request(m_account, join_url(root(), path_and_query));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    return fetch_object(client, request, from_error_status);
  }

  ProbeResult reading(const Json& scope, const std::string& where) const {
    auto spend = required_amount(scope, "spend", where + ".spend");
    if (!spend) return spend.error();
    std::optional<Decimal> cap;
    if (auto it = scope.find("max_budget"); it != scope.end() && !it->is_null()) {
      cap = amount(*it);
      if (!cap) return bad_response(where + ".max_budget: expected a number or null, got " + describe(*it));
    }
    BalanceEntry entry{m_currency, Decimal(), *spend, Json::object()};
    entry.details["budget_scope"] = scope_name();
    if (cap) {
      entry.details["max_budget"] = cap->to_string();
    } else if (m_budget) {
      cap = m_budget;
      entry.details["budget"] = m_budget->to_string();
    } else {
      return Reading{};  // no cap anywhere: nothing can run out
    }
    // Not "resets_at": that key makes a reading a quota window, whose alerts speak in percent.
    if (auto reset = parse_rfc3339(text_of(scope, "budget_reset_at")))
      entry.details["budget_reset_at"] = format_rfc3339(*reset);
    entry.balance = *cap - *spend;
    Reading out;
    out.available = entry.balance > Decimal();
    if (!out.available) out.unavailable_reason = "LiteLLM " + scope_name() + " budget spent";
    out.balances.push_back(std::move(entry));
    return out;
  }

  std::string scope_name() const {
    switch (m_scope) {
      case Scope::key: return "key";
      case Scope::user: return "user";
      case Scope::team: return "team";
    }
    return "key";
  }

  config::AccountConfig m_account;
  Scope m_scope;
  std::optional<Decimal> m_budget;
  std::string m_currency;
};

std::optional<Scope> read_scope(SettingsReader& settings) {
  auto text = settings.string("budget_scope");
  if (!text || *text == "key") return Scope::key;
  if (*text == "user") return Scope::user;
  if (*text == "team") return Scope::team;
  settings.error("budget_scope", "budget_scope: expected key, user or team, got \"" + *text + "\"");
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Provider> make_litellm(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider litellm needs api_key or api_key_file (a virtual key)");
  if (account.base_url.empty()) settings.error("base_url", "provider litellm needs base_url (the proxy's address)");
  auto scope = read_scope(settings);
  auto budget = settings.decimal("budget");
  if (budget && *budget <= Decimal()) settings.error("budget", "budget: expected an amount above 0");
  if (!settings.finish() || !scope) return nullptr;
  return std::make_unique<LiteLlm>(account, *scope, budget);
}

}  // namespace creditwatch::providers
