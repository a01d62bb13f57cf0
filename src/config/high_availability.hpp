#pragma once

// What running without a single point of failure takes: storage.url (PostgreSQL shared by
// replicas), `ha:` (the replica's id and lease) and `heartbeats:` (the dead man's switch).
// Private to the config layer.
#include "config_reader.hpp"

namespace creditwatch::config {

// storage.url or storage.url_file, exclusive with storage.path (which it clears).
void read_storage_url(ConfigReader& r, const YAML::Node& storage, StorageConfig& out);

void read_ha(ConfigReader& r, const YAML::Node& node, HaConfig& out);

// One entry of `heartbeats:`, its name not yet checked for uniqueness.
HeartbeatConfig read_heartbeat(ConfigReader& r, const YAML::Node& node);

}  // namespace creditwatch::config
