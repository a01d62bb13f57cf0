#include "creditwatch/alerts/silence.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

#include <array>
#include <string_view>

namespace creditwatch::alerts {
namespace {

constexpr std::array<std::string_view, 6> k_fields = {"matchers", "duration", "ends_at", "starts_at", "comment",
                                                      "created_by"};

std::optional<std::string> unknown_field(const nlohmann::json& body) {
  for (const auto& [name, value] : body.items()) {
    bool known = false;
    for (const auto field : k_fields) known = known || name == field;
    if (!known) {
      return "unknown field \"" + safe_text(name, LineBreaks::fold) +
             "\" (fields: matchers, duration or ends_at, starts_at, comment, created_by)";
    }
  }
  return std::nullopt;
}

Result<Matchers, std::string> read_matchers(const nlohmann::json& body) {
  if (!body.contains("matchers")) return std::string("matchers is required, e.g. {\"account\": \"ds-*\"}");
  const auto& m = body["matchers"];
  if (!m.is_object()) return std::string("matchers must be an object of name: value, e.g. {\"account\": \"ds-*\"}");
  if (m.empty()) return std::string("matchers must name at least one condition: a silence of everything is a mute switch");
  if (m.size() > k_max_silence_matchers) {
    return "matchers may name at most " + std::to_string(k_max_silence_matchers) + " conditions";
  }
  std::map<std::string, std::string> conditions;
  for (const auto& [name, value] : m.items()) {
    if (auto why = check_matcher_name(name)) return "matchers: " + safe_text(*why, LineBreaks::fold);
    if (!value.is_string()) return "matchers." + name + " must be a string (exact, or a glob with *)";
    const auto text = value.get<std::string>();
    if (text.size() > k_max_matcher_value || !valid_utf8(text)) {
      return "matchers." + name + " must be UTF-8 text of at most " + std::to_string(k_max_matcher_value) + " bytes";
    }
    if (auto why = impossible_condition(name, text)) return "matchers." + name + ": " + safe_text(*why, LineBreaks::fold);
    conditions[name] = text;
  }
  return Matchers(std::move(conditions));
}

Result<TimePoint, std::string> read_time(const nlohmann::json& body, const char* field) {
  const auto& v = body[field];
  const auto parsed = v.is_string() ? parse_rfc3339(v.get<std::string>()) : std::nullopt;
  if (!parsed) return std::string(field) + " must be an RFC 3339 time, e.g. 2026-05-01T12:00:00Z";
  return *parsed;
}

// Fills `out` with an optional text field; returns why it cannot, if it cannot.
std::optional<std::string> read_text(const nlohmann::json& body, const char* field, std::size_t limit,
                                     LineBreaks breaks, std::string& out) {
  if (!body.contains(field) || body[field].is_null()) return std::nullopt;
  const auto& v = body[field];
  if (!v.is_string()) return std::string(field) + " must be a string";
  const auto& text = v.get_ref<const std::string&>();
  if (text.size() > limit || !valid_utf8(text)) {
    return std::string(field) + " must be UTF-8 text of at most " + std::to_string(limit) + " bytes";
  }
  out = safe_text(text, breaks);
  return std::nullopt;
}

}  // namespace

const char* silence_status(const Silence& silence, TimePoint t) {
  if (silence.pending_at(t)) return "pending";
  return silence.expired_at(t) ? "expired" : "active";
}

Result<Silence, std::string> silence_from_request(const nlohmann::json& body, TimePoint now) {
  if (!body.is_object()) return std::string("the body must be a JSON object");
  if (auto why = unknown_field(body)) return *why;
  auto matchers = read_matchers(body);
  if (!matchers) return matchers.error();
  Silence s;
  s.matchers = std::move(*matchers);
  s.created_at = now;
  s.starts_at = now;
  if (body.contains("starts_at")) {
    auto start = read_time(body, "starts_at");
    if (!start) return start.error();
    // A start in the past means "from now": the alerts it would have held are already sent.
    s.starts_at = std::max(*start, now);
  }
  const bool has_duration = body.contains("duration");
  const bool has_end = body.contains("ends_at");
  if (has_duration && has_end) return std::string("give duration or ends_at, not both");
  if (!has_duration && !has_end) return std::string("a silence needs an end: duration (e.g. \"2h\") or ends_at (RFC 3339)");
  if (has_duration) {
    const auto& d = body["duration"];
    const auto parsed = d.is_string() ? parse_duration(d.get<std::string>()) : std::nullopt;
    if (!parsed || *parsed <= Duration::zero()) return std::string("duration must be a positive duration, e.g. 30m, 2h or 1d");
    s.ends_at = s.starts_at + *parsed;
  } else {
    auto end = read_time(body, "ends_at");
    if (!end) return end.error();
    s.ends_at = *end;
  }
  if (s.ends_at <= s.starts_at) return std::string("ends_at must be after starts_at (and after now)");
  if (auto why = read_text(body, "comment", k_max_silence_comment, LineBreaks::keep, s.comment)) return *why;
  if (auto why = read_text(body, "created_by", k_max_silence_author, LineBreaks::fold, s.created_by)) return *why;
  return s;
}

nlohmann::json to_json(const Silence& silence, TimePoint now) {
  return {{"id", silence.id},
          {"matchers", silence.matchers.conditions()},
          {"starts_at", format_rfc3339(silence.starts_at)},
          {"ends_at", format_rfc3339(silence.ends_at)},
          {"comment", silence.comment},
          {"created_by", silence.created_by},
          {"created_at", format_rfc3339(silence.created_at)},
          {"status", silence_status(silence, now)}};
}

std::string matchers_to_json_text(const Matchers& matchers) {
  return nlohmann::json(matchers.conditions()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Matchers matchers_from_json_text(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  std::map<std::string, std::string> conditions;
  if (j.is_object()) {
    for (const auto& [name, value] : j.items()) {
      if (value.is_string() && !check_matcher_name(name)) conditions[name] = value.get<std::string>();
    }
  }
  return Matchers(std::move(conditions));
}

}  // namespace creditwatch::alerts
