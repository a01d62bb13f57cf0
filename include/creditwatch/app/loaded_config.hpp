#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/providers/provider.hpp"

#include <map>
#include <memory>
#include <string>

namespace creditwatch::app {

// A config that passed every check, with a provider built for each account.
struct LoadedConfig {
  config::Config config;
  std::map<std::string, std::unique_ptr<providers::Provider>> providers;
};

// Loads FILE and validates everything that can be checked without the network:
// syntax, keys, types, ${VAR}s, secrets files, providers' own keys, notifier routing.
// Throws config::ConfigErrors with every problem found.
LoadedConfig load_validated_config(const std::string& path, const Clock& clock);

}  // namespace creditwatch::app
