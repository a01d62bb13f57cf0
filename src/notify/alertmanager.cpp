// Alertmanager API v2 (shared/reference/sinks.md section 1.5): POST {url}/api/v2/alerts with a
// JSON array. An alert is its label set; it stays active until its endsAt passes, so firing
// alerts carry endsAt = now + 3 x refresh_interval and are re-posted every refresh_interval
// (the AlertEngine does that), and a resolution is the same labels with endsAt = the
// resolution time. Every configured URL gets every post (HA: never through a balancer).
// With `watchdog: true` the heartbeat thread also posts CreditwatchWatchdog, an alert that
// always fires while creditwatch is healthy (kube-prometheus's Watchdog), every
// refresh_interval: a dead man's switch receiver pages when it stops arriving.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/amount_text.hpp"
#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

namespace creditwatch::notify {
namespace {

constexpr int k_expiry_refreshes = 3;  // missed refreshes before Alertmanager lets an alert expire

struct AlertmanagerSettings {
  std::vector<std::string> urls;
  std::string username;
  Secret password;
  Secret token;
  std::string generator_url;
  Duration refresh = std::chrono::minutes(1);
  bool watchdog = false;
};

// "min_balance" -> "CreditwatchMinBalance".
std::string alertname(alerts::Rule rule) {
  std::string out = "Creditwatch";
  bool up = true;
  for (char c : std::string(alerts::to_string(rule))) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

// Prometheus label names are [a-zA-Z_][a-zA-Z0-9_]*: anything else becomes '_'.
std::string label_name(const std::string& key) {
  std::string out;
  for (char c : key) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(out.begin(), '_');
  return out;
}

// One line of safe text: label values and annotations may come from config and providers.
std::string line(const std::string& text) { return safe_text(text, LineBreaks::fold); }

nlohmann::json labels(const Notification& n, alerts::Severity severity) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : n.labels) out[label_name(key)] = line(value);
  // Our own labels win over account labels of the same name: they are the alert's identity.
  out["alertname"] = n.test ? std::string("CreditwatchTest") : alertname(n.rule);
  out["account"] = line(n.account);
  out["provider"] = line(n.provider);
  out["rule"] = alerts::to_string(n.rule);
  out["severity"] = alerts::to_string(severity);
  return out;
}

nlohmann::json annotations(const Notification& n) {
  nlohmann::json out = {{"summary", line(n.account + ": " + n.summary)}, {"description", n.body_text()},
                        {"dedup_key", line(n.dedup_key)}};
  if (n.runway_days) out["runway"] = describe_days(*n.runway_days);
  if (n.balance) out["balance"] = line(amount_with_unit(n.balance->to_string(), n.currency));
  if (n.burn_per_day) out["burn_per_day"] = line(amount_with_unit(format_number(n.burn_per_day, 2), n.currency));
  if (n.exhausted_at) out["exhausted_at"] = format_rfc3339(*n.exhausted_at);
  if (n.recommended_topup) {
    out["recommended_topup"] = line(amount_with_unit(n.recommended_topup->to_string(), n.currency));
  }
  // Alertmanager has no acknowledgement: an acknowledged alert is re-posted unchanged (same
  // labels, so the same alert, still firing) with who and why as an annotation, which
  // Alertmanager shows without notifying its receivers again.
  if (n.ack) out["acknowledged"] = line(acknowledgement_text(*n.ack));
  return out;
}

// One alert per severity: the notified severity firing (or resolved), the other two
// resolved, so a severity change moves the alert instead of leaving the old one behind
// until it expires. Severity stays a label because Alertmanager routes match on it.
nlohmann::json payload(const Notification& n, const AlertmanagerSettings& s, TimePoint now) {
  const bool firing = n.event == alerts::Event::firing;
  const TimePoint resolved_at = firing ? now : std::min(n.at, now);
  nlohmann::json out = nlohmann::json::array();
  for (auto severity : {alerts::Severity::info, alerts::Severity::warning, alerts::Severity::critical}) {
    const bool this_one = firing && severity == n.severity;
    nlohmann::json alert = {{"labels", labels(n, severity)}};
    if (severity == n.severity) alert["annotations"] = annotations(n);
    alert["startsAt"] = format_rfc3339(this_one ? std::min(n.at, now) : resolved_at);
    alert["endsAt"] = format_rfc3339(this_one ? now + k_expiry_refreshes * s.refresh : resolved_at);
    if (!s.generator_url.empty()) alert["generatorURL"] = s.generator_url;
    out.push_back(std::move(alert));
  }
  return out;
}

// The dead man's switch alert. No replica label: in a cluster every replica posts the same
// alert, which keeps firing while any of them is healthy.
nlohmann::json watchdog_payload(const AlertmanagerSettings& s, TimePoint now) {
  nlohmann::json alert = {
      {"labels", {{"alertname", "CreditwatchWatchdog"}, {"severity", "none"}}},
      {"annotations",
       {{"summary", "creditwatch is running and healthy"},
        {"description", "This alert always fires while creditwatch is healthy, so that a dead man's switch receiver "
                        "pages when it stops arriving. Route it to one; do not silence it."}}},
      {"startsAt", format_rfc3339(now)},
      {"endsAt", format_rfc3339(now + k_expiry_refreshes * s.refresh)}};
  if (!s.generator_url.empty()) alert["generatorURL"] = s.generator_url;
  return nlohmann::json::array({alert});
}

class Alertmanager final : public Notifier {
public:
  explicit Alertmanager(AlertmanagerSettings settings) : m_settings(std::move(settings)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override {
    return post_to_all(json_text(payload(n, m_settings, m_clock.now())), client);
  }

  std::optional<Duration> refresh_interval() const override { return m_settings.refresh; }

  std::optional<Duration> watchdog_interval() const override {
    return m_settings.watchdog ? std::optional<Duration>(m_settings.refresh) : std::nullopt;
  }

  DeliveryResult post_watchdog(http::Client& client) override {
    return post_to_all(json_text(watchdog_payload(m_settings, m_clock.now())), client);
  }

private:
  // Delivered when at least one Alertmanager stored it: HA peers do not share alerts, but
  // a peer that missed this post gets the next refresh, and a missed resolution expires
  // there by endsAt. Retry only when no peer took it and one of them may later.
  DeliveryResult post_to_all(const std::string& body, http::Client& client) const {
    std::vector<DeliveryResult> results;
    for (const auto& url : m_settings.urls) results.push_back(post(url, body, client));
    DeliveryResult out = results.front();
    out.message.clear();
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      if (results.size() > 1) out.message += (i ? "; " : "") + m_settings.urls[i] + ": ";
      out.message += r.message;
      if (rank(r.outcome) < rank(out.outcome)) {
        out.outcome = r.outcome;
        out.http_status = r.http_status;
      }
      if (r.retry_after && (!out.retry_after || *r.retry_after > *out.retry_after)) out.retry_after = r.retry_after;
    }
    out.message = redact(std::move(out.message), {m_settings.password.reveal(), m_settings.token.reveal()});
    return out;
  }

  static int rank(DeliveryResult::Outcome o) {
    switch (o) {
      case DeliveryResult::Outcome::delivered: return 0;
      case DeliveryResult::Outcome::retry: return 1;
      case DeliveryResult::Outcome::permanent: return 2;
    }
    return 2;
  }

  DeliveryResult post(const std::string& url, const std::string& body, http::Client& client) const {
    auto request = sink_request(url + "/api/v2/alerts");
    request.body = body;
    if (!m_settings.username.empty()) request.basic_auth = m_settings.username + ":" + m_settings.password.reveal();
    if (!m_settings.token.empty()) request.headers.push_back({"Authorization", "Bearer " + m_settings.token.reveal()});
    return classify_http(client.send(request), {m_settings.password.reveal(), m_settings.token.reveal()});
  }

  AlertmanagerSettings m_settings;
  SystemClock m_clock;
};

void read_urls(config::SettingsReader& settings, AlertmanagerSettings& out) {
  const auto* urls = settings.raw("urls");
  if (urls) out.urls = urls->items.empty() && !urls->value.empty() ? std::vector<std::string>{urls->value} : urls->items;
  if (out.urls.empty()) settings.error("urls", "notifier type alertmanager needs urls: a list of Alertmanager base URLs");
  for (auto& url : out.urls) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      settings.error("urls", "urls: \"" + url + "\" is not an http(s) URL");
    }
    while (url.ends_with("/")) url.pop_back();
    if (url.ends_with("/api/v2/alerts")) settings.error("urls", "urls: give the base URL, without /api/v2/alerts");
  }
}

}  // namespace

std::unique_ptr<Notifier> make_alertmanager(const config::NotifierConfig&, config::SettingsReader& settings) {
  AlertmanagerSettings s;
  read_urls(settings, s);
  s.username = settings.string("username").value_or("");
  if (auto password = settings.string("password")) s.password = Secret(*password);
  if (auto token = settings.string("token")) s.token = Secret(*token);
  if (s.username.empty() != s.password.empty()) settings.error("username", "basic auth needs both username and password");
  if (!s.username.empty() && !s.token.empty()) settings.error("token", "give either username/password or token, not both");
  s.generator_url = settings.string("generator_url").value_or("");
  if (auto refresh = settings.duration("refresh_interval")) {
    if (*refresh < std::chrono::seconds(1)) settings.error("refresh_interval", "refresh_interval must be at least 1s");
    s.refresh = *refresh;
  }
  s.watchdog = settings.boolean("watchdog").value_or(false);
  if (!settings.finish()) return nullptr;
  return std::make_unique<Alertmanager>(std::move(s));
}

}  // namespace creditwatch::notify
