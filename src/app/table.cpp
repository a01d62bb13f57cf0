#include "table.hpp"

#include <algorithm>
#include <cstdio>

namespace creditwatch::app {
namespace {

// Display width in code points, so "▁▂▃" counts three columns and not nine bytes.
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const auto& row : m_rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  }
  for (const auto& row : m_rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - display_width(row[i]) + 2, ' ');
    }
    out << line << '\n';
  }
}

std::string format_days(const std::optional<double>& days) {
  if (!days) return "-";
  char buffer[32];
  // One decimal hides a runway of minutes as "0.0": below ten days show three digits.
  std::snprintf(buffer, sizeof buffer, *days < 10.0 ? "%.3g" : "%.1f", *days);
  return buffer;
}

std::string format_rate(const std::optional<double>& rate) {
  if (!rate) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", *rate);
  return buffer;
}

}  // namespace creditwatch::app
