#include "creditwatch/providers/settings_reader.hpp"

namespace creditwatch::providers {

SettingsReader::SettingsReader(const config::AccountConfig& account, std::vector<config::ConfigError>& errors)
    : config::SettingsReader(account.settings, account.where, "provider " + account.provider,
                             {"name", "provider", "api_key", "api_key_file", "base_url", "currency", "min_balance",
                              "labels", "notify", "interval", "timeout", "burn_window", "stale_after", "warn_days",
                              "critical_days", "target_days", "topup_lead_time"},
                             errors) {}

}  // namespace creditwatch::providers
