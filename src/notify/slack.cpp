// Slack incoming webhook (shared/reference/sinks.md section 1.1): Block Kit blocks plus a
// plain `text` fallback; success is HTTP 200 with the body `ok`; one message per second.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

namespace creditwatch::notify {
namespace {

constexpr std::size_t k_max_header = 150;  // Block Kit header text limit

std::string emoji(const Notification& n) {
  if (n.event == alerts::Event::resolved) return ":white_check_mark:";
  switch (n.severity) {
    case alerts::Severity::critical: return ":red_circle:";
    case alerts::Severity::warning: return ":warning:";
    case alerts::Severity::info: return ":information_source:";
  }
  return "";
}

nlohmann::json field(const std::string& label, const std::string& value) {
  return {{"type", "mrkdwn"}, {"text", "*" + label + "*\n" + value}};
}

nlohmann::json payload(const Notification& n) {
  std::string header = n.title();
  if (header.size() > k_max_header) header = header.substr(0, k_max_header - 3) + "...";
  const std::string money_suffix = n.currency.empty() ? "" : " " + n.currency;
  nlohmann::json fields = nlohmann::json::array({
      field("Account", n.account + " (" + n.provider + ")"),
      field("Severity", std::string(alerts::to_string(n.severity)) + (n.event == alerts::Event::resolved ? ", resolved" : "")),
      field("Balance", n.balance ? n.balance->to_string() + money_suffix : "-"),
      field("Burn per day", format_number(n.burn_per_day, 2) + (n.burn_per_day ? money_suffix : "")),
      field("Runway", n.runway_days ? describe_days(*n.runway_days) : "-"),
      field("Projected exhaustion (UTC)", n.exhausted_at ? format_rfc3339(*n.exhausted_at) : "-"),
      field("Recommended top-up", n.recommended_topup ? n.recommended_topup->to_string() + money_suffix : "-"),
  });
  std::string context = "creditwatch · " + format_rfc3339(n.at) + " · " + n.dedup_key;
  for (const auto& [k, v] : n.labels) context += " · " + k + "=" + v;
  nlohmann::json blocks = nlohmann::json::array({
      {{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", header}}}},
      {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", emoji(n) + " " + n.summary}}}, {"fields", fields}},
      {{"type", "context"}, {"elements", nlohmann::json::array({{{"type", "mrkdwn"}, {"text", context}}})}},
  });
  // `text` is what notifications and old clients show: keep every figure in it too.
  return {{"text", n.title() + "\n" + n.body_text()}, {"blocks", blocks}};
}

class Slack final : public Notifier {
public:
  explicit Slack(Secret webhook_url) : m_webhook_url(std::move(webhook_url)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override {
    auto request = sink_request(m_webhook_url.reveal());
    request.body = payload(n).dump();
    auto outcome = client.send(request);
    auto result = classify_http(outcome);
    if (result.outcome == DeliveryResult::Outcome::delivered && outcome->body != "ok") {
      // Slack answers exactly "ok"; anything else is a rejection that a retry will not fix.
      result.outcome = DeliveryResult::Outcome::permanent;
    }
    if (outcome && outcome->status == 429 && !result.retry_after) {
      // The body may carry {"retry_after":1,"ok":false,"error":"rate_limited"}.
      auto body = nlohmann::json::parse(outcome->body, nullptr, false);
      if (body.is_object() && body.contains("retry_after") && body["retry_after"].is_number()) {
        result.retry_after = std::chrono::seconds(body["retry_after"].get<int>());
      }
    }
    result.message = redact(std::move(result.message), url_secrets(m_webhook_url.reveal()));
    return result;
  }

  Duration min_interval() const override { return std::chrono::seconds(1); }

private:
  Secret m_webhook_url;
};

}  // namespace

std::unique_ptr<Notifier> make_slack(const config::NotifierConfig&, config::SettingsReader& settings) {
  auto url = settings.required_string("webhook_url");
  if (url && url->rfind("https://", 0) != 0 && url->rfind("http://", 0) != 0) {
    settings.error("webhook_url", "webhook_url must be an http(s) URL");
  }
  if (!settings.finish() || !url) return nullptr;
  return std::make_unique<Slack>(Secret(*url));
}

}  // namespace creditwatch::notify
