#include "creditwatch/server/alert_controls.hpp"

#include "creditwatch/alerts/silence.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>
#include <variant>

namespace creditwatch::server {
namespace {

HttpResponse refuse(int status, const std::string& why) { return HttpResponse::json(status, {{"error", why}}); }

// The body as a JSON object, or the 400/413 that says why not. An empty body reads as {}.
std::variant<nlohmann::json, HttpResponse> json_body(const std::string& body) {
  if (body.size() > k_max_control_body) {
    return refuse(413, "the body may be at most " + std::to_string(k_max_control_body) + " bytes");
  }
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return refuse(400, "the body must be a JSON object");
  return parsed;
}

alerts::Silence from_row(const storage::SilenceRow& row) {
  return alerts::Silence{row.id,        alerts::matchers_from_json_text(row.matchers_json), row.starts_at, row.ends_at,
                         row.comment,   row.created_by,                                      row.created_at};
}

nlohmann::json ack_json(const std::optional<notify::Acknowledgement>& ack) {
  if (!ack) return nullptr;
  return {{"by", ack->by}, {"at", format_rfc3339(ack->at)}, {"comment", ack->comment}};
}

// "by" and "comment", each an optional string of bounded length.
std::optional<std::string> ack_field(const nlohmann::json& body, const char* name, std::string& out) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  if (!body[name].is_string()) return std::string(name) + " must be a string";
  const auto& text = body[name].get_ref<const std::string&>();
  if (text.size() > k_max_ack_text || !valid_utf8(text)) {
    return std::string(name) + " must be UTF-8 text of at most " + std::to_string(k_max_ack_text) + " bytes";
  }
  out = safe_text(text, std::string(name) == "by" ? LineBreaks::fold : LineBreaks::keep);
  return std::nullopt;
}

}  // namespace

std::string new_silence_id() {
  std::array<unsigned char, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("the random source failed: no silence id");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string id;
  id.reserve(random.size() * 2);
  for (const auto byte : random) {
    id.push_back(k_hex[byte >> 4]);
    id.push_back(k_hex[byte & 0x0f]);
  }
  return id;
}

AlertControls::AlertControls(storage::Store& store, scheduler::AlertEngine& engine, const Clock& clock,
                             RuntimeSource runtime, std::function<void()> changed)
    : m_store(store), m_engine(engine), m_clock(clock), m_runtime(std::move(runtime)), m_changed(std::move(changed)) {}

HttpResponse AlertControls::add_silence(const std::string& body) {
  auto parsed = json_body(body);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) return *refusal;
  const auto now = m_clock.now();
  auto silence = alerts::silence_from_request(std::get<nlohmann::json>(parsed), now);
  if (!silence) return refuse(400, silence.error());
  silence->id = new_silence_id();
  m_store.add_silence(storage::SilenceRow{silence->id, alerts::matchers_to_json_text(silence->matchers),
                                          silence->starts_at, silence->ends_at, silence->comment,
                                          silence->created_by, silence->created_at});
  spdlog::info("silence {} added by {} until {}: {}", silence->id,
               silence->created_by.empty() ? "(unnamed)" : silence->created_by, format_rfc3339(silence->ends_at),
               alerts::matchers_to_json_text(silence->matchers));
  m_engine.sync();
  if (m_changed) m_changed();
  auto response = HttpResponse::json(201, {{"id", silence->id}, {"silence", alerts::to_json(*silence, now)}});
  response.headers.emplace_back("Location", "/api/v1/silences/" + silence->id);
  return response;
}

HttpResponse AlertControls::silences(bool all) {
  const auto now = m_clock.now();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& row : m_store.silences()) {
    const auto silence = from_row(row);
    if (all || !silence.expired_at(now)) list.push_back(alerts::to_json(silence, now));
  }
  return HttpResponse::json(200, {{"silences", std::move(list)}, {"generated_at", format_rfc3339(now)}});
}

HttpResponse AlertControls::expire_silence(const std::string& id) {
  const auto now = m_clock.now();
  if (!m_store.expire_silence(id, now)) return refuse(404, "no such silence");
  spdlog::info("silence {} expired", id);
  m_engine.sync();
  if (m_changed) m_changed();
  for (const auto& row : m_store.silences()) {
    if (row.id == id) return HttpResponse::json(200, alerts::to_json(from_row(row), now));
  }
  return HttpResponse::json(200, {{"id", id}, {"status", "expired"}});
}

HttpResponse AlertControls::acknowledge(const std::string& account, const std::string& rule, const std::string& body) {
  auto parsed = json_body(body);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) return *refusal;
  const auto& j = std::get<nlohmann::json>(parsed);
  for (const auto& [name, value] : j.items()) {
    if (name != "by" && name != "comment") {
      return refuse(400, "unknown field \"" + safe_text(name, LineBreaks::fold) + "\" (fields: by, comment)");
    }
  }
  std::string by;
  std::string comment;
  if (auto why = ack_field(j, "by", by)) return refuse(400, *why);
  if (auto why = ack_field(j, "comment", comment)) return refuse(400, *why);
  const auto runtime = m_runtime();
  switch (m_engine.acknowledge(account, rule, by, comment, *runtime)) {
    case scheduler::AckOutcome::no_such_alert:
      if (!runtime->config.find_account(account)) return refuse(404, "no such account");
      return refuse(404, "no such rule (runway, min_balance, exhausted, key_invalid, stale, spend_spike, topped_up)");
    case scheduler::AckOutcome::not_firing: return refuse(409, "that alert is not firing");
    case scheduler::AckOutcome::acknowledged: break;
  }
  if (m_changed) m_changed();
  return HttpResponse::json(200, {{"account", account},
                                  {"rule", rule},
                                  {"acknowledged", {{"by", by}, {"at", format_rfc3339(m_clock.now())}, {"comment", comment}}}});
}

HttpResponse AlertControls::unacknowledge(const std::string& account, const std::string& rule) {
  if (!m_engine.unacknowledge(account, rule)) return refuse(404, "that alert is not acknowledged");
  spdlog::info("alert {} {}: acknowledgement taken back", safe_text(account, LineBreaks::fold),
               safe_text(rule, LineBreaks::fold));
  return HttpResponse::json(200, {{"account", account}, {"rule", rule}, {"acknowledged", nullptr}});
}

nlohmann::json AlertControls::alert_json(const config::AccountConfig& account, const storage::AlertRow& alert,
                                         const scheduler::Runtime& runtime) const {
  nlohmann::json j = {{"rule", alert.rule}, {"severity", alert.severity}, {"since", format_rfc3339(alert.since)}};
  const auto rule = alerts::parse_rule(alert.rule);
  const auto severity = alerts::parse_severity(alert.severity);
  scheduler::AlertMarks marks;
  if (rule && severity) marks = m_engine.marks(account, *rule, *severity, runtime);
  j["silenced"] = marks.silenced_by.has_value();
  j["silenced_by"] = marks.silenced_by ? nlohmann::json(*marks.silenced_by) : nlohmann::json(nullptr);
  j["acknowledged"] = ack_json(marks.ack);
  return j;
}

bool AlertControls::silenced(const config::AccountConfig& account, const storage::AlertRow& alert,
                             const scheduler::Runtime& runtime) const {
  const auto rule = alerts::parse_rule(alert.rule);
  const auto severity = alerts::parse_severity(alert.severity);
  return rule && severity && m_engine.marks(account, *rule, *severity, runtime).silenced_by.has_value();
}

}  // namespace creditwatch::server
