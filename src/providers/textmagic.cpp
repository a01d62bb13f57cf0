// Textmagic: GET {base}/api/v2/user with the headers `X-TM-Username: <username>` and
// `X-TM-Key: <API key>`.
//
// Confirmed against Textmagic's docs:
// - Get started, https://textmagic.com/docs/api/start: endpoint https://rest.textmagic.com/api/v2/,
//   credentials sent as X-TM-Username (the Textmagic username) and X-TM-Key (a v2 API key).
// - Response codes, https://textmagic.com/docs/api/response-codes: 401 a user without the
//   right, 429 request limit, 500/503 server side; error bodies {"code":400,"message":"...",
//   "errors":null}.
// - GET /api/v2/user "Get current account information" and the User model, in Textmagic's
//   official client textmagic/textmagic-rest-php-v2 (docs/Api/TextMagicApi.md, docs/Model/User.md,
//   docs/Model/Currency.md): balance (float, "in account currency"), currency {id (ISO code),
//   unicodeSymbol, htmlSymbol}, status A (active) or T (trial), subaccountType.
// shared/reference/providers-2.md agrees on path, headers and fields. The docs name no
// out-of-credit answer for this route: a balance at or below zero is the empty account.
// The body also carries the owner's name, email and phone: none of them is copied.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://rest.textmagic.com";

using Json = nlohmann::json;

// A username travels in a header: printable, no spaces, at most 100 bytes.
bool valid_username(const std::string& name) {
  return !name.empty() && name.size() <= 100 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isgraph(c); });
}

class Textmagic final : public Provider {
public:
  Textmagic(config::AccountConfig account, std::string username)
      : m_account(std::move(account)), m_username(std::move(username)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/api/v2/user"));
    request.headers.push_back({"X-TM-Username", m_username});
    request.headers.push_back({"X-TM-Key", m_account.api_key.reveal()});
    auto body = fetch_object(client, request);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto balance = required_amount(body, "balance", "balance");
    if (!balance) return balance.error();
    auto currency = currency_of(body);
    if (!currency) return currency.error();
    BalanceEntry entry{*currency, *balance, std::nullopt, Json::object()};
    for (const char* part : {"status", "subaccountType"}) {
      if (auto it = body.find(part); it != body.end() && it->is_string())
        entry.details[part] = message_text(it->get<std::string>());
    }
    Reading reading;
    reading.available = *balance > Decimal();
    if (!reading.available) reading.unavailable_reason = "no credit left";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  // currency.id from the body; the account's `currency` when the body has none.
  Result<std::string, ProbeError> currency_of(const Json& body) const {
    if (auto it = body.find("currency"); it != body.end() && it->is_object()) {
      if (auto id = it->find("id"); id != it->end() && id->is_string() && !id->get<std::string>().empty())
        return message_text(id->get<std::string>());
    }
    if (m_account.currency) return *m_account.currency;
    return bad_response("currency.id: expected the account's ISO currency code, got none");
  }

  config::AccountConfig m_account;
  std::string m_username;
};

}  // namespace

std::unique_ptr<Provider> make_textmagic(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider textmagic needs the API key in api_key or api_key_file");
  auto username = settings.required_string("username");
  if (username && !valid_username(*username))
    settings.error("username", "username: expected the Textmagic username (printable, no spaces, at most 100 bytes)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Textmagic>(account, *username);
}

}  // namespace creditwatch::providers
