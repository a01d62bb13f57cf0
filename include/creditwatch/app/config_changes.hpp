#pragma once

#include "creditwatch/config/config.hpp"

#include <set>
#include <string>
#include <vector>

namespace creditwatch::app {

// One difference between the running configuration and a reloaded one.
struct ConfigChange {
  std::string what;  // "storage.path", "http.auth_token", "accounts", ...
  bool live = true;  // applied by a reload; false: takes effect after a restart
};

// What differs, section by section. A difference in any part this function does not
// name (a section or key added later) is reported as needing a restart, never left out.
std::vector<ConfigChange> config_changes(const config::Config& running, const config::Config& next);

// The notifiers configured identically in both (same name, same settings): a reload keeps
// their delivery threads, and whatever they have on the wire, as they are.
std::set<std::string> unchanged_notifiers(const config::Config& running, const config::Config& next);

}  // namespace creditwatch::app
