#pragma once

// `digest:`: the periodic report's schedule and recipients. Private to the config layer.
#include "config_reader.hpp"

namespace creditwatch::config {

// Reads `digest:` (a mapping) into `out`; its notifier names are checked by check_digest.
void read_digest(ConfigReader& r, const YAML::Node& node, DigestConfig& out);

// Reports each name in digest.notify that is not a notifier, or names an incident tool
// (PagerDuty, Opsgenie, Alertmanager), which pages people and has no place for a report.
void check_digest(ConfigReader& r, const Config& c, const YAML::Node& digest);

}  // namespace creditwatch::config
