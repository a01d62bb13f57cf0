#include "creditwatch/scheduler/maintenance.hpp"

#include "creditwatch/common/time_format.hpp"

#include <doctest/doctest.h>

using creditwatch::TimePoint;
using creditwatch::TimeZone;
using creditwatch::alerts::AlertFacts;
using creditwatch::alerts::Rule;
using creditwatch::alerts::Severity;
using creditwatch::config::MaintenanceWindow;
using creditwatch::scheduler::active_maintenance;
using creditwatch::scheduler::maintenance_json;

namespace {

TimePoint utc(const char* text) {
  auto t = creditwatch::parse_rfc3339(text);
  REQUIRE_MESSAGE(t.has_value(), text);
  return *t;
}

// Sundays 01:30-03:30 in Berlin (over both DST changes of 2026), for `match`.
MaintenanceWindow sunday_night(std::string name, std::map<std::string, std::string> match) {
  MaintenanceWindow w;
  w.name = std::move(name);
  w.when.days[0] = true;
  w.when.start_minute = 90;
  w.when.end_minute = 210;
  w.when.zone = *TimeZone::load("Europe/Berlin");
  w.match = std::move(match);
  return w;
}

// Saturday 22:00 to Sunday 02:00 UTC, every alert.
MaintenanceWindow saturday_night() {
  MaintenanceWindow w;
  w.name = "saturday";
  w.when.days[6] = true;
  w.when.start_minute = 22 * 60;
  w.when.end_minute = 2 * 60;
  return w;
}

}  // namespace

TEST_SUITE("scheduler_maintenance") {
  TEST_CASE("active_maintenance: the first open window whose matchers select the alert") {
    const std::map<std::string, std::string> billing{{"team", "billing"}};
    const std::map<std::string, std::string> bots{{"team", "bots"}};
    const AlertFacts billing_alert{"ds-prod", "deepseek", Rule::runway, Severity::critical, &billing};
    const AlertFacts bots_alert{"or-main", "openrouter", Rule::runway, Severity::warning, &bots};
    const std::vector<MaintenanceWindow> windows{sunday_night("billing-night", {{"team", "billing"}}),
                                                 sunday_night("ds-warnings", {{"account", "ds-*"}, {"severity", "warning"}})};
    // Spring forward: 01:30 CET (00:30Z) to 03:30 CEST (01:30Z).
    CHECK(active_maintenance(windows, billing_alert, utc("2026-03-29T00:29:59Z")) == nullptr);
    const auto* open = active_maintenance(windows, billing_alert, utc("2026-03-29T00:30:00Z"));
    REQUIRE(open);
    CHECK(open->name == "billing-night");
    CHECK(active_maintenance(windows, bots_alert, utc("2026-03-29T00:30:00Z")) == nullptr);
    CHECK(active_maintenance(windows, billing_alert, utc("2026-03-29T01:30:00Z")) == nullptr);
    // Fall back: 01:30 CEST (23:30Z the day before) to 03:30 CET (02:30Z).
    CHECK(active_maintenance(windows, billing_alert, utc("2026-10-25T02:29:00Z")) != nullptr);
    CHECK(active_maintenance(windows, billing_alert, utc("2026-10-25T02:30:00Z")) == nullptr);
    // Over midnight, every alert: Saturday 22:00 until Sunday 02:00 UTC.
    const std::vector<MaintenanceWindow> with_saturday{saturday_night()};
    const auto* saturday = active_maintenance(with_saturday, bots_alert, utc("2026-12-06T01:00:00Z"));
    REQUIRE(saturday);
    CHECK(saturday->name == "saturday");
    CHECK(active_maintenance(with_saturday, bots_alert, utc("2026-12-06T02:00:00Z")) == nullptr);
    // The second window needs both its matchers.
    const AlertFacts ds_warning{"ds-dev", "deepseek", Rule::runway, Severity::warning, &bots};
    const AlertFacts ds_critical{"ds-dev", "deepseek", Rule::runway, Severity::critical, &bots};
    CHECK(active_maintenance(windows, ds_warning, utc("2026-07-04T23:45:00Z"))->name == "ds-warnings");
    CHECK(active_maintenance(windows, ds_critical, utc("2026-07-04T23:45:00Z")) == nullptr);
  }

  TEST_CASE("maintenance_json shows each window, whether it is open, and its next start or end") {
    const std::vector<MaintenanceWindow> windows{sunday_night("billing-night", {{"team", "billing"}}), saturday_night()};
    const auto json = maintenance_json(windows, utc("2026-12-05T23:00:00Z"));
    const nlohmann::json expected = nlohmann::json::parse(R"({"windows": [
      {"name": "billing-night", "days": ["sun"], "start": "01:30", "end": "03:30", "timezone": "Europe/Berlin",
       "match": {"team": "billing"}, "active": false,
       "starts_at": "2026-12-06T00:30:00Z", "ends_at": "2026-12-06T02:30:00Z"},
      {"name": "saturday", "days": ["sat"], "start": "22:00", "end": "02:00", "timezone": "UTC",
       "match": {}, "active": true, "ends_at": "2026-12-06T02:00:00Z"}]})");
    CHECK(json == expected);
  }
}
