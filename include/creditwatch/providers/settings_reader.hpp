#pragma once

#include "creditwatch/common/decimal.hpp"
#include "creditwatch/config/config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace creditwatch::providers {

// Typed, located access to provider-specific settings; reports unknown keys once done.
class SettingsReader {
public:
  SettingsReader(const config::AccountConfig& account, std::vector<config::ConfigError>& errors)
      : m_account(account), m_errors(errors) {}

  std::optional<std::string> string(const std::string& key);
  std::optional<Decimal> decimal(const std::string& key);
  std::optional<Duration> duration(const std::string& key);
  std::optional<bool> boolean(const std::string& key);
  const config::Setting* raw(const std::string& key);
  void error(const std::string& key, const std::string& message);
  // Flags every setting that no call above asked for. Returns true when no error was added.
  bool finish();

private:
  const config::AccountConfig& m_account;
  std::vector<config::ConfigError>& m_errors;
  std::vector<std::string> m_used;
  std::size_t m_errors_before = m_errors.size();
};

}  // namespace creditwatch::providers
