// Microsoft Teams through a Workflows (Power Automate) webhook with an Adaptive Card, the
// shape Alertmanager's msteamsv2 sends (shared/reference/sinks.md section 1.7). Workflows
// answer 202 with an empty body, which only means "accepted by the flow".
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/text.hpp"

namespace creditwatch::notify {
namespace {

// Teams rejects messages above about 28 KB. These bounds (in characters) keep a card of
// ASCII well inside that; four-byte characters, or quotes that double when escaped, can
// still cross it, so then every bound is divided until the message fits.
constexpr std::size_t k_max_title = 512;
constexpr std::size_t k_max_text = 4000;
constexpr std::size_t k_max_fact = 512;
constexpr std::size_t k_max_facts = 40;
constexpr std::size_t k_max_message_bytes = 27'000;
constexpr std::size_t k_max_divisor = 64;  // 8-character facts: far below the limit whatever the text

// Alertmanager's colours: Attention firing, Good resolved, Warning otherwise.
const char* colour(const Notification& n) {
  if (n.event == alerts::Event::resolved) return "Good";
  return n.severity == alerts::Severity::critical ? "Attention" : "Warning";
}

nlohmann::json facts(const Notification& n, std::size_t divisor) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, value] : figure_strings(n)) {
    if (out.size() == k_max_facts) break;
    out.push_back({{"title", truncate_text(name, k_max_fact / divisor)},
                   {"value", truncate_text(value, k_max_fact / divisor)}});
  }
  return out;
}

nlohmann::json adaptive_card(const Notification& n, std::size_t divisor) {
  nlohmann::json body = nlohmann::json::array({
      {{"type", "TextBlock"},
       {"text", truncate_text(n.title(), k_max_title / divisor)},
       {"weight", "Bolder"},
       {"size", "Medium"},
       {"wrap", true},
       {"style", "heading"},
       {"color", colour(n)}},
      {{"type", "TextBlock"}, {"text", truncate_text(n.summary, k_max_text / divisor)}, {"wrap", true}},
      {{"type", "FactSet"}, {"facts", facts(n, divisor)}},
  });
  return {
      {"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
      {"type", "AdaptiveCard"},
      {"version", "1.2"},
      {"body", body},
      {"msteams", {{"width", "full"}}},
  };
}

nlohmann::json payload(const Notification& n, std::size_t divisor) {
  return {
      {"type", "message"},
      {"attachments", nlohmann::json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                              {"contentUrl", nullptr},
                                              {"content", adaptive_card(n, divisor)}}})},
  };
}

// The message's JSON text, within Teams' size limit.
std::string message_text(const Notification& n) {
  std::string text = json_text(payload(n, 1));
  for (std::size_t divisor = 2; text.size() > k_max_message_bytes && divisor <= k_max_divisor; divisor *= 2) {
    text = json_text(payload(n, divisor));
  }
  return text;
}

// A titled text (the digest) as a card of two text blocks, cut to fit Teams' size limit.
std::string text_message(const std::string& title, const std::string& text) {
  nlohmann::json body = nlohmann::json::array({
      {{"type", "TextBlock"}, {"text", truncate_text(title, k_max_title)}, {"weight", "Bolder"}, {"size", "Medium"},
       {"wrap", true}, {"style", "heading"}},
      {{"type", "TextBlock"}, {"text", truncate_text(text, k_max_message_bytes / 2, TextUnit::bytes)}, {"wrap", true}},
  });
  nlohmann::json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                         {"type", "AdaptiveCard"},
                         {"version", "1.2"},
                         {"body", body},
                         {"msteams", {{"width", "full"}}}};
  return json_text({{"type", "message"},
                    {"attachments", nlohmann::json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                                            {"contentUrl", nullptr},
                                                            {"content", card}}})}});
}

class MsTeams final : public Notifier {
public:
  explicit MsTeams(Secret webhook_url) : m_webhook_url(std::move(webhook_url)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override { return post(message_text(n), client); }

  DeliveryResult deliver_text(const std::string& title, const std::string& text, http::Client& client) override {
    return post(text_message(title, text), client);
  }

  // Teams throttles a webhook above 4 requests per second (documented for the legacy
  // connectors; the closest figure published for Workflows).
  Duration min_interval() const override { return std::chrono::milliseconds(250); }

private:
  DeliveryResult post(std::string body, http::Client& client) {
    auto request = sink_request(m_webhook_url.reveal());
    request.body = std::move(body);
    auto result = classify_http(client.send(request), url_secrets(m_webhook_url.reveal()));
    result.message = redact(std::move(result.message), url_secrets(m_webhook_url.reveal()));
    return result;
  }

  Secret m_webhook_url;
};

}  // namespace

std::unique_ptr<Notifier> make_msteams(const config::NotifierConfig&, config::SettingsReader& settings) {
  auto url = read_http_url(settings, "webhook_url");
  if (!settings.finish() || !url) return nullptr;
  return std::make_unique<MsTeams>(Secret(*url));
}

}  // namespace creditwatch::notify
