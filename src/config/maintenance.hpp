#pragma once

// `maintenance:` windows: named weekly stretches of local time with matchers, acting as
// recurring silences. Private to the config layer.
#include "config_reader.hpp"

namespace creditwatch::config {

// One entry of `maintenance:`, its name not yet checked for uniqueness.
MaintenanceWindow read_maintenance_window(ConfigReader& r, const YAML::Node& node);

}  // namespace creditwatch::config
