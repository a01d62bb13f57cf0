// MessageBird (classic REST, now Bird): GET {base}/balance with `Authorization: AccessKey <key>`.
//
// Confirmed against MessageBird's docs:
// - API reference, https://developers.messagebird.com/api (endpoint https://rest.messagebird.com/,
//   `Authorization: AccessKey {accessKey}`, `Accept: application/json`; the example request is
//   GET https://rest.messagebird.com/balance; test keys start with test_).
// - Balance object (developers.messagebird.com/api/balance, mirrored as OpenAPI in
//   api-evangelist/messagebird messagebird-balance-openapi.yml): payment prepaid|postpaid,
//   type credits|euros, amount (number, "the available balance amount"); 401 unauthorized.
//   The official Node client's README shows {payment:"prepaid",type:"credits",amount:42.5}.
// - Errors (https://docs.bird.com/api/api-access/common-api-usage): 4xx for authentication, not
//   enough balance or bad parameters, with a JSON body; 5xx safe to retry. The body is
//   {"errors":[{"code":2,"description":"Request not allowed (incorrect access_key)",
//   "parameter":"access_key"}]} with 401 (official Go and Ruby clients' tests).
// shared/reference/providers-2.md agrees. [UNCONFIRMED] error code 25 "not enough balance"
// (MessageBird's error table, not found in a stored copy): read as out of money on any status.
//
// The unit comes from `type`: euros is EUR, credits is `credits` (the account's `currency`
// can rename credits); a type we do not know leaves the unit unknown, so it is an error.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://rest.messagebird.com";
constexpr int k_not_enough_balance = 25;

using Json = nlohmann::json;

// The first entry of MessageBird's {"errors":[{code, description}]}, or nullptr.
const Json* first_error(const Json& body) {
  if (!body.is_object()) return nullptr;
  auto it = body.find("errors");
  if (it == body.end() || !it->is_array() || it->empty() || !(*it)[0].is_object()) return nullptr;
  return &(*it)[0];
}

ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  const Json* error = first_error(body);
  if (!error) return e;
  std::string said;
  if (auto d = error->find("description"); d != error->end() && d->is_string()) said = d->get<std::string>();
  const auto code = error->find("code");
  if (code != error->end() && code->is_number_integer() && code->get<int>() == k_not_enough_balance) {
    e.kind = ErrorKind::exhausted;
    e.retry_after.reset();
    e.message = message_text("HTTP " + std::to_string(response.status) + " out of balance: " + said);
  } else if (!said.empty()) {
    e.message = message_text(e.message + ": " + said);
  }
  return e;
}

class MessageBird final : public Provider {
public:
  explicit MessageBird(config::AccountConfig account) : m_account(std::move(account)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/balance"));
    request.headers.push_back({"Authorization", "AccessKey " + m_account.api_key.reveal()});
    request.headers.push_back({"Accept", "application/json"});
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto unit = unit_of(body);
    if (!unit) return unit.error();
    auto amount_left = required_amount(body, "amount", "amount");
    if (!amount_left) return amount_left.error();
    BalanceEntry entry{*unit, *amount_left, std::nullopt, Json::object()};
    for (const char* part : {"payment", "type"}) {
      if (auto it = body.find(part); it != body.end() && it->is_string())
        entry.details[part] = message_text(it->get<std::string>());
    }
    const bool postpaid = body.contains("payment") && body["payment"] == "postpaid";
    // The alert rules read this: a zero or negative balance of a postpaid account is no page.
    if (postpaid) entry.details["postpaid"] = true;
    Reading reading;
    // A postpaid account is invoiced afterwards: an empty balance does not stop it.
    reading.available = postpaid || *amount_left > Decimal();
    if (!reading.available) reading.unavailable_reason = "no prepaid balance left";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  Result<std::string, ProbeError> unit_of(const Json& body) const {
    auto it = body.find("type");
    if (it == body.end() || !it->is_string())
      return bad_response("type: expected \"credits\" or \"euros\", got " + (it == body.end() ? "nothing" : describe(*it)));
    const std::string type = it->get<std::string>();
    if (type == "euros") return std::string("EUR");
    if (type == "credits") return m_account.currency.value_or("credits");
    return bad_response("type: expected \"credits\" or \"euros\", got " + describe(*it));
  }

  config::AccountConfig m_account;
};

}  // namespace

std::unique_ptr<Provider> make_messagebird(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider messagebird needs the access key in api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<MessageBird>(account);
}

}  // namespace creditwatch::providers
