#pragma once

#include "creditwatch/config/config.hpp"
#include "creditwatch/providers/provider.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace creditwatch::providers {

// An account's `liveness_*` keys, taken out before its balance provider reads the rest (which
// would reject them as unknown).
struct LivenessSplit {
  config::AccountConfig balance_account;
  std::optional<config::Settings> liveness_settings;  // nullopt: no liveness probe asked for
};
LivenessSplit split_liveness_settings(const config::AccountConfig& account);

// Wraps `balance` so every probe also asks the inference API whether the account can serve.
// An out-of-credit answer marks the reading unavailable (the balance sample is kept); a
// rejected key fails the probe as key_invalid. nullptr on a config error.
std::unique_ptr<Provider> add_liveness(std::unique_ptr<Provider> balance, const config::AccountConfig& account,
                                       const config::Settings& liveness_settings, const Clock& clock,
                                       std::vector<config::ConfigError>& errors);

}  // namespace creditwatch::providers
