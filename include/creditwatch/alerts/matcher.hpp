#pragma once

#include "creditwatch/alerts/rules.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace creditwatch::alerts {

// What a matcher can look at in one alert: its fields and the account's labels. Silences,
// maintenance windows and routes all decide on these, so they match the same way.
struct AlertFacts {
  std::string account;
  std::string provider;
  Rule rule = Rule::runway;
  Severity severity = Severity::info;
  const std::map<std::string, std::string>* labels = nullptr;  // the account's; may be null
};

// `*` stands for any run of characters (also none); every other character is itself. No `?`
// or character classes: account names and label values use `.`, `-` and `_` freely, and an
// operator typing `ds-*` or `*-prod` should never be surprised.
bool glob_match(std::string_view pattern, std::string_view text);

// A set of `name: value-or-glob` conditions, all of which must hold (an empty set matches
// every alert). The names `account`, `provider`, `rule` and `severity` are the alert's fields;
// any other name is a label. A missing label reads as the empty string, as in Alertmanager:
// `team: ""` (or `team: "*"`) matches an account without one, `team: bots` does not.
class Matchers {
public:
  Matchers() = default;
  explicit Matchers(std::map<std::string, std::string> conditions);

  bool matches(const AlertFacts& alert) const;
  const std::map<std::string, std::string>& conditions() const { return m_conditions; }
  bool empty() const { return m_conditions.empty(); }

private:
  std::map<std::string, std::string> m_conditions;
};

// A matcher name is `account`, `provider`, `rule`, `severity` or a label name
// ([A-Za-z_][A-Za-z0-9_.-]*). Returns why not, or nothing when the name is fine.
std::optional<std::string> check_matcher_name(const std::string& name);

// A condition no alert can meet: a `rule` or `severity` value (with no `*`) that names no
// rule or severity. Returns why, for `validate` and the API's 400.
std::optional<std::string> impossible_condition(const std::string& name, const std::string& value);

}  // namespace creditwatch::alerts
