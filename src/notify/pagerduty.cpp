// PagerDuty Events API v2 (shared/reference/sinks.md section 1.2): a firing alert is a
// `trigger`, its acknowledgement an `acknowledge` and its resolution a `resolve` with the same
// dedup_key, so PagerDuty opens one incident per (account, rule), marks it acknowledged (its
// escalation stops there too) and closes it again. 202 accepted; 400 permanent; 429 and
// 5xx retried.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

#include <unistd.h>

#include <climits>

namespace creditwatch::notify {
namespace {

constexpr const char* k_default_url = "https://events.pagerduty.com/v2/enqueue";
constexpr std::size_t k_max_summary = 1024;
constexpr std::size_t k_max_dedup_key = 255;
constexpr std::size_t k_routing_key_length = 32;
constexpr std::size_t k_max_event_bytes = 512000;  // PagerDuty drops larger events
// PagerDuty's advice for 429 when it sends no Retry-After: retry "30 seconds apart".
constexpr auto k_rate_limited_pause = std::chrono::seconds(30);

// Our severities map one to one onto PagerDuty's; PagerDuty's `error` is not used.
const char* pagerduty_severity(alerts::Severity severity) {
  switch (severity) {
    case alerts::Severity::critical: return "critical";
    case alerts::Severity::warning: return "warning";
    case alerts::Severity::info: return "info";
  }
  return "info";
}

std::string default_source() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "creditwatch";
  return std::string("creditwatch@") + host;
}

nlohmann::json trigger_payload(const Notification& n, const std::string& source) {
  nlohmann::json payload = {
      {"summary", truncate_text(n.title(), k_max_summary)},
      {"source", source},
      {"severity", pagerduty_severity(n.severity)},
      {"timestamp", format_rfc3339(n.at)},
      {"component", safe_text(n.provider, LineBreaks::fold)},
      {"group", safe_text(n.account, LineBreaks::fold)},
      {"class", alerts::to_string(n.rule)},
      {"custom_details", figures_json(n)},
  };
  payload["custom_details"]["summary"] = safe_text(n.summary, LineBreaks::fold);
  return payload;
}

class PagerDuty final : public Notifier {
public:
  PagerDuty(std::string url, Secret routing_key, std::string source)
      : m_url(std::move(url)), m_routing_key(std::move(routing_key)), m_source(std::move(source)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override {
    auto request = sink_request(m_url);
    request.body = json_text(event(n));
    auto outcome = client.send(request);
    auto result = classify_http(outcome, {m_routing_key.reveal()});
    if (result.http_status == 429 && !result.retry_after) result.retry_after = k_rate_limited_pause;
    result.message = redact(std::move(result.message), {m_routing_key.reveal()});
    return result;
  }

  // "approximately 120 calls/minute per integration key".
  Duration min_interval() const override { return std::chrono::milliseconds(500); }

private:
  nlohmann::json event(const Notification& n) const {
    nlohmann::json event = {
        {"routing_key", m_routing_key.reveal()},
        {"dedup_key", truncate_text(n.dedup_key, k_max_dedup_key)},
    };
    if (n.event == alerts::Event::resolved) {
      event["event_action"] = "resolve";
      return event;
    }
    // Like resolve, acknowledge carries no payload: PagerDuty records who acted on the
    // incident from the event only, so who and why are in the other sinks' text.
    if (n.reason == alerts::Reason::acknowledged) {
      event["event_action"] = "acknowledge";
      return event;
    }
    event["event_action"] = "trigger";
    event["payload"] = trigger_payload(n, m_source);
    event["client"] = "creditwatch";
    if (json_text(event).size() > k_max_event_bytes) {
      // Labels are the only unbounded part; keep the incident, lose the details (as Alertmanager does).
      event["payload"]["custom_details"] = {
          {"error", "custom details removed because the event exceeded PagerDuty's 512 kB limit"}};
    }
    return event;
  }

  std::string m_url;
  Secret m_routing_key;
  std::string m_source;
};

}  // namespace

std::unique_ptr<Notifier> make_pagerduty(const config::NotifierConfig&, config::SettingsReader& settings) {
  auto routing_key = settings.required_string("routing_key");
  if (routing_key && routing_key->size() != k_routing_key_length) {
    settings.error("routing_key",
                   "routing_key must be the 32-character integration key of an Events API v2 "
                   "integration");
  }
  auto url = read_http_url(settings, "url", std::string(k_default_url));
  auto source = settings.string("source");
  if (!settings.finish() || !routing_key || !url) return nullptr;
  return std::make_unique<PagerDuty>(*url, Secret(*routing_key),
                                     source && !source->empty() ? *source : default_source());
}

}  // namespace creditwatch::notify
