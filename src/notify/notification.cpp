#include "creditwatch/notify/notification.hpp"

#include "creditwatch/common/amount_text.hpp"
#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

#include <cmath>
#include <cstdio>

namespace creditwatch::notify {
namespace {

nlohmann::json optional_double(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

std::optional<double> read_double(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<Decimal> read_decimal(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return Decimal::parse(it->get<std::string>());
}

// Names, labels, summaries and currencies come from config files and provider answers: one
// line of safe text each, so no payload, header or subject built from them can break.
std::string line(const std::string& text) { return safe_text(text, LineBreaks::fold); }

std::map<std::string, std::string> lines(const std::map<std::string, std::string>& labels) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : labels) out[line(k)] = line(v);
  return out;
}

std::string string_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? line(it->get<std::string>()) : "";
}

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string format_number(const std::optional<double>& value, int decimals) {
  if (!value || !std::isfinite(*value)) return "-";
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, *value);
  return buffer;
}

std::string make_dedup_key(const std::string& account, alerts::Rule rule) {
  return "creditwatch-" + account + "-" + alerts::to_string(rule);
}

std::string Notification::title() const {
  std::string prefix = test ? "[TEST] " : "";
  prefix += event == alerts::Event::resolved ? "[RESOLVED] " : "[" + upper(alerts::to_string(severity)) + "] ";
  if (reason == alerts::Reason::acknowledged) prefix += "[ACK] ";
  if (reason == alerts::Reason::escalated) prefix += "[ESCALATED] ";
  return line(prefix + account + " " + alerts::to_string(rule) + ": " + summary);
}

std::string Notification::body_text() const {
  std::string out;
  auto add = [&out](const std::string& label, const std::string& value) {
    out += line(label) + ": " + line(value) + "\n";
  };
  if (test) add("Note", "this is a test notification from creditwatch test-notify");
  add("Account", account + " (" + provider + ")");
  add("Status", std::string(alerts::to_string(event)) + ", " + alerts::to_string(severity));
  add("Rule", alerts::to_string(rule));
  add("Balance", balance ? amount_with_unit(balance->to_string(), currency) : "-");
  add("Burn per day", burn_per_day ? amount_with_unit(format_number(burn_per_day, 2), currency) : "-");
  add("Runway", (runway_days ? describe_days(*runway_days) : std::string("-")) +
                   (runway_p10_days && runway_p10_days != runway_days
                        ? " (conservative " + describe_days(*runway_p10_days) + ")"
                        : ""));
  add("Projected exhaustion", exhausted_at ? format_rfc3339(*exhausted_at) : "-");
  add("Recommended top-up", recommended_topup ? amount_with_unit(recommended_topup->to_string(), currency) : "-");
  if (ack) {
    add("Acknowledged", "by " + (ack->by.empty() ? std::string("(unnamed)") : ack->by) + " at " +
                            format_rfc3339(ack->at) + (ack->comment.empty() ? "" : ": " + ack->comment));
  }
  for (const auto& [k, v] : labels) add("Label " + k, v);
  add("Time", format_rfc3339(at));
  return out;
}

nlohmann::json to_json(const Notification& n) {
  nlohmann::json j;
  j["dedup_key"] = line(n.dedup_key);
  j["status"] = alerts::to_string(n.event);
  j["reason"] = alerts::to_string(n.reason);
  j["test"] = n.test;
  j["ts"] = format_rfc3339(n.at);
  j["ts_ms"] = to_unix_ms(n.at);
  j["account"] = line(n.account);
  j["provider"] = line(n.provider);
  j["labels"] = lines(n.labels);
  j["rule"] = alerts::to_string(n.rule);
  j["severity"] = alerts::to_string(n.severity);
  j["summary"] = line(n.summary);
  j["balance"] = n.balance ? nlohmann::json(n.balance->to_string()) : nlohmann::json(nullptr);
  j["currency"] = line(n.currency);
  j["burn_per_day"] = optional_double(n.burn_per_day);
  j["runway_days"] = optional_double(n.runway_days);
  j["runway_p10_days"] = optional_double(n.runway_p10_days);
  j["exhausted_at"] = n.exhausted_at ? nlohmann::json(format_rfc3339(*n.exhausted_at)) : nlohmann::json(nullptr);
  j["recommended_topup"] =
      n.recommended_topup ? nlohmann::json(n.recommended_topup->to_string()) : nlohmann::json(nullptr);
  if (n.ack) {
    j["ack"] = {{"by", line(n.ack->by)},
                {"at", format_rfc3339(n.ack->at)},
                {"at_ms", to_unix_ms(n.ack->at)},
                {"comment", line(n.ack->comment)}};
  } else {
    j["ack"] = nullptr;
  }
  j["silenced"] = n.silenced;
  return j;
}

Notification notification_from_json(const nlohmann::json& j) {
  Notification n;
  n.dedup_key = string_at(j, "dedup_key");
  n.event = j.value("status", "firing") == "resolved" ? alerts::Event::resolved : alerts::Event::firing;
  const std::string reason = j.value("reason", "started");
  for (auto r : {alerts::Reason::started, alerts::Reason::severity_changed, alerts::Reason::repeat,
                 alerts::Reason::resolved, alerts::Reason::acknowledged, alerts::Reason::escalated}) {
    if (reason == alerts::to_string(r)) n.reason = r;
  }
  n.test = j.value("test", false);
  n.at = from_unix_ms(j.value("ts_ms", std::int64_t{0}));
  n.account = string_at(j, "account");
  n.provider = string_at(j, "provider");
  if (auto labels = j.find("labels"); labels != j.end() && labels->is_object()) {
    for (const auto& label : labels->items()) {
      if (label.value().is_string()) n.labels[line(label.key())] = line(label.value().get<std::string>());
    }
  }
  n.rule = alerts::parse_rule(j.value("rule", "runway")).value_or(alerts::Rule::runway);
  n.severity = alerts::parse_severity(j.value("severity", "info")).value_or(alerts::Severity::info);
  n.summary = string_at(j, "summary");
  n.balance = read_decimal(j, "balance");
  n.currency = string_at(j, "currency");
  n.burn_per_day = read_double(j, "burn_per_day");
  n.runway_days = read_double(j, "runway_days");
  n.runway_p10_days = read_double(j, "runway_p10_days");
  if (j.contains("exhausted_at") && j["exhausted_at"].is_string()) {
    n.exhausted_at = parse_rfc3339(j["exhausted_at"].get<std::string>());
  }
  n.recommended_topup = read_decimal(j, "recommended_topup");
  if (auto ack = j.find("ack"); ack != j.end() && ack->is_object()) {
    auto at = ack->find("at_ms");
    n.ack = Acknowledgement{string_at(*ack, "by"),
                            from_unix_ms(at != ack->end() && at->is_number_integer() ? at->get<std::int64_t>() : 0),
                            string_at(*ack, "comment")};
  }
  if (auto silenced = j.find("silenced"); silenced != j.end() && silenced->is_boolean()) n.silenced = *silenced;
  return n;
}

std::string json_text(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace creditwatch::notify
