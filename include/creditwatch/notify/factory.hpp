#pragma once

#include "creditwatch/config/config.hpp"
#include "creditwatch/notify/notifier.hpp"

#include <memory>
#include <vector>

namespace creditwatch::notify {

const std::vector<std::string>& notifier_types();

// Builds a notifier from its config. Problems with its keys are appended to `errors`
// with their location, and nullptr is returned.
std::unique_ptr<Notifier> make_notifier(const config::NotifierConfig& config, std::vector<config::ConfigError>& errors);

}  // namespace creditwatch::notify
