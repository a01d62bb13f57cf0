// SiliconFlow: GET {base}/v1/user/info (shapes in shared/reference/providers.md sections 0,
// 4, 10 and 11).
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"


namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.siliconflow.cn";
constexpr long k_success = 20000;

using Json = nlohmann::json;

bool mentions(const std::string& text, const char* word) { return lower_ascii(text).find(word) != std::string::npos; }

// The body has no currency: the international host (.com) bills in USD, the China host
// (.cn, the default) in CNY. A proxy in front of .com needs `currency: USD`.
std::string currency_for(const config::AccountConfig& account, const std::string& base) {
  if (account.currency) return *account.currency;
  return host_of(base).ends_with(".com") ? "USD" : "CNY";
}

// The China docs give 403 as "account balance insufficient or insufficient permissions".
// Out of money is the documented first meaning; a body that talks only about permission or
// verification is a key that may not do this.
ProbeError from_403(const http::Response& response) {
  ProbeError e = from_status(response);
  const std::string said = provider_message(response);
  const bool permission = !mentions(said, "balance") &&
                          (mentions(said, "permission") || mentions(said, "verif") || mentions(said, "real-name"));
  if (permission) return e;
  e.kind = ErrorKind::exhausted;
  e.message = "HTTP 403 out of balance" + (said.empty() ? "" : ": " + said);
  return e;
}

// HTTP 200 can still carry a failure: `code` other than 20000 (or `status` false).
std::optional<ProbeError> business_error(const Json& body) {
  auto code = body.find("code");
  if (code == body.end()) return bad_response("code is missing");
  if (!code->is_number_integer()) return bad_response("code: expected an integer, got " + describe(*code));
  auto status = body.find("status");
  const bool status_false = status != body.end() && status->is_boolean() && !status->get<bool>();
  const long number = code->get<long>();
  if (number == k_success && !status_false) return std::nullopt;
  const std::string said = provider_message(body);
  return ProbeError{ErrorKind::http_status,
                    "HTTP 200 with code " + std::to_string(number) + (said.empty() ? "" : ": " + said), 200,
                    std::nullopt};
}

class SiliconFlow final : public Provider {
public:
  explicit SiliconFlow(config::AccountConfig account)
      : m_account(std::move(account)), m_currency(currency_for(m_account, base())) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/user/info"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status == 403) return from_403(*outcome);
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
    auto total = required_amount(*data, "totalBalance", "data.totalBalance");
    if (!total) return total.error();
    BalanceEntry entry{m_currency, *total, std::nullopt, Json::object()};
    // balance is the granted (bonus) part, chargeBalance the paid part.
    copy_amounts(*data, {"balance", "chargeBalance"}, entry.details);
    if (auto status = data->find("status"); status != data->end() && status->is_string()) {
      entry.details["status"] = *status;
    }
    Reading reading;
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_currency;
};

}  // namespace

std::unique_ptr<Provider> make_siliconflow(const config::AccountConfig& account, const Clock&,
                                           SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider siliconflow needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<SiliconFlow>(account);
}

}  // namespace creditwatch::providers
