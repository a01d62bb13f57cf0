#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/notify/notifier.hpp"
#include "creditwatch/providers/provider.hpp"

#include <map>
#include <memory>
#include <string>

namespace creditwatch::scheduler {

// An immutable snapshot of a validated config with its providers and notifiers built.
// SIGHUP builds a new one aside and swaps it in whole; a bad config never replaces a good one.
struct Runtime {
  config::Config config;
  std::map<std::string, std::shared_ptr<providers::Provider>> providers;  // by account name
  std::map<std::string, std::shared_ptr<notify::Notifier>> notifiers;     // by notifier name
};

// Loads FILE and validates everything that can be checked without the network:
// syntax, keys, types, ${VAR}s, secret files, providers' and notifiers' own keys, routing.
// Throws config::ConfigErrors listing every problem.
std::shared_ptr<Runtime> load_runtime(const std::string& path, const Clock& clock);

}  // namespace creditwatch::scheduler
