#include "creditwatch/forecast/ledger.hpp"

#include <algorithm>
#include <cmath>

namespace creditwatch::forecast {
namespace {

constexpr std::int64_t k_segment_memory_ms = 6 * 3'600'000;

std::int64_t floor_to(std::int64_t value, std::int64_t step) {
  return value >= 0 ? value / step * step : ((value - step + 1) / step) * step;
}

}  // namespace

SpendLedger::Bucket& SpendLedger::bucket_for(std::int64_t start_ms) {
  if (m_buckets.empty()) {
    m_buckets.emplace_back();
    m_first_bucket_ms = start_ms;
  }
  auto last_start = [&] { return m_first_bucket_ms + static_cast<std::int64_t>(m_buckets.size() - 1) * k_bucket_ms; };
  while (last_start() < start_ms) m_buckets.emplace_back();
  while (m_buckets.size() > k_max_buckets) {
    m_buckets.pop_front();
    m_first_bucket_ms += k_bucket_ms;
  }
  const auto index = (start_ms - m_first_bucket_ms) / k_bucket_ms;
  return m_buckets[static_cast<std::size_t>(std::max<std::int64_t>(0, index))];
}

void SpendLedger::attribute(std::int64_t from_ms, std::int64_t to_ms, double spend) {
  const double span = static_cast<double>(to_ms - from_ms);
  if (span <= 0) return;
  // Spread over at most the buckets we keep; older parts of a very long gap fall away.
  from_ms = std::max(from_ms, to_ms - static_cast<std::int64_t>(k_max_buckets) * k_bucket_ms);
  for (std::int64_t start = floor_to(from_ms, k_bucket_ms); start < to_ms; start += k_bucket_ms) {
    const std::int64_t overlap = std::min(to_ms, start + k_bucket_ms) - std::max(from_ms, start);
    if (overlap <= 0) continue;
    Bucket& b = bucket_for(start);
    b.spend += spend * static_cast<double>(overlap) / span;
    b.covered_ms += static_cast<double>(overlap);
  }
  m_segments.push_back(Segment{from_ms, to_ms, spend});
  while (!m_segments.empty() && m_segments.front().to_ms < to_ms - k_segment_memory_ms) m_segments.pop_front();
  if (m_segments.size() > k_max_segments) thin_segments();
}

void SpendLedger::thin_segments() {
  // Resolution that falls with age: merge, one pair at a time, the touching neighbours whose
  // merged length is smallest against their age, until a quarter of the room is free. Each
  // segment then spans about a tenth of its age: seconds for the last minutes (a spike is
  // seen at full size), minutes hours back. A 1 s probe interval cannot grow six hours to
  // 21,600 segments per account (memory, and a scan of all of them in every forecast).
  const std::int64_t now_ms = m_segments.back().to_ms;
  while (m_segments.size() > k_max_segments * 3 / 4) {
    std::size_t best = m_segments.size();
    double best_score = 0;
    for (std::size_t i = 0; i + 1 < m_segments.size(); ++i) {
      const Segment& older = m_segments[i];
      const Segment& newer = m_segments[i + 1];
      // Only neighbours that touch: merging across a gap would count the gap as observed.
      if (newer.from_ms != older.to_ms) continue;
      const auto age_ms = static_cast<double>(std::max<std::int64_t>(1, now_ms - newer.to_ms));
      const double score = static_cast<double>(newer.to_ms - older.from_ms) / age_ms;
      if (best == m_segments.size() || score < best_score) {
        best = i;
        best_score = score;
      }
    }
    if (best == m_segments.size()) {
      m_segments.pop_front();  // nothing touches: drop the oldest
      continue;
    }
    m_segments[best].to_ms = m_segments[best + 1].to_ms;
    m_segments[best].spend += m_segments[best + 1].spend;
    m_segments.erase(m_segments.begin() + static_cast<std::ptrdiff_t>(best + 1));
  }
}

double SpendLedger::recent_rate_per_ms() const {
  if (!m_last) return 0;
  const auto w = window(m_last->at - std::chrono::hours(24 * 7), m_last->at);
  return w.covered_days > 0 ? w.spend / (w.covered_days * k_day_ms) : 0;
}

void SpendLedger::add(const Point& p) {
  if (m_last && p.at <= m_last->at) return;
  m_last_deposit = Decimal();
  const bool counters = m_anchor && m_anchor->spend_total && p.spend_total;
  const bool repeated = m_anchor && !counters && p.balance == m_anchor->balance;
  // While the account is dry its demand is refused, so the time says nothing about the level
  // it will spend at once topped up: it is left unobserved rather than counted as no spend.
  const bool dry = m_anchor && !counters && m_anchor->balance <= Decimal() && p.balance <= m_anchor->balance;
  if (dry) m_anchor = p;
  if (dry || (repeated && to_unix_ms(p.at) - to_unix_ms(m_anchor->at) < k_max_hold_ms)) {
    m_previous = m_last;
    m_last = p;
    ++m_points;
    return;
  }
  if (m_anchor) {
    const std::int64_t from = to_unix_ms(m_anchor->at);
    const std::int64_t to = to_unix_ms(p.at);
    double spend = 0;
    Decimal deposit;
    if (counters && *p.spend_total >= *m_anchor->spend_total) {
      // The counter is authoritative; balance = before - spend + deposit.
      const Decimal counted = *p.spend_total - *m_anchor->spend_total;
      spend = counted.to_double();
      deposit = p.balance - m_anchor->balance + counted;
    } else if (p.balance <= m_anchor->balance) {
      spend = (m_anchor->balance - p.balance).to_double();
    } else {
      // A deposit: the spend it hides is estimated from the recent rate.
      spend = recent_rate_per_ms() * static_cast<double>(to - from);
      deposit = p.balance - m_anchor->balance + Decimal::from_double(spend);
    }
    if (deposit > Decimal()) {
      m_last_deposit = deposit;
      m_deposits.emplace_back(to, deposit);
      if (m_deposits.size() > 1000) m_deposits.erase(m_deposits.begin());
    }
    attribute(from, to, spend);
    m_total_spend += spend;
  }
  m_previous = m_last;
  m_last = p;
  m_anchor = p;
  ++m_points;
}

Decimal SpendLedger::deposits_since(TimePoint since) const {
  Decimal total;
  const auto from = to_unix_ms(since);
  for (const auto& [at, amount] : m_deposits) {
    if (at >= from) total += amount;
  }
  return total;
}

SpendLedger::Window SpendLedger::window(TimePoint from, TimePoint to) const {
  Window w;
  if (m_buckets.empty()) return w;
  const auto from_ms = to_unix_ms(from);
  const auto to_ms = to_unix_ms(to);
  const std::int64_t first = m_first_bucket_ms;
  // Buckets are consecutive hours, so the window maps straight to an index range.
  const auto lo = static_cast<std::size_t>(
      std::clamp<std::int64_t>((from_ms - first) / k_bucket_ms, 0, static_cast<std::int64_t>(m_buckets.size())));
  const auto hi = static_cast<std::size_t>(
      std::clamp<std::int64_t>((to_ms - first) / k_bucket_ms + 1, 0, static_cast<std::int64_t>(m_buckets.size())));
  double covered_ms = 0;
  for (std::size_t i = lo; i < hi; ++i) {
    const auto& b = m_buckets[i];
    const std::int64_t start_ms = first + static_cast<std::int64_t>(i) * k_bucket_ms;
    const auto overlap_ms = std::min(to_ms, start_ms + k_bucket_ms) - std::max(from_ms, start_ms);
    if (overlap_ms <= 0) continue;
    // Partial buckets at the edges count in proportion to their overlap.
    const double overlap = static_cast<double>(overlap_ms) / static_cast<double>(k_bucket_ms);
    w.spend += b.spend * overlap;
    covered_ms += b.covered_ms * overlap;
    w.largest_hour = std::max(w.largest_hour, b.spend * overlap);
    if (b.spend > 0) ++w.hours_with_spend;
  }
  w.covered_days = covered_ms / k_day_ms;
  return w;
}

std::optional<TimePoint> SpendLedger::last_spend_end() const {
  for (std::size_t i = m_buckets.size(); i-- > 0;) {
    if (m_buckets[i].spend > 0) {
      return from_unix_ms(m_first_bucket_ms + static_cast<std::int64_t>(i + 1) * k_bucket_ms);
    }
  }
  return std::nullopt;
}

SpendLedger::Window SpendLedger::recent(TimePoint from, TimePoint to) const {
  Window w;
  const auto from_ms = to_unix_ms(from);
  const auto to_ms = to_unix_ms(to);
  double covered_ms = 0;
  for (const auto& s : m_segments) {
    const auto overlap = std::min(to_ms, s.to_ms) - std::max(from_ms, s.from_ms);
    if (overlap <= 0 || s.to_ms <= s.from_ms) continue;
    const double share = static_cast<double>(overlap) / static_cast<double>(s.to_ms - s.from_ms);
    w.spend += s.spend * share;
    covered_ms += static_cast<double>(overlap);
  }
  w.covered_days = covered_ms / k_day_ms;
  return w;
}

std::vector<double> SpendLedger::segment_rates() const {
  std::vector<double> rates;
  for (const auto& s : m_segments) {
    if (s.to_ms > s.from_ms) rates.push_back(s.rate_per_day());
  }
  return rates;
}

std::vector<double> SpendLedger::daily_spend(TimePoint to, std::size_t max_days) const {
  std::vector<double> days;
  if (m_buckets.empty()) return days;
  const std::int64_t end = to_unix_ms(to);
  for (std::size_t d = 1; d <= max_days; ++d) {
    const std::int64_t day_end = end - static_cast<std::int64_t>(d - 1) * k_day_ms;
    const std::int64_t day_start = day_end - k_day_ms;
    if (day_end <= m_first_bucket_ms) break;
    const auto w = window(from_unix_ms(day_start), from_unix_ms(day_end));
    if (w.covered_days < 0.75) continue;  // mostly unobserved: not a fair sample of a day
    days.push_back(w.spend / w.covered_days);
  }
  std::reverse(days.begin(), days.end());
  return days;
}

}  // namespace creditwatch::forecast
