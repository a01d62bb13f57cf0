#include "creditwatch/common/duration.hpp"

#include <cstdint>
#include <cstdio>
#include <limits>

namespace creditwatch {
namespace {

std::optional<std::int64_t> unit_ms(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  if (unit == "d") return 86'400'000;
  if (unit == "w") return 7 * 86'400'000LL;
  return std::nullopt;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t digits_start = i;
    std::int64_t amount = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (amount > std::numeric_limits<std::int64_t>::max() / 10 - 10) return std::nullopt;
      amount = amount * 10 + (text[i] - '0');
      ++i;
    }
    if (i == digits_start) return std::nullopt;
    std::size_t unit_start = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    auto multiplier = unit_ms(text.substr(unit_start, i - unit_start));
    if (!multiplier) return std::nullopt;
    if (amount > (std::numeric_limits<std::int64_t>::max() - total) / *multiplier) return std::nullopt;
    total += amount * *multiplier;
  }
  return Duration(total);
}

std::string format_duration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::pair<std::int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

std::string describe_days(double days) {
  char buffer[48];
  if (days >= 1.0 || days <= 0.0) {
    std::snprintf(buffer, sizeof buffer, "%.1f days", days);
  } else if (days * 24 >= 1.0) {
    std::snprintf(buffer, sizeof buffer, "%.1f hours", days * 24);
  } else if (days * 1440 >= 1.0) {
    std::snprintf(buffer, sizeof buffer, "%.0f minutes", days * 1440);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.0f seconds", days * 86400);
  }
  return buffer;
}

std::string describe_span(Duration d) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return std::to_string(minutes) + (minutes == 1 ? " minute" : " minutes");
  const auto hours = minutes / 60;
  if (hours < 24) return std::to_string(hours) + " h" + (minutes % 60 ? " " + std::to_string(minutes % 60) + " min" : "");
  return std::to_string(hours / 24) + " d" + (hours % 24 ? " " + std::to_string(hours % 24) + " h" : "");
}

}  // namespace creditwatch
