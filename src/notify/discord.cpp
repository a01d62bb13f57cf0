// Discord webhook execute (shared/reference/sinks.md section 1.6): `content` for the push
// notification, one embed with every figure. `?wait=true` makes Discord answer 200 with the
// saved message instead of a 204 that does not prove it was saved. Rate limits come from
// the answer (body `retry_after`, X-RateLimit-* headers), never from a hard-coded number.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/text.hpp"

namespace creditwatch::notify {
namespace {

constexpr std::size_t k_max_content = 2000;
constexpr std::size_t k_max_embed_title = 256;
constexpr std::size_t k_max_embed_description = 4096;
constexpr std::size_t k_max_embed_total = 6000;  // title + description + footer + fields
constexpr std::size_t k_max_username = 80;

int colour(const Notification& n) {
  if (n.event == alerts::Event::resolved) return 0x2ECC71;  // green, as Alertmanager
  switch (n.severity) {
    case alerts::Severity::critical: return 0x992D22;  // Alertmanager's firing red
    case alerts::Severity::warning: return 0xE67E22;
    case alerts::Severity::info: return 0x3498DB;
  }
  return 0x95A5A6;
}

nlohmann::json embed(const Notification& n) {
  const std::string title = truncate_text(n.account + " (" + n.provider + ")", k_max_embed_title);
  const std::string footer = "creditwatch · " + n.dedup_key;
  const std::size_t room = k_max_embed_total - text_length(title, TextUnit::code_points) -
                           std::min(text_length(footer, TextUnit::code_points), k_max_embed_total / 2);
  return {
      {"title", title},
      {"description", truncate_text(n.summary + "\n\n" + n.body_text(), std::min(k_max_embed_description, room))},
      {"color", colour(n)},
      {"footer", {{"text", truncate_text(footer, k_max_embed_total / 2)}}},
  };
}

nlohmann::json payload(const Notification& n, const std::string& username) {
  nlohmann::json body = {
      {"content", truncate_text(n.title(), k_max_content)},
      {"embeds", nlohmann::json::array({embed(n)})},
      // Summaries and labels are not ours to trust: no @everyone or role pings from them.
      {"allowed_mentions", {{"parse", nlohmann::json::array()}}},
  };
  if (!username.empty()) body["username"] = truncate_text(username, k_max_username);
  return body;
}

// A titled text (the digest): the title as `content`, the text as one embed's description.
nlohmann::json text_payload(const std::string& title, const std::string& text, const std::string& username) {
  nlohmann::json body = {
      {"content", truncate_text(title, k_max_content)},
      {"embeds", nlohmann::json::array({{{"description", truncate_text(text, k_max_embed_description)}}})},
      {"allowed_mentions", {{"parse", nlohmann::json::array()}}},
  };
  if (!username.empty()) body["username"] = truncate_text(username, k_max_username);
  return body;
}

std::string header(const http::Response& response, const std::string& lower_case_name) {
  auto it = response.headers.find(lower_case_name);
  return it == response.headers.end() ? "" : it->second;
}

// How long Discord asked us to wait after a 429: the longest of the body's precise
// `retry_after`, the bucket's reset and the Retry-After header.
std::optional<Duration> rate_limited_wait(const http::Response& response) {
  std::optional<Duration> wait;
  for (auto candidate : {json_seconds(response.body, nlohmann::json::json_pointer("/retry_after")),
                         header_seconds(header(response, "x-ratelimit-reset-after")), response.retry_after()}) {
    if (candidate && (!wait || *candidate > *wait)) wait = candidate;
  }
  return wait;
}

class Discord final : public Notifier {
public:
  Discord(Secret webhook_url, std::string username)
      : m_webhook_url(std::move(webhook_url)), m_username(std::move(username)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override {
    return post(json_text(payload(n, m_username)), client);
  }

  DeliveryResult deliver_text(const std::string& title, const std::string& text, http::Client& client) override {
    return post(json_text(text_payload(title, text, m_username)), client);
  }

private:
  DeliveryResult post(std::string body, http::Client& client) {
    if (m_deleted) {
      // Discord: "If a webhook returns a 404 status you should not attempt to use it again".
      return {DeliveryResult::Outcome::permanent,
              "not sent: Discord said the webhook no longer exists (HTTP 404); set a new webhook_url and reload", 404,
              std::nullopt};
    }
    const std::string& url = m_webhook_url.reveal();
    auto request = sink_request(url + (url.find('?') == std::string::npos ? "?" : "&") + "wait=true");
    request.body = std::move(body);
    auto outcome = client.send(request);
    auto result = classify_http(outcome, url_secrets(url));
    if (outcome) read_rate_limit(*outcome, result);
    if (result.http_status == 404) {
      m_deleted = true;
      result.message = "the webhook no longer exists: " + result.message;
    }
    result.message = redact(std::move(result.message), url_secrets(url));
    return result;
  }

  static void read_rate_limit(const http::Response& response, DeliveryResult& result) {
    if (response.status == 429) {
      result.retry_after = rate_limited_wait(response);
    } else if (result.outcome == DeliveryResult::Outcome::delivered &&
               header(response, "x-ratelimit-remaining") == "0") {
      // That was the bucket's last request: the next one would be a 429.
      result.retry_after = header_seconds(header(response, "x-ratelimit-reset-after"));
    }
  }

  Secret m_webhook_url;
  std::string m_username;
  bool m_deleted = false;  // deliver() runs on one thread only
};

}  // namespace

std::unique_ptr<Notifier> make_discord(const config::NotifierConfig&, config::SettingsReader& settings) {
  auto url = read_http_url(settings, "webhook_url");
  auto username = settings.string("username");
  if (!settings.finish() || !url) return nullptr;
  return std::make_unique<Discord>(Secret(*url), username.value_or(""));
}

}  // namespace creditwatch::notify
