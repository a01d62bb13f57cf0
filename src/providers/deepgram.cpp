// Deepgram: GET {base}/v1/projects/{project_id}/balances with `Authorization: Token <key>`;
// without a `project_id` setting, the first project GET {base}/v1/projects lists.
//
// Confirmed against Deepgram's API reference:
// - Get Project Balances, https://developers.deepgram.com/reference/manage/billing/list:
//   GET https://api.deepgram.com/v1/projects/{project_id}/balances, `Authorization: Token
//   <API_KEY>`; 200 {"balances":[{balance_id, amount (double), units ("USD"),
//   purchase_order_id}]}, "a list of outstanding balances"; errors are either
//   {"err_code","err_msg","request_id"} (legacy) or {"category","message","details",
//   "request_id"} (modern).
// - Get Projects, https://developers.deepgram.com/reference/manage/projects/list: GET
//   /v1/projects, 200 {"projects":[{"project_id","name"}]}.
// shared/reference/providers-2.md agrees, except that it writes units "usd": the vendor's
// example is "USD"; either is read, upper-cased.
//
// Decision: `project_id` is optional. Without it the first listed project is read (the one
// project most keys belong to; a key of several projects should name its project), and its
// id is in the details. The balances of one unit are added up (each purchase is its own
// balance); a project with no balance left is unavailable.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.deepgram.com";

using Json = nlohmann::json;

bool valid_project_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isxdigit(c) || c == '-'; });
}

// Deepgram's own words from either error shape: err_msg (legacy) or message (modern).
ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  if (!provider_message(response).empty()) return e;
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  if (!body.is_object()) return e;
  std::string said;
  for (const char* key : {"err_code", "err_msg"}) {
    if (auto it = body.find(key); it != body.end() && it->is_string())
      said += (said.empty() ? "" : " ") + it->get<std::string>();
  }
  if (!said.empty()) e.message = message_text(e.message + ": " + said);
  return e;
}

std::string upper_ascii(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

class Deepgram final : public Provider {
public:
  Deepgram(config::AccountConfig account, std::optional<std::string> project_id)
      : m_account(std::move(account)), m_project_id(std::move(project_id)) {}

  ProbeResult probe(http::Client& client) override {
    auto project = m_project_id ? Result<std::string, ProbeError>(*m_project_id) : first_project(client);
    if (!project) return project.error();
    auto body = fetch_object(client, request_for("/v1/projects/" + *project + "/balances"), from_error_status);
    if (!body) return body.error();
    return parse(*body, *project);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  http::Request request_for(const std::string& path) const {
    auto request = make_request(m_account, join_url(base(), path));
    request.headers.push_back({"Authorization", "Token " + m_account.api_key.reveal()});
    return request;
  }

  Result<std::string, ProbeError> first_project(http::Client& client) const {
    auto body = fetch_object(client, request_for("/v1/projects"), from_error_status);
    if (!body) return body.error();
    auto it = body->find("projects");
    if (it == body->end() || !it->is_array())
      return bad_response("projects: expected a list, got " + (it == body->end() ? "nothing" : describe(*it)));
    if (it->empty()) return bad_response("projects: the key belongs to no project (set project_id)");
    const Json& first = (*it)[0];
    auto id = first.is_object() ? first.find("project_id") : first.end();
    if (!first.is_object() || id == first.end() || !id->is_string() || !valid_project_id(id->get<std::string>()))
      return bad_response("projects[0].project_id: expected a project id");
    return id->get<std::string>();
  }

  ProbeResult parse(const Json& body, const std::string& project) const {
    auto it = body.find("balances");
    if (it == body.end() || !it->is_array())
      return bad_response("balances: expected a list, got " + (it == body.end() ? "nothing" : describe(*it)));
    std::map<std::string, Decimal> totals;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const Json& item = (*it)[i];
      const std::string where = "balances[" + std::to_string(i) + "]";
      if (!item.is_object()) return bad_response(where + ": expected an object, got " + describe(item));
      auto value = required_amount(item, "amount", where + ".amount");
      if (!value) return value.error();
      Decimal& total = totals[unit_of(item)];
      std::int64_t sum = 0;
      if (__builtin_add_overflow(total.micros(), value->micros(), &sum))
        return bad_response(where + ".amount: the balances add up past what an amount can hold");
      total = Decimal::from_micros(sum);
    }
    // No balance at all: nothing prepaid is left, in the account's currency.
    if (totals.empty()) totals[m_account.currency.value_or("USD")] = Decimal();
    Reading reading;
    reading.available = false;
    for (const auto& [unit, total] : totals) {
      BalanceEntry entry{unit, total, std::nullopt, Json::object()};
      entry.details["project_id"] = message_text(project);
      entry.details["balances"] = it->size();
      reading.available = reading.available || total > Decimal();
      reading.balances.push_back(std::move(entry));
    }
    if (!reading.available) reading.unavailable_reason = "no balance left on the project";
    return reading;
  }

  std::string unit_of(const Json& item) const {
    auto it = item.find("units");
    if (it != item.end() && it->is_string() && !it->get<std::string>().empty())
      return message_text(upper_ascii(it->get<std::string>()));
    return m_account.currency.value_or("USD");
  }

  config::AccountConfig m_account;
  std::optional<std::string> m_project_id;
};

}  // namespace

std::unique_ptr<Provider> make_deepgram(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider deepgram needs api_key or api_key_file");
  auto project_id = settings.string("project_id");
  if (project_id && !valid_project_id(*project_id))
    settings.error("project_id", "project_id: expected a Deepgram project id (hex digits and dashes)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Deepgram>(account, project_id);
}

}  // namespace creditwatch::providers
