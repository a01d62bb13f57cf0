// xAI (Grok) Management API: GET {base}/v1/billing/teams/{team_id}/prepaid/balance
// (shapes in shared/reference/providers.md sections 0, 7.2 and 10).
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://management-api.x.ai";
// total.val is USD cents with the sign inverted: "-1000" is $10.00 of credit.
constexpr Decimal k_minus_cent = Decimal::from_micros(-10'000);

using Json = nlohmann::json;

bool mentions_credit(const http::Response& response) {
  std::string said = provider_message(response);
  std::transform(said.begin(), said.end(), said.begin(), [](unsigned char c) { return std::tolower(c); });
  return said.find("credit") != std::string::npos;
}

// 401/403 mean the management key was refused, except the 403 that says the team has no
// credits; 404 means the team ID is wrong.
ProbeError from_error_status(const http::Response& response, const std::string& team) {
  ProbeError e = from_status(response);
  if (response.status == 403 && mentions_credit(response)) {
    e.kind = ErrorKind::exhausted;
  } else if (response.status == 401 || response.status == 403) {
    e.message += " (xAI billing needs a management key, not an inference key)";
  } else if (response.status == 404) {
    e.message += " (no team \"" + team + "\": check team_id)";
  }
  return e;
}

bool valid_team_id(const std::string& team) {
  return std::all_of(team.begin(), team.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

class Xai final : public Provider {
public:
  Xai(config::AccountConfig account, std::string team) : m_account(std::move(account)), m_team(std::move(team)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/billing/teams/" + m_team + "/prepaid/balance"));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_error_status(*outcome, m_team);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  static ProbeResult parse(const Json& body) {
    auto total = body.find("total");
    if (total == body.end()) return bad_response("total is missing");
    if (!total->is_object()) return bad_response("total: expected an object, got " + describe(*total));
    auto cents = required_amount(*total, "val", "total.val");
    if (!cents) return cents.error();
    BalanceEntry entry{"USD", cents->scaled(k_minus_cent), std::nullopt, Json::object()};
    entry.details["total_val_cents"] = cents->to_string();
    Reading reading;
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_team;
};

}  // namespace

std::unique_ptr<Provider> make_xai(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) {
    settings.error("api_key", "provider xai needs a management key in api_key or api_key_file");
  }
  auto team = settings.required_string("team_id");
  if (team && !valid_team_id(*team)) settings.error("team_id", "team_id: expected letters, digits, - and _ only");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Xai>(account, *team);
}

}  // namespace creditwatch::providers
