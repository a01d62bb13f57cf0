#include "creditwatch/config/settings_reader.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"

#include <algorithm>

namespace creditwatch::config {

SettingsReader::SettingsReader(const Settings& settings, SourceLocation owner_where, std::string owner,
                               std::vector<std::string> common_keys, std::vector<ConfigError>& errors)
    : m_settings(settings),
      m_owner_where(std::move(owner_where)),
      m_owner(std::move(owner)),
      m_common_keys(std::move(common_keys)),
      m_errors(errors),
      m_errors_before(errors.size()) {}

const Setting* SettingsReader::raw(const std::string& key) {
  m_used.push_back(key);
  auto it = m_settings.find(key);
  return it == m_settings.end() ? nullptr : &it->second;
}

void SettingsReader::error(const std::string& key, const std::string& message) {
  auto it = m_settings.find(key);
  m_errors.push_back({it == m_settings.end() ? m_owner_where : it->second.where, message});
}

std::optional<std::string> SettingsReader::string(const std::string& key) {
  const auto* s = raw(key);
  if (!s) return std::nullopt;
  return s->value;
}

std::optional<std::string> SettingsReader::required_string(const std::string& key) {
  auto value = string(key);
  if (!value || value->empty()) {
    error(key, m_owner + " needs " + key);
    return std::nullopt;
  }
  return value;
}

std::optional<Decimal> SettingsReader::decimal(const std::string& key) {
  auto text = string(key);
  if (!text) return std::nullopt;
  auto value = Decimal::parse(*text);
  if (!value) error(key, key + ": expected a number, got \"" + *text + "\"");
  return value;
}

std::optional<Duration> SettingsReader::duration(const std::string& key) {
  auto text = string(key);
  if (!text) return std::nullopt;
  auto value = parse_duration(*text);
  if (!value) error(key, key + ": invalid duration \"" + *text + "\" (use e.g. 500ms, 30s, 5m, 2h, 7d)");
  return value;
}

std::optional<bool> SettingsReader::boolean(const std::string& key) {
  auto text = string(key);
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "yes") return true;
  if (*text == "false" || *text == "no") return false;
  error(key, key + ": expected true or false, got \"" + *text + "\"");
  return std::nullopt;
}

bool SettingsReader::finish() {
  for (const auto& [key, setting] : m_settings) {
    if (std::find(m_used.begin(), m_used.end(), key) != m_used.end()) continue;
    std::string message = "unknown key \"" + key + "\" for " + m_owner;
    std::vector<std::string> candidates = m_used;
    candidates.insert(candidates.end(), m_common_keys.begin(), m_common_keys.end());
    if (auto hint = closest_match(key, candidates)) message += " (did you mean \"" + *hint + "\"?)";
    m_errors.push_back({setting.where, message});
  }
  return m_errors.size() == m_errors_before;
}

}  // namespace creditwatch::config
