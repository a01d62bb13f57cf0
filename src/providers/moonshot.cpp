// Moonshot / Kimi: GET {base}/v1/users/me/balance (shapes in shared/reference/providers.md
// sections 0, 3 and 10).
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"


namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.moonshot.ai";

using Json = nlohmann::json;

// A string member, or "" when absent or not a string.
std::string string_at(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The body has no currency: the China host bills in CNY, the international one in USD.
std::string currency_for(const config::AccountConfig& account, const std::string& base) {
  if (account.currency) return *account.currency;
  return host_of(base).ends_with(".cn") ? "CNY" : "USD";
}

// Moonshot reports an empty wallet as 429 exceeded_current_quota_error, which must not be
// retried like a rate limit; every other 429 is a real rate limit.
ProbeError from_429(const http::Response& response) {
  const auto body = Json::parse(safe_text(response.body), nullptr, false);
  const std::string type = body.is_object() && body.contains("error") ? string_at(body["error"], "type") : "";
  const std::string said = provider_message(body);
  const std::string text = lower_ascii(said);
  if (type == "exceeded_current_quota_error" || text.find("insufficient balance") != std::string::npos ||
      text.find("exceeded your current quota") != std::string::npos) {
    return ProbeError{ErrorKind::exhausted, "HTTP 429 out of balance" + (said.empty() ? "" : ": " + said), 429,
                      std::nullopt};
  }
  return from_status(response);
}

// HTTP 200 can still carry a failure: `code` other than 0 or `status` false.
std::optional<ProbeError> business_error(const Json& body) {
  auto code = body.find("code");
  if (code != body.end() && !code->is_number_integer()) {
    return bad_response("code: expected an integer, got " + describe(*code));
  }
  auto status = body.find("status");
  if (status != body.end() && !status->is_boolean()) {
    return bad_response("status: expected true or false, got " + describe(*status));
  }
  const long number = code == body.end() ? 0 : code->get<long>();
  const bool ok = status == body.end() || status->get<bool>();
  if (number == 0 && ok) return std::nullopt;
  const std::string scode = string_at(body, "scode");
  const std::string said = provider_message(body);
  ProbeError e{ErrorKind::http_status, "", 200, std::nullopt};
  if (number == 401 || lower_ascii(scode) == "unauthorized") e.kind = ErrorKind::key_invalid;
  e.message = "HTTP 200 with code " + std::to_string(number) + (scode.empty() ? "" : " (" + message_text(scode) + ")") +
              (said.empty() ? "" : ": " + said);
  return e;
}

class Moonshot final : public Provider {
public:
  explicit Moonshot(config::AccountConfig account)
      : m_account(std::move(account)), m_currency(currency_for(m_account, base())) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/users/me/balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status == 429) return from_429(*outcome);
    if (outcome->status != 200) return from_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    if (auto failed = business_error(*body)) return *failed;
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto found = required_object(body, "data");
    if (!found) return found.error();
    const Json* data = *found;
    auto available = required_amount(*data, "available_balance", "data.available_balance");
    if (!available) return available.error();
    BalanceEntry entry{m_currency, *available, std::nullopt, Json::object()};
    // cash_balance goes negative when money is owed; available_balance then equals vouchers.
    copy_amounts(*data, {"voucher_balance", "cash_balance"}, entry.details);
    Reading reading;
    // At or below zero the inference API can no longer be called.
    reading.available = *available > Decimal();
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_moonshot(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider moonshot needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Moonshot>(account);
}

}  // namespace creditwatch::providers
