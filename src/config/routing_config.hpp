#pragma once

// `routes:` and `escalate:`: which notifiers hear of which alerts, and who is told when an
// alert sits unanswered. Private to the config layer.
#include "config_reader.hpp"

namespace creditwatch::config {

// `routes:`, a list of {match, notify, continue}.
void read_routes(ConfigReader& r, const YAML::Node& node, std::vector<RouteConfig>& out);

// `escalate:`, one step (a mapping) or a list of steps.
void read_escalation(ConfigReader& r, const YAML::Node& node, std::vector<EscalationStep>& out);

// Every notifier name a route or an escalation step gives must be a configured notifier.
// Run once the notifiers are read; `root` is the whole document (for locations).
void check_route_notifiers(ConfigReader& r, const Config& c, const YAML::Node& root);

}  // namespace creditwatch::config
