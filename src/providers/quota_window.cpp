#include "creditwatch/providers/quota_window.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>

namespace creditwatch::providers {

const char* window_label(QuotaWindow window) {
  return window == QuotaWindow::weekly ? "weekly window" : "5-hour window";
}

std::optional<QuotaWindow> window_setting(config::SettingsReader& settings) {
  const std::string value = settings.string("window").value_or("5h");
  if (value == "5h") return QuotaWindow::five_hour;
  if (value == "weekly") return QuotaWindow::weekly;
  settings.error("window", "window must be 5h or weekly, not \"" + message_text(value) + "\"");
  return std::nullopt;
}

Reading window_reading(QuotaWindow window, Decimal percent_left, std::optional<TimePoint> resets_at) {
  const Decimal hundred = *Decimal::parse("100");
  percent_left = std::clamp(percent_left, Decimal(), hundred);
  BalanceEntry entry{k_percent_unit, percent_left, std::nullopt, nlohmann::json::object()};
  entry.details["window"] = window_label(window);
  if (resets_at) entry.details["resets_at"] = format_rfc3339(*resets_at);
  Reading reading;
  // An empty window refuses requests until it resets.
  reading.available = percent_left > Decimal();
  if (!reading.available) {
    reading.unavailable_reason =
        std::string(window_label(window)) + " used up" + (resets_at ? ", resets at " + format_rfc3339(*resets_at) : "");
  }
  reading.balances.push_back(std::move(entry));
  return reading;
}

std::optional<TimePoint> epoch_time(const nlohmann::json& value) {
  // Not through amount(): Decimal stops at 10^12, and epoch milliseconds are past it.
  double raw = 0;
  if (value.is_number()) {
    raw = value.get<double>();
  } else if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    raw = std::stod(text);
  } else {
    return std::nullopt;
  }
  if (!(raw > 0)) return std::nullopt;
  constexpr double k_seconds_below = 1e11;  // 1e11 ms is 1973; 1e11 s is the year 5138
  // Beyond 2096 is no reset time ("never" is often the year 3000), and TimePoint's
  // nanoseconds end in 2262.
  constexpr double k_far_ms = 4e12;
  const double ms = raw < k_seconds_below ? raw * 1000 : raw;
  if (ms >= k_far_ms) return std::nullopt;
  return from_unix_ms(static_cast<std::int64_t>(ms));
}

std::optional<TimePoint> window_resets_at(const nlohmann::json& details) {
  if (!details.is_object()) return std::nullopt;
  const auto it = details.find("resets_at");
  if (it == details.end() || !it->is_string()) return std::nullopt;
  return parse_rfc3339(it->get<std::string>());
}

std::optional<TimePoint> window_resets_at(const std::string& details_json) {
  // Cheap test first: every account's stored runs pass through here on a replay.
  if (details_json.find("resets_at") == std::string::npos) return std::nullopt;
  return window_resets_at(nlohmann::json::parse(details_json, nullptr, false));
}

}  // namespace creditwatch::providers
