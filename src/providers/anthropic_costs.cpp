// Anthropic organisation costs: GET {base}/v1/organizations/cost_report with an Admin key,
// summed since the budget period began (shapes in shared/reference/providers.md section 6a).
// Anthropic has no balance endpoint, so the balance is the configured credit or monthly budget
// minus that spend. Amounts are decimal strings in cents.
#include "builders.hpp"
#include "cost_budget.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.anthropic.com";
constexpr const char* k_api_version = "2023-06-01";
// Buckets per page: the API's maximum (1..31), so a month of budget is one request.
constexpr int k_page_limit = 31;
const Decimal k_cents = Decimal::from_micros(Decimal::k_scale / 100);

class AnthropicCosts final : public Provider {
public:
  AnthropicCosts(config::AccountConfig account, cost::Budget budget, const Clock& clock)
      : m_account(std::move(account)), m_budget(std::move(budget)), m_clock(clock) {}

  // Anthropic supports polling about once a minute, so unlike openai_costs nothing is cached.
  ProbeResult probe(http::Client& client) override {
    const TimePoint start = cost::period_start(m_budget, m_clock.now());
    auto cents = cost::sum_pages([&](const std::optional<std::string>& cursor) { return fetch(client, start, cursor); },
                                 [](const nlohmann::json& body) { return sum_page(body); });
    if (!cents) return cents.error();
    // Summed in cents and converted once, so the only rounding is Decimal's sixth place.
    return cost::budget_reading(m_budget, start, cents->scaled(k_cents));
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  // The API snaps starting_at to the start of its UTC day, so a budget_start in mid-day
  // counts that whole day.
  Result<nlohmann::json, ProbeError> fetch(http::Client& client, TimePoint start,
                                           const std::optional<std::string>& cursor) const {
    std::string url = join_url(base(), "/v1/organizations/cost_report") +
                      "?starting_at=" + cost::query_escape(format_rfc3339(start)) +
                      "&bucket_width=1d&limit=" + std::to_string(k_page_limit);
    if (cursor) url += "&page=" + cost::query_escape(*cursor);
    auto request = make_request(m_account, std::move(url));
    request.headers.push_back({"x-api-key", m_account.api_key.reveal()});
    request.headers.push_back({"anthropic-version", k_api_version});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return rejected(*outcome);
    return parse_object(*outcome);
  }

  // Ordinary sk-ant-api keys cannot read the cost report: say which key is needed.
  static ProbeError rejected(const http::Response& response) {
    ProbeError e = from_status(response);
    if (e.kind == ErrorKind::key_invalid) {
      e.message = "HTTP " + std::to_string(response.status) +
                  ": the cost report needs an Anthropic Admin key (sk-ant-admin...), not an API key";
      std::string detail = provider_message(response);
      if (!detail.empty()) e.message += ": " + detail;
    }
    return e;
  }

  // data[].results[].amount, in cents.
  static Result<Decimal, ProbeError> sum_page(const nlohmann::json& body) {
    auto buckets = cost::required_list(body, "data", "");
    if (!buckets) return buckets.error();
    Decimal total;
    for (std::size_t i = 0; i < (*buckets)->size(); ++i) {
      const std::string where = "data[" + std::to_string(i) + "]";
      auto results = cost::required_list((**buckets)[i], "results", where);
      if (!results) return results.error();
      for (std::size_t j = 0; j < (*results)->size(); ++j) {
        auto value = result_cents((**results)[j], where + ".results[" + std::to_string(j) + "]");
        if (!value) return value.error();
        total += *value;
      }
    }
    return total;
  }

  static Result<Decimal, ProbeError> result_cents(const nlohmann::json& result, const std::string& where) {
    if (!result.is_object()) return bad_response(where + ": expected an object, got " + describe(result));
    auto currency = result.find("currency");
    if (currency != result.end() && !currency->is_null()) {
      if (!currency->is_string()) return bad_response(where + ".currency: expected a string, got " + describe(*currency));
      if (currency->get<std::string>() != cost::k_currency) {
        return bad_response(where + ".currency: expected USD, got " + currency->get<std::string>());
      }
    }
    return required_amount(result, "amount", where + ".amount");
  }

  config::AccountConfig m_account;
  cost::Budget m_budget;
  const Clock& m_clock;
};

}  // namespace

std::unique_ptr<Provider> make_anthropic_costs(const config::AccountConfig& account, const Clock& clock,
                                               SettingsReader& settings) {
  if (account.api_key.empty()) {
    settings.error("api_key",
                   "provider anthropic_costs needs an Anthropic Admin key (sk-ant-admin...) in api_key or api_key_file");
  }
  auto budget = cost::read_budget(account, clock, settings);
  if (!settings.finish() || !budget) return nullptr;
  return std::make_unique<AnthropicCosts>(account, *budget, clock);
}

}  // namespace creditwatch::providers
