#include "creditwatch/forecast/ledger.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <chrono>

namespace creditwatch::forecast {
namespace {

constexpr std::int64_t k_segment_memory_ms = 6 * 3'600'000;

std::int64_t floor_to(std::int64_t value, std::int64_t step) {
  return value >= 0 ? value / step * step : ((value - step + 1) / step) * step;
}

constexpr std::string_view k_snapshot_magic = "CWLG";
constexpr std::size_t k_max_deposits = 1000;

// Little-endian fixed-width writer and reader for serialize() and restore().
class Writer {
public:
  void u8(std::uint8_t v) { m_bytes.push_back(static_cast<char>(v)); }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
  void text(std::string_view v) { m_bytes.append(v); }
  std::string take() { return std::move(m_bytes); }

private:
  std::string m_bytes;
};

// Every read fails (returns false) once the bytes run out, so a truncated snapshot is
// refused wherever it ends.
class Reader {
public:
  explicit Reader(std::string_view bytes) : m_bytes(bytes) {}
  bool u8(std::uint8_t& v) {
    if (m_at >= m_bytes.size()) return false;
    v = static_cast<std::uint8_t>(m_bytes[m_at++]);
    return true;
  }
  bool u64(std::uint64_t& v) {
    v = 0;
    for (int i = 0; i < 8; ++i) {
      std::uint8_t b = 0;
      if (!u8(b)) return false;
      v |= static_cast<std::uint64_t>(b) << (8 * i);
    }
    return true;
  }
  bool u32(std::uint32_t& v) {
    v = 0;
    for (int i = 0; i < 4; ++i) {
      std::uint8_t b = 0;
      if (!u8(b)) return false;
      v |= static_cast<std::uint32_t>(b) << (8 * i);
    }
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u);
    return true;
  }
  // Finite values only: a NaN would poison every forecast read from the ledger.
  bool f64(double& v) {
    std::uint64_t u = 0;
    if (!u64(u)) return false;
    v = std::bit_cast<double>(u);
    return std::isfinite(v);
  }
  bool f32(float& v) {
    std::uint32_t u = 0;
    if (!u32(u)) return false;
    v = std::bit_cast<float>(u);
    return std::isfinite(v);
  }
  bool text(std::string_view expected) {
    if (m_bytes.substr(m_at, expected.size()) != expected) return false;
    m_at += expected.size();
    return true;
  }
  bool at_end() const { return m_at == m_bytes.size(); }

private:
  std::string_view m_bytes;
  std::size_t m_at = 0;
};

std::int64_t nanoseconds_of(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TimePoint from_nanoseconds(std::int64_t ns) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(ns)));
}

// A point's kind byte: 0 none, 1 balance, 2 balance and spend counter; 3 and 4 the same two
// with a window reset after them. Kinds 3 and 4 are new in the same snapshot version: an older
// build refuses them and rebuilds the ledger from readings, as for any snapshot it cannot read.
constexpr std::uint8_t k_kind_reset_offset = 2;

void write_point(Writer& w, const std::optional<Point>& p) {
  if (!p) {
    w.u8(0);
    return;
  }
  w.u8(static_cast<std::uint8_t>((p->spend_total ? 2 : 1) + (p->resets_at ? k_kind_reset_offset : 0)));
  w.i64(nanoseconds_of(p->at));
  w.i64(p->balance.micros());
  if (p->spend_total) w.i64(p->spend_total->micros());
  if (p->resets_at) w.i64(nanoseconds_of(*p->resets_at));
}

bool read_point(Reader& r, std::optional<Point>& p) {
  std::uint8_t kind = 0;
  if (!r.u8(kind) || kind > 2 + k_kind_reset_offset) return false;
  if (kind == 0) {
    p.reset();
    return true;
  }
  const bool resets = kind > 2;
  if (resets) kind -= k_kind_reset_offset;
  std::int64_t at = 0;
  std::int64_t balance = 0;
  if (!r.i64(at) || !r.i64(balance)) return false;
  p = Point{from_nanoseconds(at), Decimal::from_micros(balance), std::nullopt, std::nullopt};
  if (kind == 2) {
    std::int64_t spend = 0;
    if (!r.i64(spend)) return false;
    p->spend_total = Decimal::from_micros(spend);
  }
  if (resets) {
    std::int64_t reset = 0;
    if (!r.i64(reset)) return false;
    p->resets_at = from_nanoseconds(reset);
  }
  return true;
}

}  // namespace

float SpendLedger::covered_at(std::size_t position) const {
  if (!m_wide.empty()) return m_wide[position];
  const std::uint8_t code = m_cover[position];
  if (code == k_cover_none) return 0;
  if (code == k_cover_full) return static_cast<float>(k_bucket_ms);
  return m_partial[code - 1];
}

void SpendLedger::set_covered(std::size_t position, float covered_ms) {
  if (!m_wide.empty()) {
    m_wide[position] = covered_ms;
    return;
  }
  std::uint8_t& code = m_cover[position];
  const bool partial = covered_ms != 0 && covered_ms != static_cast<float>(k_bucket_ms);
  if (code != k_cover_none && code != k_cover_full) {
    if (partial) {
      m_partial[code - 1] = covered_ms;  // the hour in progress: its entry grows in place
      return;
    }
    m_partial[code - 1] = k_free_partial;
  }
  if (!partial) {
    code = covered_ms == 0 ? k_cover_none : k_cover_full;
    return;
  }
  auto free = std::find(m_partial.begin(), m_partial.end(), k_free_partial);
  if (free == m_partial.end() && m_partial.size() < k_max_partial) {
    m_partial.push_back(k_free_partial);
    free = m_partial.end() - 1;
  }
  if (free != m_partial.end()) {
    *free = covered_ms;
    code = static_cast<std::uint8_t>(free - m_partial.begin() + 1);
    return;
  }
  // More partial hours than codes: a float per hour from now on, the same values.
  std::vector<float> wide(m_spend.size());
  for (std::size_t i = 0; i < m_spend.size(); ++i) wide[i] = covered_at(i);
  wide.reserve(m_spend.capacity());
  m_wide = std::move(wide);
  std::vector<float>().swap(m_partial);
  std::vector<std::uint8_t>().swap(m_cover);
  m_wide[position] = covered_ms;
}

void SpendLedger::grow_ring() {
  // Grown by doubling up to exactly k_max_buckets, never past it.
  if (m_spend.size() == m_spend.capacity()) {
    const std::size_t capacity = std::min(k_max_buckets, std::max<std::size_t>(24, 2 * m_spend.capacity()));
    m_spend.reserve(capacity);
    if (m_wide.empty()) m_cover.reserve(capacity);
    else m_wide.reserve(capacity);
  }
  m_spend.push_back(0);
  if (m_wide.empty()) m_cover.push_back(k_cover_none);
  else m_wide.push_back(0);
}

std::size_t SpendLedger::bucket_for(std::int64_t start_ms) {
  if (m_spend.empty()) {
    grow_ring();
    m_oldest = 0;
    m_first_bucket_ms = start_ms;
  }
  const std::int64_t last_start = m_first_bucket_ms + static_cast<std::int64_t>(m_spend.size() - 1) * k_bucket_ms;
  if (start_ms > last_start) {
    const auto added = (start_ms - last_start) / k_bucket_ms;
    if (added >= static_cast<std::int64_t>(k_max_buckets)) {
      // Every kept hour falls away: five weeks of empty ones ending at start_ms.
      m_spend.assign(k_max_buckets, 0);
      m_wide.clear();
      m_partial.clear();
      m_cover.assign(k_max_buckets, k_cover_none);
      m_oldest = 0;
      m_first_bucket_ms = start_ms - static_cast<std::int64_t>(k_max_buckets - 1) * k_bucket_ms;
    } else {
      for (std::int64_t i = 0; i < added; ++i) {
        if (m_spend.size() < k_max_buckets) {
          grow_ring();
        } else {
          m_spend[m_oldest] = 0;  // the oldest hour becomes the newest
          set_covered(m_oldest, 0);
          m_oldest = (m_oldest + 1) % k_max_buckets;
          m_first_bucket_ms += k_bucket_ms;
        }
      }
    }
  }
  const auto index = std::max<std::int64_t>(0, (start_ms - m_first_bucket_ms) / k_bucket_ms);
  return (m_oldest + static_cast<std::size_t>(index)) % m_spend.size();
}

void SpendLedger::attribute(std::int64_t from_ms, std::int64_t to_ms, double spend) {
  const double span = static_cast<double>(to_ms - from_ms);
  if (span <= 0) return;
  // Spread over at most the buckets we keep; older parts of a very long gap fall away.
  from_ms = std::max(from_ms, to_ms - static_cast<std::int64_t>(k_max_buckets) * k_bucket_ms);
  for (std::int64_t start = floor_to(from_ms, k_bucket_ms); start < to_ms; start += k_bucket_ms) {
    const std::int64_t overlap = std::min(to_ms, start + k_bucket_ms) - std::max(from_ms, start);
    if (overlap <= 0) continue;
    const std::size_t at = bucket_for(start);
    m_spend[at] = static_cast<float>(static_cast<double>(m_spend[at]) + spend * static_cast<double>(overlap) / span);
    set_covered(at, static_cast<float>(static_cast<double>(covered_at(at)) + static_cast<double>(overlap)));
  }
  push_segment(from_ms, to_ms, spend);
}

void SpendLedger::push_segment(std::int64_t from_ms, std::int64_t to_ms, double spend) {
  const auto expired = std::find_if(m_segments.begin(), m_segments.end(), [&](const PackedSegment& s) {
    return m_segment_base_ms + s.to_offset_ms >= to_ms - k_segment_memory_ms;
  });
  m_segments.erase(m_segments.begin(), expired);
  // Every kept segment now ends within six hours of to_ms, so a base at the oldest end keeps
  // all offsets, the new one included, far under 2^32.
  if (m_segments.empty() || to_ms - m_segment_base_ms > static_cast<std::int64_t>(UINT32_MAX)) {
    const std::int64_t base = m_segments.empty() ? to_ms : m_segment_base_ms + m_segments.front().to_offset_ms;
    for (auto& s : m_segments) s.to_offset_ms = static_cast<std::uint32_t>(m_segment_base_ms + s.to_offset_ms - base);
    m_segment_base_ms = base;
  }
  if (m_segments.size() == m_segments.capacity()) {
    m_segments.reserve(std::min(k_max_segments + 1, std::max<std::size_t>(8, 2 * m_segments.capacity())));
  }
  m_segments.push_back(PackedSegment{static_cast<std::uint32_t>(to_ms - m_segment_base_ms),
                                     static_cast<std::uint32_t>(to_ms - from_ms), spend});
  if (m_segments.size() > k_max_segments) thin_segments();
}

void SpendLedger::thin_segments() {
  // Resolution that falls with age: merge, one pair at a time, the touching neighbours whose
  // merged length is smallest against their age, until a quarter of the room is free. Each
  // segment then spans about a tenth of its age: seconds for the last minutes (a spike is
  // seen at full size), minutes hours back. A 1 s probe interval cannot grow six hours to
  // 21,600 segments per account (memory, and a scan of all of them in every forecast).
  const auto view = segments();
  const std::int64_t now_ms = view.back().to_ms;
  while (m_segments.size() > k_max_segments * 3 / 4) {
    std::size_t best = m_segments.size();
    double best_score = 0;
    for (std::size_t i = 0; i + 1 < m_segments.size(); ++i) {
      const Segment older = view.begin()[static_cast<std::ptrdiff_t>(i)];
      const Segment newer = view.begin()[static_cast<std::ptrdiff_t>(i + 1)];
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
      m_segments.erase(m_segments.begin());  // nothing touches: drop the oldest
      continue;
    }
    PackedSegment& older = m_segments[best];
    const PackedSegment& newer = m_segments[best + 1];
    older.length_ms += newer.to_offset_ms - older.to_offset_ms;  // touching: newer starts where older ends
    older.to_offset_ms = newer.to_offset_ms;
    older.spend += newer.spend;
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
  // The reset the latest reading announced: a window that moved its reset later while the
  // balance stood still must not throw away the use after the first announced time.
  if (m_last && m_last->resets_at && p.at >= *m_last->resets_at) {
    // A new quota window: its refill is no deposit and the interval no spend (see the class).
    m_previous = m_last;
    m_last = p;
    m_anchor = p;
    ++m_points;
    if (!m_adding_history) recalibrate();
    return;
  }
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
      if (m_deposits.size() > k_max_deposits) m_deposits.erase(m_deposits.begin());
    }
    attribute(from, to, spend);
    m_total_spend += spend;
  }
  m_previous = m_last;
  m_last = p;
  m_anchor = p;
  ++m_points;
  if (!m_adding_history) recalibrate();
}

void SpendLedger::add_history(std::span<const Point> points) {
  m_adding_history = true;
  for (const auto& p : points) add(p);
  m_adding_history = false;
  recalibrate();
}

void SpendLedger::recalibrate() {
  if (!m_last || m_spend.empty()) return;
  constexpr std::int64_t settle_ms = 2 * k_bucket_ms;
  const std::int64_t to_ms = floor_to(to_unix_ms(m_last->at), k_bucket_ms) - settle_ms;
  if (to_ms <= m_calibrated_to_ms || to_ms <= m_first_bucket_ms) return;
  m_calibrated_to_ms = to_ms;
  const auto hours = std::min<std::size_t>(m_spend.size(), static_cast<std::size_t>((to_ms - m_first_bucket_ms) / k_bucket_ms));
  std::vector<float> spend(hours);
  std::vector<float> covered(hours);
  for (std::size_t i = 0; i < hours; ++i) {
    const Bucket b = bucket(i);
    spend[i] = b.spend;
    covered[i] = b.covered_ms;
  }
  m_calibration = calibrate(spend, covered);
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
  if (m_spend.empty()) return w;
  const auto from_ms = to_unix_ms(from);
  const auto to_ms = to_unix_ms(to);
  const std::int64_t first = m_first_bucket_ms;
  // Buckets are consecutive hours, so the window maps straight to an index range.
  const auto lo = static_cast<std::size_t>(
      std::clamp<std::int64_t>((from_ms - first) / k_bucket_ms, 0, static_cast<std::int64_t>(m_spend.size())));
  const auto hi = static_cast<std::size_t>(
      std::clamp<std::int64_t>((to_ms - first) / k_bucket_ms + 1, 0, static_cast<std::int64_t>(m_spend.size())));
  double covered_ms = 0;
  for (std::size_t i = lo; i < hi; ++i) {
    const Bucket b = bucket(i);
    const std::int64_t start_ms = first + static_cast<std::int64_t>(i) * k_bucket_ms;
    const auto overlap_ms = std::min(to_ms, start_ms + k_bucket_ms) - std::max(from_ms, start_ms);
    if (overlap_ms <= 0) continue;
    // Partial buckets at the edges count in proportion to their overlap.
    const double overlap = static_cast<double>(overlap_ms) / static_cast<double>(k_bucket_ms);
    const double spend = b.spend;
    w.spend += spend * overlap;
    covered_ms += static_cast<double>(b.covered_ms) * overlap;
    w.largest_hour = std::max(w.largest_hour, spend * overlap);
    if (b.spend > 0) ++w.hours_with_spend;
  }
  w.covered_days = covered_ms / k_day_ms;
  return w;
}

std::optional<TimePoint> SpendLedger::last_spend_end() const {
  for (std::size_t i = m_spend.size(); i-- > 0;) {
    if (m_spend[position(i)] > 0) {
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
  for (const Segment s : segments()) {
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
  for (const Segment s : segments()) {
    if (s.to_ms > s.from_ms) rates.push_back(s.rate_per_day());
  }
  return rates;
}

std::vector<double> SpendLedger::daily_spend(TimePoint to, std::size_t max_days) const {
  std::vector<double> days;
  if (m_spend.empty()) return days;
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

std::string SpendLedger::serialize() const {
  Writer w;
  w.text(k_snapshot_magic);
  w.u8(k_snapshot_version);
  write_point(w, m_last);
  write_point(w, m_previous);
  write_point(w, m_anchor);
  w.i64(m_last_deposit.micros());
  w.f64(m_total_spend);
  w.u64(m_points);
  w.i64(m_first_bucket_ms);
  w.u32(static_cast<std::uint32_t>(m_spend.size()));
  for (std::size_t i = 0; i < m_spend.size(); ++i) {  // oldest first, whatever the ring's rotation
    const Bucket b = bucket(i);
    const bool partial = b.covered_ms != 0 && b.covered_ms != static_cast<float>(k_bucket_ms);
    w.u8(b.covered_ms == 0 ? 0 : partial ? 2 : 1);  // covered: none, all, or the value follows
    w.f32(b.spend);
    if (partial) w.f32(b.covered_ms);
  }
  w.u32(static_cast<std::uint32_t>(m_segments.size()));
  w.i64(m_segment_base_ms);
  for (const auto& s : m_segments) {
    w.u32(s.to_offset_ms);
    w.u32(s.length_ms);
    w.f64(s.spend);
  }
  w.u32(static_cast<std::uint32_t>(m_deposits.size()));
  for (const auto& [at, amount] : m_deposits) {
    w.i64(at);
    w.i64(amount.micros());
  }
  return w.take();
}

std::optional<SpendLedger> SpendLedger::restore(std::string_view bytes) {
  Reader r(bytes);
  SpendLedger ledger;
  std::uint8_t version = 0;
  if (!r.text(k_snapshot_magic) || !r.u8(version) || version != k_snapshot_version) return std::nullopt;
  std::int64_t last_deposit = 0;
  std::uint64_t points = 0;
  if (!read_point(r, ledger.m_last) || !read_point(r, ledger.m_previous) || !read_point(r, ledger.m_anchor) ||
      !r.i64(last_deposit) || !r.f64(ledger.m_total_spend) || !r.u64(points) || !r.i64(ledger.m_first_bucket_ms)) {
    return std::nullopt;
  }
  // Times from the bytes bound every later subtraction: far-off ones (a corrupt row) would
  // overflow them, so anything beyond about 9,500 years from 1970 is refused.
  constexpr std::int64_t k_far_ms = 300'000'000'000'000;
  auto sane = [&](std::int64_t ms) { return ms > -k_far_ms && ms < k_far_ms; };
  auto sane_point = [&](const std::optional<Point>& p) {
    return !p || (sane(to_unix_ms(p->at)) && (!p->resets_at || sane(to_unix_ms(*p->resets_at))));
  };
  if (!sane(ledger.m_first_bucket_ms) || !sane_point(ledger.m_last) || !sane_point(ledger.m_previous) ||
      !sane_point(ledger.m_anchor)) {
    return std::nullopt;
  }
  ledger.m_last_deposit = Decimal::from_micros(last_deposit);
  ledger.m_points = static_cast<std::size_t>(points);
  std::uint32_t count = 0;
  if (!r.u32(count) || count > k_max_buckets) return std::nullopt;
  ledger.m_spend.reserve(count);
  ledger.m_cover.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint8_t kind = 0;
    float spend = 0;
    float covered = 0;
    if (!r.u8(kind) || kind > 2 || !r.f32(spend)) return std::nullopt;
    if (kind == 1) covered = static_cast<float>(k_bucket_ms);
    if (kind == 2 && (!r.f32(covered) || covered <= 0 || covered >= static_cast<float>(k_bucket_ms))) {
      return std::nullopt;
    }
    ledger.grow_ring();
    ledger.set_covered(ledger.m_spend.size() - 1, covered);
    ledger.m_spend.back() = spend;
  }
  if (!r.u32(count) || count > k_max_segments + 1 || !r.i64(ledger.m_segment_base_ms) ||
      !sane(ledger.m_segment_base_ms)) {
    return std::nullopt;
  }
  ledger.m_segments.resize(count);
  std::uint32_t previous_end = 0;
  for (auto& s : ledger.m_segments) {
    if (!r.u32(s.to_offset_ms) || !r.u32(s.length_ms) || !r.f64(s.spend)) return std::nullopt;
    // In time order, and no longer than attribute() makes them.
    if (s.to_offset_ms < previous_end || s.length_ms > k_max_buckets * k_bucket_ms) return std::nullopt;
    previous_end = s.to_offset_ms;
  }
  if (!r.u32(count) || count > k_max_deposits) return std::nullopt;
  ledger.m_deposits.resize(count);
  for (auto& [at, amount] : ledger.m_deposits) {
    std::int64_t micros = 0;
    if (!r.i64(at) || !r.i64(micros) || !sane(at)) return std::nullopt;
    amount = Decimal::from_micros(micros);
  }
  if (!r.at_end()) return std::nullopt;
  ledger.recalibrate();
  return ledger;
}

}  // namespace creditwatch::forecast
