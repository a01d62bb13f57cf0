#pragma once

#include "creditwatch/alerts/lifecycle.hpp"
#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace creditwatch::notify {

// Who acknowledged a firing alert, when, and why: it travels with every later notification
// of the alert until the alert changes severity or resolves.
struct Acknowledgement {
  std::string by;
  TimePoint at;
  std::string comment;
};

// Everything a sink is told about one alert event. Stored as JSON in the outbox, so it
// carries the figures as they were when the alert changed, not when delivery succeeds.
struct Notification {
  std::string dedup_key;  // stable per (account, rule): "creditwatch-<account>-<rule>"
  alerts::Event event = alerts::Event::firing;
  alerts::Reason reason = alerts::Reason::started;
  bool test = false;  // sent by `creditwatch test-notify`
  TimePoint at;
  std::string account;
  std::string provider;
  std::map<std::string, std::string> labels;
  alerts::Rule rule = alerts::Rule::runway;
  alerts::Severity severity = alerts::Severity::info;
  std::string summary;
  std::optional<Decimal> balance;
  std::string currency;
  std::optional<double> burn_per_day;
  std::optional<double> runway_days;
  std::optional<double> runway_p10_days;
  std::optional<TimePoint> exhausted_at;
  std::optional<Decimal> recommended_topup;
  std::optional<Acknowledgement> ack;
  // Under a silence or maintenance window when it was queued (only a resolve of an alert whose
  // start was sent, or the one notification when the silence ends, is queued then).
  bool silenced = false;

  // One line: "[FIRING] deepseek-prod runway critical: runway 2.1 days".
  std::string title() const;
  // Several "label: value" lines with every figure, for plain-text sinks.
  std::string body_text() const;
};

// The outbox payload, and back. Both ways every text field becomes one line of safe text
// (common/text.hpp): whatever bytes a label, summary or stored row held, what is stored and
// what a sink is handed is valid UTF-8 without control characters.
nlohmann::json to_json(const Notification& n);
Notification notification_from_json(const nlohmann::json& j);

// JSON text that never throws: invalid UTF-8 (a provider's message quoted in a summary, say)
// becomes U+FFFD instead of an exception in the middle of an alert or a delivery. Every JSON
// serialisation on the alert path (outbox payloads, sink request bodies) goes through it.
std::string json_text(const nlohmann::json& body);

std::string make_dedup_key(const std::string& account, alerts::Rule rule);

// "12.5" days, "-" when unknown; the same formatting in every sink.
std::string format_number(const std::optional<double>& value, int decimals);

}  // namespace creditwatch::notify
