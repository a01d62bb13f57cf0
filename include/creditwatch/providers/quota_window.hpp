#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/config/settings_reader.hpp"
#include "creditwatch/providers/provider.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace creditwatch::providers {

// What coding-plan providers (zhipu_plan, minimax_plan) have in common: the balance is the
// percent of a usage window left, in the unit `percent`, and each reading carries in its
// details which window it is and when that window refills. The forecast ledger reads the
// reset back (scheduler/assessment.cpp) so a refill at the announced time is not a deposit.

inline constexpr const char* k_percent_unit = "percent";

// Which of a plan's windows an account watches (its `window` setting).
enum class QuotaWindow { five_hour, weekly };

// "5-hour window", "weekly window": how the window is named in details and alert texts.
const char* window_label(QuotaWindow window);

// Reads the `window` setting: `5h` (the default) or `weekly`; a config error otherwise.
std::optional<QuotaWindow> window_setting(config::SettingsReader& settings);

// The reading of one window: `percent_left` (clamped to 0-100) and its reset, as
// details {"window": label, "resets_at": RFC 3339}. `available` is false at 0 % left.
Reading window_reading(QuotaWindow window, Decimal percent_left, std::optional<TimePoint> resets_at);

// A reset time sent as epoch milliseconds (a number or a numeric string). Values under
// 10^11 are taken as epoch seconds: clients report both for the same field. nullopt for
// anything else.
std::optional<TimePoint> epoch_time(const nlohmann::json& value);

// The reset a reading's details announce (window_reading), or nullopt without one.
std::optional<TimePoint> window_resets_at(const nlohmann::json& details);
// The same from details stored as JSON text (as the store returns them).
std::optional<TimePoint> window_resets_at(const std::string& details_json);

}  // namespace creditwatch::providers
