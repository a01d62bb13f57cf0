#include "creditwatch/scheduler/runtime.hpp"

#include "creditwatch/notify/factory.hpp"
#include "creditwatch/providers/factory.hpp"

namespace creditwatch::scheduler {

std::shared_ptr<Runtime> load_runtime(const std::string& path, const Clock& clock) {
  auto runtime = std::make_shared<Runtime>();
  runtime->config = config::load_config(path);
  std::vector<config::ConfigError> errors;
  for (const auto& account : runtime->config.accounts) {
    if (auto provider = providers::make_provider(account, clock, errors)) {
      runtime->providers[account.name] = std::move(provider);
    }
  }
  for (const auto& notifier : runtime->config.notifiers) {
    if (auto sink = notify::make_notifier(notifier, errors)) runtime->notifiers[notifier.name] = std::move(sink);
  }
  if (!errors.empty()) throw config::ConfigErrors(std::move(errors));
  return runtime;
}

}  // namespace creditwatch::scheduler
