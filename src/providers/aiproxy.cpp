// AIProxy (aiproxy.io): GET {base}/api/report/getUserOverview with the key in an `Api-Key`
// header (not Bearer).
//
// [UNCONFIRMED] against the vendor: no AIProxy documentation page could be found with the
// search tool (docs, pages and code corpora). What is implemented is what the clients that call
// the live service do, and they agree with shared/reference/providers.md 7.6:
// - songquanpeng/one-api and MartialBE/one-api, controller/channel-billing.go and
//   providers/aiproxy/balance.go, updateChannelAIProxyBalance: GET
//   https://aiproxy.io/api/report/getUserOverview, header `Api-Key: <key>`, body
//   {"success":bool,"message":string,"error_code":int,"data":{"totalPoints":number}}; a
//   success false is a failure carrying error_code and message; totalPoints is stored as the
//   channel's balance, which one-api shows in USD.
// So the unit is USD unless the account's `currency` says otherwise, and the error words that
// mean "out of points" or "bad key" inside a success false are guesses from the same family of
// relays ([UNCONFIRMED]); HTTP statuses go through the shared mapping.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <initializer_list>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://aiproxy.io";

using Json = nlohmann::json;

bool says_any(const std::string& text, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (text.find(w) != std::string::npos) return true;
  }
  return false;
}

// success false: what its message says decides the kind, the rest is an error in HTTP 200.
ProbeError failure_in_body(const Json& body) {
  const std::string said = provider_message(body);
  std::string code;
  if (auto it = body.find("error_code"); it != body.end() && (it->is_number_integer() || it->is_string()))
    code = it->is_string() ? it->get<std::string>() : std::to_string(it->get<long long>());
  const std::string text = "HTTP 200 with success false" + (code.empty() ? "" : " (error_code " + code + ")") +
                           (said.empty() ? "" : ": " + said);
  const std::string lower = lower_ascii(said);
  ErrorKind kind = ErrorKind::http_status;
  if (says_any(lower, {"insufficient", "余额不足", "积分不足", "no points", "not enough"})) {
    kind = ErrorKind::exhausted;
  } else if (says_any(lower, {"api key", "api-key", "apikey", "无效", "unauthorized"})) {
    kind = ErrorKind::key_invalid;
  }
  return ProbeError{kind, message_text(text), 200, std::nullopt};
}

class AiProxy final : public Provider {
public:
  explicit AiProxy(config::AccountConfig account)
      : m_account(std::move(account)), m_currency(m_account.currency.value_or("USD")) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/api/report/getUserOverview"));
    request.headers.push_back({"Api-Key", m_account.api_key.reveal()});
    auto body = fetch_object(client, request);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto success = body.find("success");
    if (success == body.end() || !success->is_boolean())
      return bad_response("success: expected true or false, got " +
                          (success == body.end() ? std::string("nothing") : describe(*success)));
    if (!success->get<bool>()) return failure_in_body(body);
    auto found = required_object(body, "data");
    if (!found) return found.error();
    auto points = required_amount(**found, "totalPoints", "data.totalPoints");
    if (!points) return points.error();
    Reading reading;
    reading.available = *points > Decimal();
    if (!reading.available) reading.unavailable_reason = "no points left";
    reading.balances.push_back({m_currency, *points, std::nullopt, Json::object()});
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_aiproxy(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider aiproxy needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<AiProxy>(account);
}

}  // namespace creditwatch::providers
