#include "creditwatch/app/loaded_config.hpp"

#include "creditwatch/providers/factory.hpp"

namespace creditwatch::app {

LoadedConfig load_validated_config(const std::string& path, const Clock& clock) {
  LoadedConfig loaded{config::load_config(path), {}};
  std::vector<config::ConfigError> errors;
  for (const auto& account : loaded.config.accounts) {
    auto provider = providers::make_provider(account, clock, errors);
    if (provider) loaded.providers[account.name] = std::move(provider);
  }
  if (!errors.empty()) throw config::ConfigErrors(std::move(errors));
  return loaded;
}

}  // namespace creditwatch::app
