#pragma once

#include "creditwatch/common/decimal.hpp"
#include "creditwatch/config/config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace creditwatch::config {

// Typed, located access to the keys a provider or notifier owns. Each getter records the
// key as known; finish() then reports every setting nobody asked for, with a hint.
class SettingsReader {
public:
  // `owner` names the thing in messages ("provider deepseek", "notifier slack");
  // `common_keys` are the keys the config layer already read, offered as hints too.
  SettingsReader(const Settings& settings, SourceLocation owner_where, std::string owner,
                 std::vector<std::string> common_keys, std::vector<ConfigError>& errors);

  std::optional<std::string> string(const std::string& key);
  std::optional<std::string> required_string(const std::string& key);
  std::optional<Decimal> decimal(const std::string& key);
  std::optional<Duration> duration(const std::string& key);
  std::optional<bool> boolean(const std::string& key);
  const Setting* raw(const std::string& key);
  void error(const std::string& key, const std::string& message);
  // Flags every setting that no call above asked for. Returns true when this reader added
  // no error at all.
  bool finish();

private:
  const Settings& m_settings;
  SourceLocation m_owner_where;
  std::string m_owner;
  std::vector<std::string> m_common_keys;
  std::vector<ConfigError>& m_errors;
  std::vector<std::string> m_used;
  std::size_t m_errors_before;
};

}  // namespace creditwatch::config
