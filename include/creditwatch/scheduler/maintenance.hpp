#pragma once

#include "creditwatch/alerts/matcher.hpp"
#include "creditwatch/config/config.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace creditwatch::scheduler {

// The first of `windows` (config order) that is open at `now` and whose matchers select
// `alert`, or null. A window acts as a silence: the alert still fires and shows, only its
// notifications wait. Pure; the pointer points into `windows`.
const config::MaintenanceWindow* active_maintenance(const std::vector<config::MaintenanceWindow>& windows,
                                                    const alerts::AlertFacts& alert, TimePoint now);

// GET /api/v1/maintenance: each window as configured, whether it is open at `now`, and when
// the open stretch ends or the next one starts (RFC 3339, UTC):
// {"windows": [{"name", "days": ["sat"], "start": "22:00", "end": "02:00", "timezone",
//   "match": {...}, "active": true, "ends_at": "..."} | {..., "active": false, "starts_at", "ends_at"}]}
nlohmann::json maintenance_json(const std::vector<config::MaintenanceWindow>& windows, TimePoint now);

}  // namespace creditwatch::scheduler
