// MiniMax Coding Plan: GET {base}/v1/api/openplatform/coding_plan/remains, the plan's usage
// windows as percent left. Not a wallet: see providers/quota_window.hpp.
//
// Sources (checked 2026-12-06):
// - Endpoint and auth: MiniMax's Coding Plan FAQ (platform.minimax.io/docs/coding-plan/faq):
//   `GET https://www.minimax.io/v1/api/openplatform/coding_plan/remains` with
//   `Authorization: Bearer <API Key>`, the Coding Plan key (not interchangeable with an Open
//   Platform key); the 5-hour limit is "dynamic": usage older than 5 hours is released.
//   China: www.minimaxi.com (public clients; set base_url).
// - Error codes: platform.minimax.io/docs/api-reference/errorcode: 1002 rate limit, 1004 not
//   authorized / cookie is missing. Failures come as HTTP 200 with base_resp.status_code != 0.
// - Fields: not in MiniMax's docs. Public clients agree (cc-switch coding_plan.rs as described
//   by others, and several independent parsers with fixtures): model_remains[] entries with
//   model_name "general" carry current_interval_remaining_percent and end_time (epoch ms)
//   for the 5-hour window, current_weekly_remaining_percent and weekly_end_time for the
//   weekly one, which exists only when current_weekly_status is 1 (3: no weekly cap).
//   Without the percent fields, current_interval_total_count and current_interval_usage_count
//   are read; the latter is the count LEFT despite its name (MiniMax-AI/MiniMax-M2 issue 99).
// Against shared/reference/providers-2.md: it agrees on the fields; its hosts api.minimaxi.com
// and api.minimax.io are what clients use, the FAQ documents www.minimax.io, our default.
#include "builders.hpp"

#include "creditwatch/providers/quota_window.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://www.minimax.io";
constexpr const char* k_path = "/v1/api/openplatform/coding_plan/remains";

using Json = nlohmann::json;

std::optional<ProbeError> base_resp_error(const Json& body) {
  const auto resp = body.find("base_resp");
  if (resp == body.end()) return std::nullopt;
  if (!resp->is_object()) return bad_response("base_resp: expected an object, got " + describe(*resp));
  const auto code = resp->find("status_code");
  if (code == resp->end()) return std::nullopt;
  if (!code->is_number_integer()) return bad_response("base_resp.status_code: expected an integer, got " + describe(*code));
  const long number = code->get<long>();
  if (number == 0) return std::nullopt;
  ProbeError e{ErrorKind::http_status, "", 200, std::nullopt};
  if (number == 1004) e.kind = ErrorKind::key_invalid;
  if (number == 1002) e.kind = ErrorKind::rate_limited;
  const std::string said = resp->contains("status_msg") && (*resp)["status_msg"].is_string()
                               ? message_text((*resp)["status_msg"].get<std::string>())
                               : std::string();
  e.message = "HTTP 200 with base_resp.status_code " + std::to_string(number) + (said.empty() ? "" : ": " + said);
  return e;
}

// The plan-wide entry: "general", else the only one there is.
const Json* general_entry(const Json& remains) {
  for (const auto& entry : remains) {
    if (!entry.is_object()) continue;
    const auto name = entry.find("model_name");
    if (name != entry.end() && name->is_string() && name->get<std::string>() == "general") return &entry;
  }
  return remains.size() == 1 && remains[0].is_object() ? &remains[0] : nullptr;
}

class MinimaxPlan final : public Provider {
public:
  MinimaxPlan(config::AccountConfig account, QuotaWindow window) : m_account(std::move(account)), m_window(window) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), k_path));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    if (auto failed = base_resp_error(*body)) return *failed;
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    const auto remains = body.find("model_remains");
    if (remains == body.end() || !remains->is_array()) {
      return bad_response("model_remains: expected a list, got " +
                          (remains == body.end() ? std::string("nothing") : describe(*remains)));
    }
    const Json* entry = general_entry(*remains);
    if (!entry) return bad_response("model_remains holds no \"general\" entry: is this a Coding Plan key?");
    const bool weekly = m_window == QuotaWindow::weekly;
    if (weekly) {
      const auto status = entry->find("current_weekly_status");
      if (status != entry->end() && status->is_number_integer() && status->get<int>() != 1) {
        return bad_response("this plan has no weekly window (current_weekly_status " +
                            std::to_string(status->get<int>()) + "): watch window 5h instead");
      }
    }
    auto left = percent_left(*entry, weekly ? "current_weekly" : "current_interval");
    if (!left) return left.error();
    const auto reset = entry->find(weekly ? "weekly_end_time" : "end_time");
    return window_reading(m_window, *left, reset == entry->end() ? std::nullopt : epoch_time(*reset));
  }

  // `{prefix}_remaining_percent`, or the counts when only they are sent.
  static Result<Decimal, ProbeError> percent_left(const Json& entry, const std::string& prefix) {
    const std::string percent_key = prefix + "_remaining_percent";
    if (entry.contains(percent_key)) {
      return required_amount(entry, percent_key, "model_remains[general]." + percent_key);
    }
    const auto total = entry.contains(prefix + "_total_count") ? amount(entry[prefix + "_total_count"]) : std::nullopt;
    const auto left = entry.contains(prefix + "_usage_count") ? amount(entry[prefix + "_usage_count"]) : std::nullopt;
    if (!total || !left || *total <= Decimal()) {
      return bad_response("model_remains[general] has neither " + percent_key + " nor " + prefix +
                          "_total_count and " + prefix + "_usage_count");
    }
    // Clamped before the conversion: a count far above its total is a bad body, not a
    // percent that overflows a Decimal.
    return Decimal::from_double(std::clamp(left->to_double() / total->to_double() * 100, 0.0, 100.0));
  }

  config::AccountConfig m_account;
  QuotaWindow m_window;
};

}  // namespace

std::unique_ptr<Provider> make_minimax_plan(const config::AccountConfig& account, const Clock&,
                                            SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider minimax_plan needs api_key or api_key_file");
  const auto window = window_setting(settings);
  if (!settings.finish() || !window) return nullptr;
  return std::make_unique<MinimaxPlan>(account, *window);
}

}  // namespace creditwatch::providers
