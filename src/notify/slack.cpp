// Slack incoming webhook (shared/reference/sinks.md section 1.1): Block Kit blocks plus a
// plain `text` fallback; success is HTTP 200 with the body `ok`; one message per second.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/amount_text.hpp"
#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

#include <algorithm>

namespace creditwatch::notify {
namespace {

// Block Kit limits, in characters (code points): header text, section text, one section
// field, and the message's `text` (longer is cut by Slack with a warning).
constexpr std::size_t k_max_header = 150;
constexpr std::size_t k_max_section = 3000;
constexpr std::size_t k_max_field = 2000;
constexpr std::size_t k_max_text = 40000;

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
  return {{"type", "mrkdwn"}, {"text", truncate_text("*" + label + "*\n" + value, k_max_field)}};
}

nlohmann::json payload(const Notification& n) {
  const std::string header = truncate_text(n.title(), k_max_header);
  nlohmann::json fields = nlohmann::json::array({
      field("Account", n.account + " (" + n.provider + ")"),
      field("Severity", std::string(alerts::to_string(n.severity)) + (n.event == alerts::Event::resolved ? ", resolved" : "")),
      field("Balance", n.balance ? amount_with_unit(n.balance->to_string(), n.currency) : "-"),
      field("Burn per day", n.burn_per_day ? amount_with_unit(format_number(n.burn_per_day, 2), n.currency) : "-"),
      field("Runway", n.runway_days ? describe_days(*n.runway_days) : "-"),
      field("Projected exhaustion (UTC)", n.exhausted_at ? format_rfc3339(*n.exhausted_at) : "-"),
      field("Recommended top-up", n.recommended_topup ? amount_with_unit(n.recommended_topup->to_string(), n.currency) : "-"),
  });
  if (n.ack) fields.push_back(field("Acknowledged", acknowledgement_text(*n.ack)));
  const std::string section = truncate_text(emoji(n) + " " + n.summary, k_max_section);
  std::string context = "creditwatch · " + format_rfc3339(n.at) + " · " + n.dedup_key;
  for (const auto& [k, v] : n.labels) context += " · " + k + "=" + v;
  context = truncate_text(context, k_max_section);
  nlohmann::json blocks = nlohmann::json::array({
      {{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", header}}}},
      {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", section}}}, {"fields", fields}},
      {{"type", "context"}, {"elements", nlohmann::json::array({{{"type", "mrkdwn"}, {"text", context}}})}},
  });
  // `text` is what notifications and old clients show: keep every figure in it too.
  return {{"text", truncate_text(n.title() + "\n" + n.body_text(), k_max_text)}, {"blocks", blocks}};
}

// Slack asks for &, < and > escaped in mrkdwn; everything else in our text is literal.
std::string mrkdwn_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

// A message holds at most 50 blocks: the header, a section per currency's totals, then the
// groups' lines packed into sections of at most k_max_section characters. What does not fit
// is counted in a closing context block; `text` still carries the whole digest.
constexpr std::size_t k_max_digest_blocks = 50;

nlohmann::json digest_section(const std::string& text) {
  return {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", truncate_text(text, k_max_section)}}}};
}

nlohmann::json digest_blocks(const Digest& d) {
  nlohmann::json blocks = nlohmann::json::array(
      {{{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", truncate_text(digest_title(d), k_max_header)}}}}});
  for (const auto& total : d.totals()) blocks.push_back(digest_section(":bar_chart: " + mrkdwn_escape(digest_total_line(total))));
  std::size_t left_out = 0;
  for (const auto& group : d.groups()) {
    std::string text = d.group_by.empty() ? "" : "*" + mrkdwn_escape(digest_group_heading(d, group)) + "*\n";
    for (const auto* a : group.accounts) {
      const std::string line = "• " + mrkdwn_escape(digest_account_line(*a)) + "\n";
      if (text_length(text + line, TextUnit::code_points) > k_max_section && !text.empty()) {
        if (blocks.size() + 2 < k_max_digest_blocks) blocks.push_back(digest_section(text));
        else left_out += static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
        text.clear();
      }
      text += line;
    }
    if (text.empty()) continue;
    if (blocks.size() + 2 < k_max_digest_blocks) blocks.push_back(digest_section(text));
    else left_out += static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  std::string context = "creditwatch · " + d.dedup_key();
  if (left_out > 0) context += " · " + std::to_string(left_out) + " more lines in the message text";
  blocks.push_back({{"type", "context"}, {"elements", nlohmann::json::array({{{"type", "mrkdwn"}, {"text", context}}})}});
  return blocks;
}

nlohmann::json digest_payload(const Digest& d) {
  return {{"text", truncate_text(digest_text(d), k_max_text)}, {"blocks", digest_blocks(d)}};
}

class Slack final : public Notifier {
public:
  explicit Slack(Secret webhook_url) : m_webhook_url(std::move(webhook_url)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override {
    return post(json_text(payload(n)), client);
  }

  DeliveryResult send_digest(const Digest& d, http::Client& client) override {
    return post(json_text(digest_payload(d)), client);
  }

  Duration min_interval() const override { return std::chrono::seconds(1); }

private:
  DeliveryResult post(std::string message, http::Client& client) {
    auto request = sink_request(m_webhook_url.reveal());
    request.body = std::move(message);
    auto outcome = client.send(request);
    auto result = classify_http(outcome, url_secrets(m_webhook_url.reveal()));
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
