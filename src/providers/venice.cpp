// Venice AI: GET {base}/api/v1/billing/balance with an admin key (shapes in
// shared/reference/providers.md section 7.3).
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.venice.ai";

using Json = nlohmann::json;

// One balance per currency the body has a number for; null means none. The currency the
// account spends from (consumptionCurrency) comes first, so it is the default one.
Result<std::vector<BalanceEntry>, ProbeError> parse_balances(const Json& balances, const std::string& consuming) {
  std::vector<BalanceEntry> entries;
  for (const auto& [key, currency] : {std::pair{"usd", "USD"}, std::pair{"diem", "DIEM"}}) {
    auto it = balances.find(key);
    if (it == balances.end() || it->is_null()) continue;
    auto value = amount(*it);
    if (!value) {
      return bad_response(std::string("balances.") + key + ": expected a number or null, got " + describe(*it));
    }
    BalanceEntry entry{currency, *value, std::nullopt, Json::object()};
    if (currency == consuming) {
      entries.insert(entries.begin(), std::move(entry));
    } else {
      entries.push_back(std::move(entry));
    }
  }
  return entries;
}

class Venice final : public Provider {
public:
  explicit Venice(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/api/v1/billing/balance"));
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
    // An inference key is refused with 401: the billing endpoint wants an ADMIN key.
    if (e.kind == ErrorKind::key_invalid) e.message += " (Venice billing needs an admin key)";
    return e;
  }

  static ProbeResult parse(const Json& body) {
    Reading reading;
    if (auto can = body.find("canConsume"); can != body.end()) {
      if (!can->is_boolean()) return bad_response("canConsume: expected true or false, got " + describe(*can));
      reading.available = can->get<bool>();
    }
    std::string consuming;
    if (auto it = body.find("consumptionCurrency"); it != body.end() && !it->is_null()) {
      if (!it->is_string()) return bad_response("consumptionCurrency: expected a string, got " + describe(*it));
      consuming = it->get<std::string>();
    }
    auto balances = body.find("balances");
    if (balances == body.end()) return bad_response("balances is missing");
    if (!balances->is_object()) return bad_response("balances: expected an object, got " + describe(*balances));
    auto entries = parse_balances(*balances, consuming);
    if (!entries) return entries.error();
    reading.balances = std::move(*entries);
    if (reading.balances.empty() && reading.available) return bad_response("balances has neither usd nor diem");
    for (auto& entry : reading.balances) {
      if (!consuming.empty()) entry.details["consumptionCurrency"] = consuming;
      if (auto epoch = body.contains("diemEpochAllocation") ? amount(body["diemEpochAllocation"]) : std::nullopt;
          epoch && entry.currency == "DIEM") {
        entry.details["diemEpochAllocation"] = epoch->to_string();
      }
    }
    return reading;
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_venice(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) {
    settings.error("api_key", "provider venice needs an admin key in api_key or api_key_file");
  }
  if (!settings.finish()) return nullptr;
  return std::make_unique<Venice>(account);
}

}  // namespace creditwatch::providers
