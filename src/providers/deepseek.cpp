// DeepSeek: GET {base}/user/balance (shapes in shared/reference/providers.md section 1).
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.deepseek.com";

class DeepSeek final : public Provider {
public:
  explicit DeepSeek(const config::AccountConfig& account) : m_account(account) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/user/balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  static ProbeResult parse(const nlohmann::json& body) {
    Reading reading;
    auto available = body.find("is_available");
    if (available == body.end() || !available->is_boolean()) {
      return bad_response("is_available: expected true or false, got " +
                          (available == body.end() ? std::string("nothing") : describe(*available)));
    }
    reading.available = available->get<bool>();
    auto infos = body.find("balance_infos");
    if (infos == body.end() || !infos->is_array()) {
      return bad_response("balance_infos: expected a list, got " +
                          (infos == body.end() ? std::string("nothing") : describe(*infos)));
    }
    for (std::size_t i = 0; i < infos->size(); ++i) {
      const auto& info = (*infos)[i];
      const std::string path = "balance_infos[" + std::to_string(i) + "]";
      if (!info.is_object()) return bad_response(path + ": expected an object, got " + describe(info));
      auto currency = info.find("currency");
      if (currency == info.end()) return bad_response(path + ".currency is missing");
      if (!currency->is_string()) return bad_response(path + ".currency: expected a string, got " + describe(*currency));
      auto total = required_amount(info, "total_balance", path + ".total_balance");
      if (!total) return total.error();
      BalanceEntry entry{currency->get<std::string>(), *total, std::nullopt, nlohmann::json::object()};
      for (const char* part : {"granted_balance", "topped_up_balance"}) {
        if (auto value = info.contains(part) ? amount(info[part]) : std::nullopt) {
          entry.details[part] = value->to_string();
        }
      }
      reading.balances.push_back(std::move(entry));
    }
    if (reading.balances.empty() && reading.available) return bad_response("balance_infos is empty");
    return reading;
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_deepseek(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider deepseek needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<DeepSeek>(account);
}

}  // namespace creditwatch::providers
