#pragma once

#include "creditwatch/alerts/matcher.hpp"
#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/result.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace creditwatch::alerts {

// An operator's "do not tell anyone about these alerts for a while" (Alertmanager's model):
// matching alerts keep firing and show as silenced; only their notifications wait. Active in
// [starts_at, ends_at): a silence that ends exactly now is over. Expiring one early sets
// ends_at to the moment it was expired.
struct Silence {
  std::string id;  // 32 lower-case hex digits (128 random bits)
  Matchers matchers;
  TimePoint starts_at;
  TimePoint ends_at;
  std::string comment;
  std::string created_by;
  TimePoint created_at;

  bool active_at(TimePoint t) const { return starts_at <= t && t < ends_at; }
  bool pending_at(TimePoint t) const { return t < starts_at; }
  bool expired_at(TimePoint t) const { return ends_at <= t; }
  // Whether it silences `alert` at `t`.
  bool silences(const AlertFacts& alert, TimePoint t) const { return active_at(t) && matches(alert); }
  bool matches(const AlertFacts& alert) const { return matchers.matches(alert); }
};

// "active", "pending" (starts later) or "expired" at `t`.
const char* silence_status(const Silence& silence, TimePoint t);

// Bounds on what a request may ask for: a silence is read on every alert decision.
inline constexpr std::size_t k_max_silence_matchers = 32;
inline constexpr std::size_t k_max_matcher_value = 256;
inline constexpr std::size_t k_max_silence_comment = 2000;
inline constexpr std::size_t k_max_silence_author = 200;

// The body of POST /api/v1/silences, checked:
//   {"matchers": {"account": "ds-*", "rule": "runway"},   at least one; names are fields or
//                                                         labels, values exact or a `*` glob
//    "duration": "2h" | "ends_at": "RFC 3339",            exactly one of the two
//    "starts_at": "RFC 3339",                             optional, default `now`
//    "comment": "...", "created_by": "..."}               optional, recommended
// The end must come after the start and after `now`. Unknown fields are refused (a typo
// such as "duraton" must not make a silence that never ends). Returns the silence without
// its id (the caller draws one), created_at = now; or why the body is refused.
Result<Silence, std::string> silence_from_request(const nlohmann::json& body, TimePoint now);

// The API's view of a silence: id, matchers, starts_at, ends_at, comment, created_by,
// created_at, status.
nlohmann::json to_json(const Silence& silence, TimePoint now);

// Matchers as stored: a JSON object of name -> value. Reading back skips what no longer
// parses as a matcher (a stored row is trusted, not re-validated).
std::string matchers_to_json_text(const Matchers& matchers);
Matchers matchers_from_json_text(const std::string& text);

}  // namespace creditwatch::alerts
