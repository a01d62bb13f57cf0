#pragma once

#include "creditwatch/notify/heartbeats.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/server/telemetry.hpp"
#include "creditwatch/storage/store.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace creditwatch::server {

// Everything /metrics shows, gathered at scrape time.
struct MetricsSnapshot {
  std::map<std::string, scheduler::Assessment> latest;
  // Every configured account -> its configured labels. Series of accounts not listed here
  // (removed by a reload) are left out.
  std::map<std::string, std::map<std::string, std::string>> labels;
  std::vector<storage::AlertRow> alerts;
  std::map<std::string, notify::DeliveryCounts> deliveries;
  const Telemetry* telemetry = nullptr;
  std::uint64_t storage_write_failures = 0;  // database writes that failed (e.g. disk full)
  std::vector<notify::HeartbeatStatus> heartbeats;
};

// Prometheus text exposition format 0.0.4 with HELP and TYPE for every family.
std::string render_metrics(const MetricsSnapshot& snapshot);

// Escapes a label value: backslash, double quote and newline.
std::string escape_label(const std::string& value);

}  // namespace creditwatch::server
