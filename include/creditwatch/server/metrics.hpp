#pragma once

#include "creditwatch/notify/heartbeats.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/assessment_summary.hpp"
#include "creditwatch/server/telemetry.hpp"
#include "creditwatch/storage/store.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <string>
#include <vector>

namespace creditwatch::server {

// Everything /metrics shows, gathered at scrape time.
struct MetricsSnapshot {
  std::map<std::string, scheduler::AssessmentSummary> latest;
  // Every configured account -> its configured labels. Series of accounts not listed here
  // (removed by a reload) are left out.
  std::map<std::string, std::map<std::string, std::string>> labels;
  std::vector<storage::AlertRow> alerts;
  // Firing alerts a silence holds, as (account, rule): creditwatch_alerts_firing{silenced="true"}.
  std::set<std::pair<std::string, std::string>> silenced;
  std::map<std::string, notify::DeliveryCounts> deliveries;
  const Telemetry* telemetry = nullptr;
  std::uint64_t storage_write_failures = 0;  // database writes that failed (e.g. disk full)
  std::vector<notify::HeartbeatStatus> heartbeats;
  // This process as a replica sharing a PostgreSQL database; nullopt for a single process.
  struct Replica {
    std::string id;
    std::size_t accounts = 0;  // accounts it holds leases on
    std::optional<TimePoint> last_renewal;
    std::uint64_t renewal_failures = 0;
  };
  std::optional<Replica> replica;
};

// Prometheus text exposition format 0.0.4 with HELP and TYPE for every family.
std::string render_metrics(const MetricsSnapshot& snapshot);

// Escapes a label value: backslash, double quote and newline.
std::string escape_label(const std::string& value);

}  // namespace creditwatch::server
