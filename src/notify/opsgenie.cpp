// Opsgenie Alert API (shared/reference/sinks.md section 1.8): a firing alert creates an
// Opsgenie alert whose alias is the dedup key; an acknowledgement acknowledges it and a
// resolution closes it, both by that alias.
// Opsgenie answers 202 and processes asynchronously; 429 and 5xx are retried, other 4xx
// are permanent.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/text.hpp"

namespace creditwatch::notify {
namespace {

constexpr const char* k_default_url = "https://api.opsgenie.com";  // EU: https://api.eu.opsgenie.com
constexpr std::size_t k_max_message = 130;
constexpr std::size_t k_max_alias = 512;
constexpr std::size_t k_max_description = 15000;
constexpr std::size_t k_max_tag = 50;
constexpr std::size_t k_max_entity = 512;
constexpr std::size_t k_max_user = 100;
constexpr std::size_t k_max_note = 25000;

// critical pages (P1), warning is Opsgenie's default P3, info the lowest P5.
const char* priority(alerts::Severity severity) {
  switch (severity) {
    case alerts::Severity::critical: return "P1";
    case alerts::Severity::warning: return "P3";
    case alerts::Severity::info: return "P5";
  }
  return "P3";
}

nlohmann::json details(const Notification& n) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : figure_strings(n)) out[name] = value;
  return out;
}

nlohmann::json tags(const Notification& n, const std::vector<std::string>& extra) {
  nlohmann::json out = {"creditwatch", alerts::to_string(n.rule), alerts::to_string(n.severity),
                        truncate_text(n.provider, k_max_tag)};
  if (n.test) out.push_back("test");
  for (const auto& tag : extra) out.push_back(truncate_text(tag, k_max_tag));
  return out;
}

nlohmann::json create_body(const Notification& n, const std::vector<std::string>& extra_tags) {
  return {
      {"message", truncate_text(n.title(), k_max_message)},
      {"alias", truncate_text(n.dedup_key, k_max_alias)},
      {"description", truncate_text(n.summary + "\n\n" + n.body_text(), k_max_description)},
      {"priority", priority(n.severity)},
      {"details", details(n)},
      {"tags", tags(n, extra_tags)},
      {"entity", truncate_text(n.account, k_max_entity)},
      {"source", "creditwatch"},
  };
}

// POST /v2/alerts/{alias}/acknowledge: who acknowledged it (Opsgenie shows `user` as the
// request's owner) and their comment as the note.
nlohmann::json acknowledge_body(const Notification& n) {
  nlohmann::json body = {{"source", "creditwatch"}};
  if (n.ack && !n.ack->by.empty()) body["user"] = truncate_text(n.ack->by, k_max_user);
  if (n.ack && !n.ack->comment.empty()) body["note"] = truncate_text(n.ack->comment, k_max_note);
  return body;
}

class Opsgenie final : public Notifier {
public:
  Opsgenie(std::string base_url, Secret api_key, std::vector<std::string> tags)
      : m_base_url(std::move(base_url)), m_api_key(std::move(api_key)), m_tags(std::move(tags)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override {
    http::Request request;
    const std::string alias_path = m_base_url + "/v2/alerts/" + percent_encode(truncate_text(n.dedup_key, k_max_alias));
    if (n.event == alerts::Event::resolved) {
      request = sink_request(alias_path + "/close?identifierType=alias");
      request.body = json_text({{"source", "creditwatch"}, {"note", truncate_text(n.title(), k_max_description)}});
    } else if (n.reason == alerts::Reason::acknowledged) {
      request = sink_request(alias_path + "/acknowledge?identifierType=alias");
      request.body = json_text(acknowledge_body(n));
    } else {
      request = sink_request(m_base_url + "/v2/alerts");
      request.body = json_text(create_body(n, m_tags));
    }
    request.headers.push_back({"Authorization", "GenieKey " + m_api_key.reveal()});
    auto result = classify_http(client.send(request), {m_api_key.reveal()});
    result.message = redact(std::move(result.message), {m_api_key.reveal()});
    return result;
  }

private:
  std::string m_base_url;
  Secret m_api_key;
  std::vector<std::string> m_tags;
};

}  // namespace

std::unique_ptr<Notifier> make_opsgenie(const config::NotifierConfig&, config::SettingsReader& settings) {
  auto api_key = settings.required_string("api_key");
  auto url = read_http_url(settings, "url", std::string(k_default_url));
  std::vector<std::string> tags;
  if (const auto* setting = settings.raw("tags")) {
    if (!setting->value.empty() || !setting->entries.empty()) settings.error("tags", "tags must be a list of strings");
    tags = setting->items;
  }
  if (!settings.finish() || !api_key || !url) return nullptr;
  return std::make_unique<Opsgenie>(strip_trailing_slashes(*url), Secret(*api_key), std::move(tags));
}

}  // namespace creditwatch::notify
