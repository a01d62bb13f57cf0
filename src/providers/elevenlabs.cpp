// ElevenLabs: GET {base}/v1/user/subscription with `xi-api-key: <key>`; a character quota
// that refills each billing period, not a wallet.
//
// Confirmed against ElevenLabs' docs:
// - API reference (OpenAPI, mirrored in api-evangelist/elevenlabs elevenlabs-user-api-openapi.yml):
//   GET /v1/user/subscription "Get User Subscription Info", header xi-api-key, 200
//   ExtendedSubscriptionResponseModel, 422 validation error. The official SDKs' Subscription
//   model (elevenlabs-python client.user, elevenlabs-js docs/management/user.md): tier,
//   character_count (used this period), character_limit, can_extend_character_limit,
//   allowed_to_extend_character_limit, next_character_count_reset_unix (Unix seconds),
//   status, currency.
// - Errors: {"detail":{"status":"invalid_api_key","message":"..."}} with 401; a used-up
//   quota is status quota_exceeded (ElevenLabs' error docs); 429 too many concurrent requests.
// shared/reference/providers-2.md agrees.
//
// What is left is character_limit - character_count, in the unit `characters` (the account's
// `currency` can rename it). The reset goes into details as `resets_at` (RFC 3339), the key
// zhipu_plan and minimax_plan use (providers/quota_window.hpp): the forecast ledger reads it
// back, so the refill at the reset is not a deposit and the runway is judged against it.
// A plan with usage-based billing switched on (can_extend and allowed_to_extend) keeps
// serving past its limit, billed as overage.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/providers/quota_window.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://api.elevenlabs.io";

using Json = nlohmann::json;

// ElevenLabs' {"detail":{"status":"quota_exceeded",...}} is out of characters on any status.
ProbeError from_error_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const auto body = Json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false);
  if (!body.is_object() || !body.contains("detail") || !body["detail"].is_object()) return e;
  const auto& detail = body["detail"];
  if (detail.contains("status") && detail["status"] == "quota_exceeded") {
    e.kind = ErrorKind::exhausted;
    e.retry_after.reset();
    e.message = message_text("HTTP " + std::to_string(response.status) + " character quota used up: " +
                             provider_message(response));
  }
  return e;
}

bool flag(const Json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_boolean() && it->get<bool>();
}

class ElevenLabs final : public Provider {
public:
  explicit ElevenLabs(config::AccountConfig account)
      : m_account(std::move(account)), m_unit(m_account.currency.value_or("characters")) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/v1/user/subscription"));
    request.headers.push_back({"xi-api-key", m_account.api_key.reveal()});
    auto body = fetch_object(client, request, from_error_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    auto limit = required_amount(body, "character_limit", "character_limit");
    if (!limit) return limit.error();
    auto used = required_amount(body, "character_count", "character_count");
    if (!used) return used.error();
    const Decimal left = *limit - *used;
    BalanceEntry entry{m_unit, left, std::nullopt, Json::object()};
    copy_amounts(body, {"character_count", "character_limit"}, entry.details);
    for (const char* part : {"tier", "status"}) {
      if (auto it = body.find(part); it != body.end() && it->is_string())
        entry.details[part] = message_text(it->get<std::string>());
    }
    std::optional<TimePoint> resets_at;
    if (auto it = body.find("next_character_count_reset_unix"); it != body.end()) resets_at = epoch_time(*it);
    if (resets_at) entry.details["resets_at"] = format_rfc3339(*resets_at);
    const bool overage = flag(body, "can_extend_character_limit") && flag(body, "allowed_to_extend_character_limit");
    // Usage-based billing goes on past the limit: the alert rules read this as postpaid.
    if (overage) entry.details["postpaid"] = true;
    Reading reading;
    reading.available = left > Decimal() || overage;
    if (!reading.available) {
      reading.unavailable_reason =
          "character quota used up" + (resets_at ? ", resets at " + format_rfc3339(*resets_at) : std::string());
    }
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_unit;
};

}  // namespace

std::unique_ptr<Provider> make_elevenlabs(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider elevenlabs needs api_key or api_key_file");
  if (!settings.finish()) return nullptr;
  return std::make_unique<ElevenLabs>(account);
}

}  // namespace creditwatch::providers
