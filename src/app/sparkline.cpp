#include "sparkline.hpp"

#include <algorithm>
#include <optional>

namespace creditwatch::app {

std::string sparkline(const std::vector<storage::SampleRow>& samples, TimePoint from, TimePoint to, std::size_t width) {
  static const char* const k_bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (samples.empty() || width == 0 || to <= from) return "";
  std::vector<std::optional<double>> buckets(width);
  const double span = std::chrono::duration<double>(to - from).count();
  for (const auto& s : samples) {
    if (s.at < from || s.at > to) continue;
    auto index = static_cast<std::size_t>(std::chrono::duration<double>(s.at - from).count() / span * static_cast<double>(width));
    buckets[std::min(index, width - 1)] = s.balance.to_double();
  }
  double low = 0, high = 0;
  bool any = false;
  for (const auto& b : buckets) {
    if (!b) continue;
    low = any ? std::min(low, *b) : *b;
    high = any ? std::max(high, *b) : *b;
    any = true;
  }
  if (!any) return "";
  std::string out;
  std::optional<double> last;
  for (const auto& b : buckets) {
    if (b) last = b;
    if (!last) {
      out += " ";
      continue;
    }
    const double level = high > low ? (*last - low) / (high - low) : 0.5;
    out += k_bars[std::clamp(static_cast<int>(level * 7.999), 0, 7)];
  }
  return out;
}

}  // namespace creditwatch::app
