#include "creditwatch/alerts/matcher.hpp"

#include <cctype>
#include <utility>

namespace creditwatch::alerts {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative wildcard matching with one backtrack point: linear in practice, never
  // exponential on patterns like "*a*a*a*b" (they come from the API).
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Matchers::Matchers(std::map<std::string, std::string> conditions) : m_conditions(std::move(conditions)) {}

bool Matchers::matches(const AlertFacts& alert) const {
  for (const auto& [name, pattern] : m_conditions) {
    std::string_view value;
    if (name == "account") {
      value = alert.account;
    } else if (name == "provider") {
      value = alert.provider;
    } else if (name == "rule") {
      value = to_string(alert.rule);
    } else if (name == "severity") {
      value = to_string(alert.severity);
    } else if (alert.labels) {
      auto label = alert.labels->find(name);
      if (label != alert.labels->end()) value = label->second;
    }
    if (!glob_match(pattern, value)) return false;
  }
  return true;
}

std::optional<std::string> check_matcher_name(const std::string& name) {
  if (name.empty()) return "a matcher needs a name (account, provider, rule, severity or a label)";
  const auto first = static_cast<unsigned char>(name[0]);
  bool ok = std::isalpha(first) || name[0] == '_';
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    ok = ok && (std::isalnum(u) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) return "matcher name \"" + name + "\" is not a field or label name ([A-Za-z_][A-Za-z0-9_.-]*)";
  return std::nullopt;
}

std::optional<std::string> impossible_condition(const std::string& name, const std::string& value) {
  if (value.find('*') != std::string::npos) return std::nullopt;
  if (name == "rule" && !parse_rule(value)) return "no rule is called \"" + value + "\"";
  if (name == "severity" && !parse_severity(value)) {
    return "no severity is called \"" + value + "\" (info, warning, critical)";
  }
  return std::nullopt;
}

}  // namespace creditwatch::alerts
