#include "creditwatch/providers/settings_reader.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"

#include <algorithm>

namespace creditwatch::providers {

const config::Setting* SettingsReader::raw(const std::string& key) {
  m_used.push_back(key);
  auto it = m_account.settings.find(key);
  return it == m_account.settings.end() ? nullptr : &it->second;
}

void SettingsReader::error(const std::string& key, const std::string& message) {
  auto it = m_account.settings.find(key);
  config::SourceLocation where = it == m_account.settings.end() ? m_account.where : it->second.where;
  m_errors.push_back({where, message});
}

std::optional<std::string> SettingsReader::string(const std::string& key) {
  const auto* s = raw(key);
  if (!s) return std::nullopt;
  return s->value;
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
  for (const auto& [key, setting] : m_account.settings) {
    if (std::find(m_used.begin(), m_used.end(), key) != m_used.end()) continue;
    std::string message = "unknown key \"" + key + "\" for provider " + m_account.provider;
    std::vector<std::string> candidates = m_used;
    for (const char* common : {"name", "provider", "api_key", "api_key_file", "base_url", "currency", "min_balance",
                               "labels", "notify", "interval", "timeout", "burn_window", "stale_after", "warn_days",
                               "critical_days", "target_days", "topup_lead_time"}) {
      candidates.emplace_back(common);
    }
    if (auto hint = closest_match(key, candidates)) message += " (did you mean \"" + *hint + "\"?)";
    m_errors.push_back({setting.where, message});
  }
  return m_errors.size() == m_errors_before;
}

}  // namespace creditwatch::providers
