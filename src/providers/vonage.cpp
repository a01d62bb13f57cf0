// Vonage (Nexmo): GET {base}/account/get-balance (shapes in shared/reference/providers.md
// section 9.2).
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://rest.nexmo.com";
// The documented unit of `value`; an account billed otherwise sets `currency`.
constexpr const char* k_default_currency = "EUR";

using Json = nlohmann::json;

// Errors are RFC 7807 problems. A 403 is out of credit (`low-balance`) unless the problem
// is about the credentials; 401 is always the credentials.
ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const std::string body = lower_ascii(response.body);
  if (response.status == 403 &&
      (body.find("low-balance") != std::string::npos || body.find("credit") != std::string::npos)) {
    e.kind = ErrorKind::exhausted;
  }
  return e;
}

class Vonage final : public Provider {
public:
  Vonage(config::AccountConfig account, std::string secret, bool in_query)
      : m_account(std::move(account)), m_secret(std::move(secret)), m_in_query(in_query) {}

  ProbeResult probe(http::Client& client) override {
    auto result = fetch(client);
    // Whatever went wrong, the message may quote the request (curl names the URL, which
    // holds the secret in query mode): no credential leaves this function.
    if (!result) result.error().message = scrub(result.error().message);
    return result;
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult fetch(http::Client& client) const {
    std::string url = join_url(base(), "/account/get-balance");
    const std::string& key = m_account.api_key.reveal();
    if (m_in_query) url += "?api_key=" + percent_encode(key) + "&api_secret=" + percent_encode(m_secret);
    auto request = make_request(m_account, url);
    if (!m_in_query) request.basic_auth = key + ":" + m_secret;
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_error_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    return parse(*body);
  }

  std::string scrub(const std::string& message) const {
    const std::string& key = m_account.api_key.reveal();
    return redact(message, {m_secret, percent_encode(m_secret), key, percent_encode(key)});
  }

  ProbeResult parse(const Json& body) const {
    auto value = required_amount(body, "value", "value");
    if (!value) return value.error();
    BalanceEntry entry{m_account.currency.value_or(k_default_currency), *value, std::nullopt, Json::object()};
    if (auto reload = body.find("autoReload"); reload != body.end() && reload->is_boolean()) {
      entry.details["autoReload"] = *reload;
    }
    Reading reading;
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_secret;
  bool m_in_query;
};

}  // namespace

std::unique_ptr<Provider> make_vonage(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider vonage needs the Vonage API key in api_key");
  auto secret = settings.required_string("api_secret");
  // Basic auth keeps the secret out of URLs; `auth: query` is for gateways that only pass
  // the documented query parameters through.
  const std::string auth = settings.string("auth").value_or("basic");
  if (auth != "basic" && auth != "query") settings.error("auth", "auth: expected basic or query, got \"" + auth + "\"");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Vonage>(account, *secret, auth == "query");
}

}  // namespace creditwatch::providers
