// OpenAI organisation costs: GET {base}/v1/organization/costs with an Admin key, summed since
// the budget period began (shapes in shared/reference/providers.md section 5a). OpenAI has no
// balance endpoint, so the balance is the configured credit or monthly budget minus that spend.
#include "builders.hpp"
#include "cost_budget.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.openai.com";
// Costs come in daily buckets that settle slowly, so polling faster tells nothing new and pages
// through the whole period each time. Within this floor a probe answers from the last fetch
// (at the current time); users should still set `interval: 1h` on these accounts. The floor is
// a little under an hour so a 1h interval with jitter still fetches every time.
constexpr Duration k_refresh_floor = std::chrono::minutes(55);
// Buckets per page: the API's maximum (1..180), so a year of credit takes three requests.
constexpr int k_page_limit = 180;

class OpenAICosts final : public Provider {
public:
  OpenAICosts(config::AccountConfig account, cost::Budget budget, const Clock& clock)
      : m_account(std::move(account)), m_budget(std::move(budget)), m_clock(clock) {}

  ProbeResult probe(http::Client& client) override {
    const TimePoint now = m_clock.now();
    const TimePoint start = cost::period_start(m_budget, now);
    if (m_cache && m_cache->start == start && now - m_cache->fetched_at < k_refresh_floor) {
      return cost::budget_reading(m_budget, start, m_cache->spend);
    }
    auto spend = cost::sum_pages([&](const std::optional<std::string>& cursor) { return fetch(client, start, cursor); },
                                 [](const nlohmann::json& body) { return sum_page(body); });
    if (!spend) return spend.error();
    m_cache = Cache{now, start, *spend};
    return cost::budget_reading(m_budget, start, *spend);
  }

private:
  struct Cache {
    TimePoint fetched_at;
    TimePoint start;
    Decimal spend;
  };

  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  Result<nlohmann::json, ProbeError> fetch(http::Client& client, TimePoint start,
                                           const std::optional<std::string>& cursor) const {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(start.time_since_epoch()).count();
    std::string url = join_url(base(), "/v1/organization/costs") + "?start_time=" + std::to_string(seconds) +
                      "&bucket_width=1d&limit=" + std::to_string(k_page_limit);
    if (cursor) url += "&page=" + cost::query_escape(*cursor);
    auto request = make_request(m_account, std::move(url));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return rejected(*outcome);
    return parse_object(*outcome);
  }

  // Project and service-account keys cannot read costs: say which key is needed.
  static ProbeError rejected(const http::Response& response) {
    ProbeError e = from_status(response);
    if (e.kind == ErrorKind::key_invalid) {
      e.message = "HTTP " + std::to_string(response.status) +
                  ": the costs API needs an OpenAI Admin key (sk-admin-...), not a project key";
      std::string detail = provider_message(response);
      if (!detail.empty()) e.message += ": " + detail;
    }
    return e;
  }

  // data[].results[].amount.value, in USD.
  static Result<Decimal, ProbeError> sum_page(const nlohmann::json& body) {
    auto buckets = cost::required_list(body, "data", "");
    if (!buckets) return buckets.error();
    Decimal total;
    for (std::size_t i = 0; i < (*buckets)->size(); ++i) {
      const std::string where = "data[" + std::to_string(i) + "]";
      auto results = cost::required_list((**buckets)[i], "results", where);
      if (!results) return results.error();
      for (std::size_t j = 0; j < (*results)->size(); ++j) {
        auto value = result_amount((**results)[j], where + ".results[" + std::to_string(j) + "]");
        if (!value) return value.error();
        total += *value;
      }
    }
    return total;
  }

  static Result<Decimal, ProbeError> result_amount(const nlohmann::json& result, const std::string& where) {
    if (!result.is_object()) return bad_response(where + ": expected an object, got " + describe(result));
    auto money = result.find("amount");
    if (money == result.end()) return bad_response(where + ".amount is missing");
    if (!money->is_object()) return bad_response(where + ".amount: expected an object, got " + describe(*money));
    auto currency = money->find("currency");
    if (currency != money->end() && !currency->is_null()) {
      if (!currency->is_string()) {
        return bad_response(where + ".amount.currency: expected a string, got " + describe(*currency));
      }
      std::string code = currency->get<std::string>();
      if (code != "usd" && code != "USD") return bad_response(where + ".amount.currency: expected usd, got " + code);
    }
    return required_amount(*money, "value", where + ".amount.value");
  }

  config::AccountConfig m_account;
  cost::Budget m_budget;
  const Clock& m_clock;
  std::optional<Cache> m_cache;
};

}  // namespace

std::unique_ptr<Provider> make_openai_costs(const config::AccountConfig& account, const Clock& clock,
                                            SettingsReader& settings) {
  if (account.api_key.empty()) {
    settings.error("api_key", "provider openai_costs needs an OpenAI Admin key (sk-admin-...) in api_key or api_key_file");
  }
  auto budget = cost::read_budget(account, clock, settings);
  if (!settings.finish() || !budget) return nullptr;
  return std::make_unique<OpenAICosts>(account, *budget, clock);
}

}  // namespace creditwatch::providers
