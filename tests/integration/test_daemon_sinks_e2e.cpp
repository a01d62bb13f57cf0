// End-to-end acceptance of the sinks (issue 5): one real `creditwatch run` daemon with a
// pagerduty, a webhook, an email and an alertmanager notifier, and one DeepSeek account
// whose balance falls fast, then is topped up. PagerDuty's Events API v2 and the webhook
// receiver are loopback fakes answering as shared/reference/sinks.md sections 1.2 and 1.4
// record; the SMTP server (aiosmtpd) and prometheus-alertmanager are the real thing
// (fakes/real_peers.hpp). Every server listens on 127.0.0.1 with a kernel-chosen port.
#include "daemon_fixture.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/real_peers.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/storage/store.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace creditwatch::testing;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Distinctive secrets: any leak into the log is unmistakable.
constexpr const char* k_key = "sk-SECRET-51nk5e2e77";
constexpr std::string_view k_routing_key = "pdSECRETr0ut1ngk3y0123456789abcd";
static_assert(k_routing_key.size() == 32, "PagerDuty integration keys have 32 characters");
constexpr const char* k_webhook_secret = "whsec-SECRET-h0okc0ffee";
constexpr const char* k_smtp_password = "smtp-SECRET-ma1l5e2e";

constexpr const char* k_pagerduty_path = "/v2/enqueue";
constexpr const char* k_webhook_path = "/hooks/creditwatch";

// --- PagerDuty and webhook fakes -----------------------------------------------------------

struct SinkHit {
  json body;  // null when the body was not JSON
  std::string raw;
  std::string content_type;
  std::string signature;  // X-Creditwatch-Signature
  int answered = 0;
};

// POST {path}: records each request and answers with what `respond` says (status, JSON body).
class JsonSinkFake {
public:
  using Responder = std::function<std::pair<int, std::string>(const SinkHit&)>;

  JsonSinkFake(std::string path, Responder respond) : m_path(std::move(path)), m_respond(std::move(respond)) {
    m_server.post(m_path, [this](const httplib::Request& req, httplib::Response& res) {
      SinkHit hit{json::parse(req.body, nullptr, false), req.body, req.get_header_value("Content-Type"),
                  req.get_header_value("X-Creditwatch-Signature"), 0};
      if (hit.body.is_discarded()) hit.body = nullptr;
      const auto [status, body] = m_respond(hit);
      reply_json(res, status, body);
      hit.answered = status;
      std::lock_guard lock(m_mutex);
      m_hits.push_back(std::move(hit));
    });
    m_server.start();
  }

  std::string url() const { return m_server.url() + m_path; }
  std::vector<SinkHit> hits() const {
    std::lock_guard lock(m_mutex);
    return m_hits;
  }

private:
  std::string m_path;
  Responder m_respond;
  mutable std::mutex m_mutex;
  std::vector<SinkHit> m_hits;
  FakeHttpServer m_server;  // last: stops before the state its handlers use goes away
};

std::string string_at(const json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : "";
}

// What PagerDuty would reject in an event (sinks.md section 1.2, request fields); empty
// when the event is valid.
std::vector<std::string> pagerduty_problems(const json& event) {
  if (!event.is_object()) return {"the body is not a JSON object"};
  std::vector<std::string> problems;
  if (string_at(event, "routing_key").size() != 32) {
    problems.push_back("Length of 'routing_key' is incorrect (should be 32 characters)");
  }
  const auto action = string_at(event, "event_action");
  if (action != "trigger" && action != "acknowledge" && action != "resolve") {
    problems.push_back("'event_action' is invalid");
  }
  const auto dedup_key = string_at(event, "dedup_key");
  if (dedup_key.size() > 255) problems.push_back("'dedup_key' is longer than 255 characters");
  if (action != "trigger" && dedup_key.empty()) problems.push_back("'dedup_key' is required for " + action);
  if (action != "trigger") return problems;
  const json payload = event.value("payload", json());
  if (!payload.is_object()) {
    problems.push_back("'payload' is missing");
    return problems;
  }
  const auto summary = string_at(payload, "summary");
  if (summary.empty() || summary.size() > 1024) problems.push_back("'payload.summary' must have 1 to 1024 characters");
  if (string_at(payload, "source").empty()) problems.push_back("'payload.source' is missing");
  static const std::set<std::string> severities = {"critical", "error", "warning", "info"};
  if (!severities.count(string_at(payload, "severity"))) problems.push_back("'payload.severity' is invalid");
  if (payload.contains("timestamp") && !creditwatch::parse_rfc3339(string_at(payload, "timestamp"))) {
    problems.push_back("'payload.timestamp' is not ISO 8601");
  }
  if (payload.contains("custom_details") && !payload["custom_details"].is_object()) {
    problems.push_back("'payload.custom_details' is not an object");
  }
  return problems;
}

// PagerDuty Events API v2: 202 with the documented success body, 400 with the documented
// error shape for an invalid event.
std::pair<int, std::string> pagerduty_answer(const SinkHit& hit) {
  const auto problems = pagerduty_problems(hit.body);
  if (!problems.empty() || hit.content_type.find("application/json") == std::string::npos) {
    return {400,
            json{{"status", "invalid event"}, {"message", "Event object is invalid"}, {"errors", problems}}.dump()};
  }
  return {202,
          json{{"status", "success"}, {"message", "Event processed"}, {"dedup_key", string_at(hit.body, "dedup_key")}}
              .dump()};
}

// Lowercase hex HMAC-SHA256 of `body` under `key`, as the receiver computes it.
std::string hmac_sha256_hex(const std::string& key, const std::string& body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), digest.data(), &length);
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += k_digits[digest[i] >> 4];
    out += k_digits[digest[i] & 0xF];
  }
  return out;
}

bool signed_with_secret(const SinkHit& hit) {
  return hit.signature == "sha256=" + hmac_sha256_hex(k_webhook_secret, hit.raw);
}

// A receiver that checks the signature itself, as a careful one does: 401 when it is wrong.
std::pair<int, std::string> webhook_answer(const SinkHit& hit) {
  if (!signed_with_secret(hit)) return {401, R"({"error":"bad signature"})"};
  return {200, R"({"ok":true})"};
}

// PagerDuty events (or webhook bodies) for the runway alert, in arrival order.
std::vector<SinkHit> for_runway(const std::vector<SinkHit>& hits) {
  std::vector<SinkHit> out;
  for (const auto& h : hits) {
    if (string_at(h.body, "dedup_key") == k_runway_key) out.push_back(h);
  }
  return out;
}

std::vector<SinkHit> with_field(const std::vector<SinkHit>& hits, const char* key, const std::string& value) {
  std::vector<SinkHit> out;
  for (const auto& h : hits) {
    if (string_at(h.body, key) == value) out.push_back(h);
  }
  return out;
}

std::string describe(const std::vector<SinkHit>& hits) {
  std::ostringstream s;
  for (const auto& h : hits) s << "  -> " << h.answered << ": " << h.raw.substr(0, 400) << "\n";
  return s.str();
}

// --- real peers ----------------------------------------------------------------------------

std::vector<json> mails_with_subject(const SmtpServer& smtp, const std::string& needle) {
  std::vector<json> out;
  for (const auto& m : smtp.messages()) {
    if (m["headers"].value("Subject", "").find(needle) != std::string::npos) out.push_back(m);
  }
  return out;
}

// The ds-main runway alerts Alertmanager holds whose endsAt has not passed (0.25 already
// leaves ended alerts out of GET /api/v2/alerts; the check does not rely on it).
std::vector<json> runway_alerts(const AlertmanagerServer& am) {
  std::vector<json> out;
  const auto alerts = am.alerts();
  if (!alerts.is_array()) return out;
  const auto now = std::chrono::system_clock::now();
  for (const auto& a : alerts) {
    if (a["labels"].value("alertname", "") != "CreditwatchRunway" || a["labels"].value("account", "") != "ds-main") {
      continue;
    }
    const auto ends = creditwatch::parse_rfc3339(a.value("endsAt", ""));
    if (!ends || *ends > now) out.push_back(a);
  }
  return out;
}

// --- config --------------------------------------------------------------------------------

// The four notifiers; every secret comes from the daemon's environment, not the file.
std::string notifiers_yaml(const std::string& pagerduty_url, const std::string& webhook_url, const SmtpServer& smtp,
                           const AlertmanagerServer& am) {
  std::ostringstream y;
  y << "  - name: pd-oncall\n    type: pagerduty\n    routing_key: ${CW_E2E_PD_ROUTING_KEY}\n"
    << "    url: " << pagerduty_url << "\n    source: creditwatch@e2e-host\n    min_severity: critical\n";
  y << "  - name: hook-ops\n    type: webhook\n    url: " << webhook_url << "\n"
    << "    secret: ${CW_E2E_HOOK_SECRET}\n    min_severity: warning\n";
  y << "  - name: mail-ops\n    type: email\n    smtp_url: " << smtp.url() << "\n    starttls: off\n"
    << "    username: alerts\n    password: ${CW_E2E_SMTP_PASSWORD}\n    from: creditwatch@example.com\n"
    << "    to: [oncall@example.com]\n    min_severity: warning\n";
  y << "  - name: am-ops\n    type: alertmanager\n    urls: [" << am.url() << "]\n    min_severity: warning\n";
  return y.str();
}

const std::vector<std::string> k_notifiers = {"pd-oncall", "hook-ops", "mail-ops", "am-ops"};

// Whether every notifier has a delivered row of the runway alert with this status.
bool all_delivered(const std::vector<OutboxRow>& rows, const std::string& status) {
  for (const auto& notifier : k_notifiers) {
    bool found = false;
    for (const auto& r : rows_for(rows, k_runway_key)) {
      found = found || (r.notifier == notifier && r.state == OutboxState::delivered &&
                        status_of(json::parse(r.payload_json, nullptr, false)) == status);
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("daemon_sinks_e2e") {
  TEST_CASE("PagerDuty webhook email and Alertmanager all fire on a falling balance and resolve after a top-up") {
    TempDir dir;
    DeepSeekFake deepseek;
    JsonSinkFake pagerduty(k_pagerduty_path, pagerduty_answer);
    JsonSinkFake webhook(k_webhook_path, webhook_answer);
    SmtpServer smtp({"alerts", k_smtp_password, {}, {}});
    AlertmanagerServer am;
    DaemonConfig config;
    config.accounts = {{"ds-main", deepseek.url()}};
    config.notifiers = notifiers_yaml(pagerduty.url(), webhook.url(), smtp, am);
    dir.write("creditwatch.yaml", daemon_config_yaml(dir, config));
    Daemon daemon(dir, {{k_deepseek_key_env, k_key},
                        {"CW_E2E_PD_ROUTING_KEY", std::string(k_routing_key)},
                        {"CW_E2E_HOOK_SECRET", k_webhook_secret},
                        {"CW_E2E_SMTP_PASSWORD", k_smtp_password}});
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    INFO("pagerduty saw:\n" << describe(pagerduty.hits()));
    INFO("webhook saw:\n" << describe(webhook.hits()));
    INFO("outbox:\n" << describe(daemon.outbox()));

    // --- firing: every sink hears of it -------------------------------------------------------
    auto pd_events = [&] { return for_runway(pagerduty.hits()); };
    REQUIRE(eventually([&] { return !with_field(pd_events(), "event_action", "trigger").empty(); }, 60s));
    auto critical_hooks = [&] {
      return with_field(with_field(for_runway(webhook.hits()), "status", "firing"), "severity", "critical");
    };
    REQUIRE(eventually([&] { return !critical_hooks().empty(); }, 30s));
    REQUIRE(eventually([&] { return !mails_with_subject(smtp, "[CRITICAL] ds-main").empty(); }, 30s));
    auto critical_in_am = [&] {
      std::vector<json> out;
      for (const auto& a : runway_alerts(am)) {
        if (a["labels"].value("severity", "") == "critical") out.push_back(a);
      }
      return out;
    };
    REQUIRE(eventually([&] { return !critical_in_am().empty(); }, 30s));
    // The fakes record a request before the daemon records the answer: wait for the outbox.
    REQUIRE(eventually([&] { return all_delivered(daemon.outbox(), "firing"); }, 15s));

    // PagerDuty: a well-formed trigger for the runway alert.
    const auto trigger = with_field(pd_events(), "event_action", "trigger").front();
    {
      INFO("trigger: " << trigger.raw);
      CHECK(trigger.answered == 202);
      CHECK(trigger.content_type.find("application/json") != std::string::npos);
      REQUIRE(pagerduty_problems(trigger.body).empty());
      CHECK(string_at(trigger.body, "routing_key") == k_routing_key);
      const auto& payload = trigger.body["payload"];
      const auto summary = string_at(payload, "summary");
      CHECK(summary.size() <= 1024);
      CHECK(summary.find("ds-main") != std::string::npos);
      CHECK(summary.find("runway") != std::string::npos);
      CHECK(string_at(payload, "source") == "creditwatch@e2e-host");
      CHECK(string_at(payload, "severity") == "critical");
      REQUIRE(payload.contains("timestamp"));
      CHECK(creditwatch::parse_rfc3339(string_at(payload, "timestamp")).has_value());
      REQUIRE(payload.contains("custom_details"));
      const auto& details = payload["custom_details"];
      CHECK(string_at(details, "account") == "ds-main");
      CHECK(string_at(details, "currency") == "CNY");
      CHECK_FALSE(string_at(details, "balance").empty());
      CHECK(details.value("burn_per_day", json()).is_number());
      REQUIRE(details.value("runway_days", json()).is_number());
      CHECK(details["runway_days"].get<double>() < 3.0);
    }

    // Webhook: the body is signed with the shared secret and carries the figures.
    const auto firing_hook = critical_hooks().front();
    {
      INFO("webhook firing: " << firing_hook.raw << "\nsignature: " << firing_hook.signature);
      CHECK(firing_hook.signature.size() == 7 + 64);
      CHECK(signed_with_secret(firing_hook));
      CHECK(firing_hook.answered == 200);
      CHECK(firing_hook.content_type.find("application/json") != std::string::npos);
      CHECK(string_at(firing_hook.body, "version") == "1");
      CHECK(string_at(firing_hook.body, "account") == "ds-main");
      CHECK(string_at(firing_hook.body, "provider") == "deepseek");
      CHECK(string_at(firing_hook.body, "rule") == "runway");
      CHECK_FALSE(string_at(firing_hook.body, "balance").empty());
      CHECK(firing_hook.body.value("runway_days", json()).is_number());
    }

    // Email: a real SMTP server accepted an authenticated multipart mail naming the account.
    const auto mail = mails_with_subject(smtp, "[CRITICAL] ds-main").front();
    {
      INFO("mail: " << mail.dump(2) << "\nsmtp log:\n" << smtp.log());
      CHECK(mail["headers"].value("Subject", "").find("runway") != std::string::npos);
      CHECK(mail["authenticated"] == true);
      CHECK(mail["login"] == "alerts");
      CHECK(mail["mail_from"] == "creditwatch@example.com");
      CHECK(mail["rcpt_tos"] == json::array({"oncall@example.com"}));
      CHECK(mail["content_type"] == "multipart/alternative");
      for (const char* header : {"Date", "Message-ID", "From", "To"}) {
        CAPTURE(header);
        CHECK_FALSE(mail["headers"].value(header, "").empty());
      }
      const auto text = mail["parts"].value("text/plain", "");
      CHECK(text.find("ds-main") != std::string::npos);
      CHECK(text.find("CNY") != std::string::npos);
      CHECK(mail["parts"].value("text/html", "").find("ds-main") != std::string::npos);
    }

    // Alertmanager: the alert is active there with our labels and figures.
    {
      const auto alerts = critical_in_am();
      INFO("alertmanager holds: " << json(alerts).dump());
      REQUIRE(alerts.size() == 1);
      const auto& a = alerts.front();
      CHECK(a.value("status", json::object()).value("state", "") == "active");
      CHECK(a["labels"].value("provider", "") == "deepseek");
      CHECK(a["labels"].value("rule", "") == "runway");
      const auto annotations = a.value("annotations", json::object());
      CHECK(annotations.value("balance", "").find(" CNY") != std::string::npos);
      CHECK_FALSE(annotations.value("runway", "").empty());
      CHECK(annotations.value("dedup_key", "") == k_runway_key);
    }

    // --- a top-up resolves it everywhere --------------------------------------------------------
    deepseek.set_mode(DeepSeekFake::Mode::topped_up);
    REQUIRE(eventually([&] { return !with_field(pd_events(), "event_action", "resolve").empty(); }, 45s));
    REQUIRE(eventually([&] { return !with_field(for_runway(webhook.hits()), "status", "resolved").empty(); }, 30s));
    REQUIRE(eventually([&] { return !mails_with_subject(smtp, "[RESOLVED] ds-main").empty(); }, 30s));
    REQUIRE(eventually([&] { return runway_alerts(am).empty(); }, 30s));
    REQUIRE(eventually([&] { return all_delivered(daemon.outbox(), "resolved"); }, 15s));
    // Nothing more while the balance stays high.
    REQUIRE(probes_continue(deepseek, 3));

    // PagerDuty: the trigger(s), then exactly one resolve with the same dedup key and routing key.
    {
      const auto events = pd_events();
      REQUIRE_FALSE(events.empty());
      const auto resolves = with_field(events, "event_action", "resolve");
      REQUIRE(resolves.size() == 1);
      CHECK(string_at(events.back().body, "event_action") == "resolve");
      for (const auto& e : events) {
        INFO("event: " << e.raw);
        CHECK(e.answered == 202);
        CHECK(pagerduty_problems(e.body).empty());
        CHECK(string_at(e.body, "dedup_key") == string_at(trigger.body, "dedup_key"));
        CHECK(string_at(e.body, "routing_key") == k_routing_key);
      }
      CHECK(pagerduty.hits().size() == events.size());  // nothing else was paged
    }

    // Webhook: the resolution is signed too, for the same alert, and so is every other body.
    {
      const auto resolved = with_field(for_runway(webhook.hits()), "status", "resolved");
      REQUIRE(resolved.size() == 1);
      INFO("webhook resolved: " << resolved.front().raw << "\nsignature: " << resolved.front().signature);
      CHECK(signed_with_secret(resolved.front()));
      CHECK(resolved.front().answered == 200);
      CHECK(string_at(resolved.front().body, "dedup_key") == string_at(firing_hook.body, "dedup_key"));
      CHECK(string_at(resolved.front().body, "balance") == "1000000.00");
      for (const auto& hit : webhook.hits()) {
        INFO("webhook body: " << hit.raw << "\nsignature: " << hit.signature);
        CHECK(signed_with_secret(hit));
        CHECK(hit.answered == 200);
      }
    }

    // Email: one resolution mail, naming the account.
    {
      const auto resolved = mails_with_subject(smtp, "[RESOLVED] ds-main");
      REQUIRE(resolved.size() == 1);
      CHECK(resolved.front()["parts"].value("text/plain", "").find("ds-main") != std::string::npos);
    }

    // Alertmanager: no runway alert of ds-main is left active; everything went out.
    CHECK(runway_alerts(am).empty());
    CHECK(daemon.terminate() == 0);
    const auto rows = daemon.outbox();
    for (const auto& r : rows) {
      INFO("row: " << describe(std::vector<OutboxRow>{r}));
      CHECK(r.state == OutboxState::delivered);
    }

    // --- the secrets travelled where they belong and nowhere else ------------------------------
    const auto log = daemon.log();
    for (const auto& notifier : k_notifiers) CHECK(log.find(notifier) != std::string::npos);
    const std::vector<std::string> secrets = {k_key,           "51nk5e2e",       std::string(k_routing_key),
                                              "r0ut1ngk3y",    k_webhook_secret, "h0okc0ffee",
                                              k_smtp_password, "ma1l5e2e"};
    for (const auto& secret : secrets) {
      CHECK_MESSAGE(log.find(secret) == std::string::npos, "the log leaks " << secret);
      for (const auto& r : rows) {
        CHECK_MESSAGE(r.payload_json.find(secret) == std::string::npos, "the outbox holds " << secret);
        CHECK_MESSAGE(r.last_error.find(secret) == std::string::npos, "the outbox holds " << secret);
      }
    }
  }
}
