#pragma once

#include "creditwatch/config/config.hpp"

#include <string>
#include <vector>

namespace creditwatch::config {

// Something in a valid config that is probably not what its author meant: `validate` prints
// these and still exits 0, and the daemon runs as written.
struct ConfigWarning {
  SourceLocation where;
  std::string message;

  // "FILE:LINE:COL: warning: message"
  std::string to_string() const;
};

// Routes that can never match (a rule or severity no alert has, a label no account has, a
// route after a catch-all that does not `continue`), and notifiers nothing sends to: named by
// no route, no account's `notify`, no escalation step and no other section that notifies.
// In file order.
std::vector<ConfigWarning> config_warnings(const Config& config);

}  // namespace creditwatch::config
