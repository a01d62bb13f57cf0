#include "creditwatch/scheduler/maintenance.hpp"

#include "creditwatch/common/time_format.hpp"

#include <cstdio>

namespace creditwatch::scheduler {
namespace {

std::string time_of_day(int minute) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d", minute / 60 % 24, minute % 60);
  return buffer;
}

nlohmann::json day_names(const WeeklyWindow& when) {
  static const char* const k_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  nlohmann::json out = nlohmann::json::array();
  // Monday first, as people list a working week.
  for (std::size_t i : {1, 2, 3, 4, 5, 6, 0}) {
    if (when.days[i]) out.push_back(k_names[i]);
  }
  return out;
}

}  // namespace

const config::MaintenanceWindow* active_maintenance(const std::vector<config::MaintenanceWindow>& windows,
                                                    const alerts::AlertFacts& alert, TimePoint now) {
  for (const auto& window : windows) {
    if (window.when.contains(now) && alerts::Matchers(window.match).matches(alert)) return &window;
  }
  return nullptr;
}

nlohmann::json maintenance_json(const std::vector<config::MaintenanceWindow>& windows, TimePoint now) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& window : windows) {
    nlohmann::json item = {{"name", window.name},
                           {"days", day_names(window.when)},
                           {"start", time_of_day(window.when.start_minute)},
                           {"end", time_of_day(window.when.end_minute)},
                           {"timezone", window.when.zone.name()},
                           {"match", window.match},
                           {"active", false}};
    if (auto stretch = window.when.current_or_next(now)) {
      item["active"] = stretch->start <= now;
      if (stretch->start > now) item["starts_at"] = format_rfc3339(stretch->start);
      item["ends_at"] = format_rfc3339(stretch->end);
    }
    list.push_back(std::move(item));
  }
  return {{"windows", std::move(list)}};
}

}  // namespace creditwatch::scheduler
