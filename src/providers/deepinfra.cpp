// DeepInfra: GET {base}/payment/checklist?compute_owed=true (shapes in
// shared/reference/providers.md sections 0 and 7.4; known from an open-source client only).
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.deepinfra.com";

using Json = nlohmann::json;

class DeepInfra final : public Provider {
public:
  explicit DeepInfra(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/payment/checklist?compute_owed=true"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_error_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  static ProbeError from_error_status(const http::Response& response) {
    ProbeError e = from_status(response);
    if (response.status == 403) e.message += " (this key cannot read billing)";
    return e;
  }

  static ProbeResult parse(const Json& body) {
    // stripe_balance is what is owed: negative means prepaid funds are left.
    auto owed = required_amount(body, "stripe_balance", "stripe_balance");
    if (!owed) return owed.error();
    BalanceEntry entry{"USD", -*owed, std::nullopt, Json::object()};
    entry.details["stripe_balance"] = owed->to_string();
    for (const char* part : {"recent", "limit"}) {
      if (auto value = body.contains(part) ? amount(body[part]) : std::nullopt) {
        entry.details[part] = value->to_string();
      }
    }
    Reading reading;
    if (auto suspended = body.find("suspended"); suspended != body.end() && !suspended->is_null()) {
      if (!suspended->is_boolean()) {
        return bad_response("suspended: expected true or false, got " + describe(*suspended));
      }
      reading.available = !suspended->get<bool>();
      entry.details["suspended"] = *suspended;
    }
    if (auto reason = body.find("suspend_reason"); reason != body.end() && reason->is_string()) {
      entry.details["suspend_reason"] = *reason;
    }
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_deepinfra(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider deepinfra needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<DeepInfra>(account);
}

}  // namespace creditwatch::providers
