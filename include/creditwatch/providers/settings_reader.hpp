#pragma once

#include "creditwatch/config/settings_reader.hpp"

namespace creditwatch::providers {

// The settings reader for one account's provider-specific keys.
class SettingsReader : public config::SettingsReader {
public:
  SettingsReader(const config::AccountConfig& account, std::vector<config::ConfigError>& errors);
};

}  // namespace creditwatch::providers
