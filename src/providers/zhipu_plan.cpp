// Zhipu / Z.ai GLM Coding Plan: GET {base}/api/monitor/usage/quota/limit, the plan's usage
// windows as percent used. Not a wallet: see providers/quota_window.hpp.
//
// Sources (checked 2026-12-06):
// - Endpoint, hosts and auth: Zhipu's own usage plugin, linked from its docs
//   (docs.bigmodel.cn/cn/coding-plan/extension/usage-query-plugin and
//   docs.z.ai/devpack/extension/usage-query-plugin), zai-org/zai-coding-plugins
//   plugins/glm-plan-usage/skills/usage-query-skill/scripts/query-usage.mjs: GET
//   {https://open.bigmodel.cn | https://api.z.ai}/api/monitor/usage/quota/limit with the raw key
//   in `Authorization` (no `Bearer`) and `Accept-Language: en-US,en`; TOKENS_LIMIT is the
//   "Token usage (5 Hour)" window, TIME_LIMIT the monthly MCP tool quota; `percentage` is read.
//   The endpoint itself is not in Zhipu's public API reference.
// - Fields: public clients agree (codex-app-transfer src-tauri/src/glm_quota.rs, observed
//   2026-06-14; jukanntenn/glm-plan-usage docs/api-research.md): data.limits[] of
//   {type, unit, number, percentage, nextResetTime}; TOKENS_LIMIT unit 3 number 5 is the 5-hour
//   window, unit 6 number 1 the weekly one; `percentage` is the percent USED; nextResetTime
//   is epoch milliseconds. TOKENS_LIMIT entries no longer carry usage/currentValue/remaining.
// - Errors: a bad key answers HTTP 200 {"code":401,"msg":"token expired or incorrect",
//   "success":false} (observed by public clients); business codes from
//   docs.bigmodel.cn/cn/api/api-code: 1000-1004 authentication, 1113 arrears, 1302/1303
//   concurrency/frequency too high, 1309 coding plan expired. HTTP 429 is a rate limit unless
//   its body says 1113 (docs.z.ai/api-reference/api-code: "429 Account balance exhausted").
// Against shared/reference/providers-2.md: it says to accept `Bearer` too; Zhipu's plugin
// sends the raw key, so that is what we send. zai-rs (docs.rs) calls TIME_LIMIT the 5-hour
// window; Zhipu's plugin labels it the monthly MCP quota, which we follow.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/quota_window.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://open.bigmodel.cn";
constexpr const char* k_path = "/api/monitor/usage/quota/limit";

using Json = nlohmann::json;

// What a business code means for the probe; nullopt: no mapping, keep the HTTP meaning.
std::optional<ErrorKind> kind_of_code(long code) {
  if (code == 401 || (code >= 1000 && code <= 1004)) return ErrorKind::key_invalid;
  if (code == 1113 || code == 1309) return ErrorKind::exhausted;
  if (code == 429 || code == 1302 || code == 1303) return ErrorKind::rate_limited;
  return std::nullopt;
}

std::optional<long> code_of(const Json& body) {
  const auto it = body.find("code");
  if (it == body.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<long>();
  if (auto number = amount(*it)) return static_cast<long>(number->to_double());
  return std::nullopt;
}

ProbeError business_error(const Json& body, long http_status, std::optional<Duration> retry_after) {
  const auto code = code_of(body);
  const std::string said = provider_message(body);
  ProbeError e{ErrorKind::http_status, "", http_status, std::nullopt};
  if (auto kind = code ? kind_of_code(*code) : std::nullopt) e.kind = *kind;
  if (e.kind == ErrorKind::rate_limited) e.retry_after = retry_after;
  e.message = "HTTP " + std::to_string(http_status) + (code ? " with code " + std::to_string(*code) : "") +
              (said.empty() ? "" : ": " + said);
  return e;
}

// A non-200 answer: the business code when it says more than the status (429 + 1113).
ProbeError from_error_status(const http::Response& response) {
  // Through safe_text like the other providers: one stray byte must not hide code 1113.
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  if (body.is_object()) {
    if (auto code = code_of(body); code && kind_of_code(*code)) {
      return business_error(body, response.status, response.retry_after());
    }
  }
  return from_status(response);
}

bool is_window(const Json& limit, QuotaWindow window) {
  if (!limit.is_object()) return false;
  const auto type = limit.find("type");
  if (type == limit.end() || !type->is_string() || type->get<std::string>() != "TOKENS_LIMIT") return false;
  const auto unit = limit.find("unit");
  if (unit == limit.end() || !unit->is_number_integer()) return false;
  return unit->get<int>() == (window == QuotaWindow::weekly ? 6 : 3);
}

class ZhipuPlan final : public Provider {
public:
  ZhipuPlan(config::AccountConfig account, QuotaWindow window) : m_account(std::move(account)), m_window(window) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), k_path));
    request.headers.push_back({"Authorization", m_account.api_key.reveal()});
    request.headers.push_back({"Accept-Language", "en-US,en"});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_error_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    const auto success = body->find("success");
    if (success != body->end() && !success->is_boolean()) {
      return bad_response("success: expected true or false, got " + describe(*success));
    }
    const auto code = code_of(*body);
    if ((success != body->end() && !success->get<bool>()) || (code && *code != 200 && *code != 0)) {
      return business_error(*body, 200, std::nullopt);
    }
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    const auto data = body.find("data");
    if (data == body.end() || !data->is_object()) {
      return bad_response("data: expected an object, got " + (data == body.end() ? std::string("nothing") : describe(*data)));
    }
    const auto limits = data->find("limits");
    if (limits == data->end() || !limits->is_array()) {
      return bad_response("data.limits: expected a list, got " +
                          (limits == data->end() ? std::string("nothing") : describe(*limits)));
    }
    for (std::size_t i = 0; i < limits->size(); ++i) {
      const auto& limit = (*limits)[i];
      if (!is_window(limit, m_window)) continue;
      const std::string path = "data.limits[" + std::to_string(i) + "]";
      auto used = required_amount(limit, "percentage", path + ".percentage");
      if (!used) return used.error();
      const auto reset = limit.find("nextResetTime");
      auto reading = window_reading(m_window, *Decimal::parse("100") - *used,
                                    reset == limit.end() ? std::nullopt : epoch_time(*reset));
      if (auto level = data->find("level"); level != data->end() && level->is_string()) {
        reading.balances[0].details["plan"] = message_text(level->get<std::string>());
      }
      return reading;
    }
    return bad_response(std::string("data.limits holds no ") + window_label(m_window) +
                        " (TOKENS_LIMIT unit " + (m_window == QuotaWindow::weekly ? "6" : "3") +
                        "): is this a GLM Coding Plan key?");
  }

  config::AccountConfig m_account;
  QuotaWindow m_window;
};

}  // namespace

std::unique_ptr<Provider> make_zhipu_plan(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider zhipu_plan needs api_key or api_key_file");
  const auto window = window_setting(settings);
  if (!settings.finish() || !window) return nullptr;
  return std::make_unique<ZhipuPlan>(account, *window);
}

}  // namespace creditwatch::providers
