#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"
#include "creditwatch/forecast/calibration.hpp"

#include <cstdint>
#include <span>
#include <compare>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch::forecast {

// One stored reading as the forecaster sees it.
struct Point {
  TimePoint at;
  Decimal balance;
  std::optional<Decimal> spend_total;  // provider's cumulative spend counter, if any
  // When the quota window this reading belongs to refills (quota-window providers only, unit
  // `percent`). A reading at or after it starts a new window: its rise is no deposit.
  std::optional<TimePoint> resets_at = std::nullopt;
};

// Spend per hour over the last weeks, built incrementally from readings, so a forecast
// never rescans history. Spend between two readings is spread evenly over the time between
// them (a dropped probe loses nothing, it just blurs), and the time those readings cover is
// tracked so rates divide by observed time, not wall time. A rise in balance is a deposit,
// never negative spend; the spend hidden under a deposit is estimated from the recent rate.
// A reading taken at or after the reset its predecessor announced (Point::resets_at) begins
// a new quota window: the refill is neither a deposit nor negative spend, and what happened
// between the two readings is left unobserved (how much of the old window was used before it
// expired, and how much of the new one since, cannot be told apart).
// A repeated balance is not taken for an interval without spend until it has stood for
// `k_max_hold`: providers that refresh the balance every 30-60 minutes repeat it between
// refreshes, and the drop at the next refresh belongs to the whole time since the last change.
class SpendLedger {
public:
  static constexpr std::int64_t k_bucket_ms = 3'600'000;  // one hour
  static constexpr std::int64_t k_day_ms = 86'400'000;
  static constexpr std::size_t k_max_buckets = 24 * 35;  // five weeks of hours
  // Recent segments kept at most. Beyond it neighbours are merged so that each spans about
  // a tenth of its age (spend and covered time are kept exactly); probe intervals over six
  // hours / 96 = 3.75 min never reach it. Each segment is 24 bytes per account: at 5,000
  // accounts on a 1 s interval the former 256 took 30 MB.
  static constexpr std::size_t k_max_segments = 96;
  static constexpr std::int64_t k_max_hold_ms = 90 * 60'000;
  // The layout of serialize(); restore() refuses any other (a daemon restarting on an older
  // snapshot rebuilds the ledger from the window's readings instead).
  static constexpr std::uint8_t k_snapshot_version = 2;

  // One hour as read back; its start is implied by its place (buckets are consecutive hours).
  // float is enough: a bucket's spend is rounded once per reading that touches it (relative
  // error 6e-8, far under the cent rounding of the balances it comes from), and covered time
  // is whole milliseconds, at most 3,600,000, which a float holds exactly (below 2^24).
  struct Bucket {
    float spend = 0;       // spend attributed to this hour
    float covered_ms = 0;  // how much of this hour lies between two readings
  };
  // A recent interval between two readings, kept for sub-hour windows (spike detection).
  struct Segment {
    std::int64_t from_ms;
    std::int64_t to_ms;
    double spend;
    // Spend per day over the interval (0 for an empty one).
    double rate_per_day() const {
      return to_ms > from_ms ? spend / (static_cast<double>(to_ms - from_ms) / k_day_ms) : 0.0;
    }
  };

private:
  // A segment as kept: 16 bytes, its end as an offset from the ledger's m_segment_base_ms
  // (kept segments end within six hours of each other) and its length (at most the 35 days
  // attribute() spreads over, under 2^32 ms). Exact: the same integers, the same double.
  struct PackedSegment {
    std::uint32_t to_offset_ms;
    std::uint32_t length_ms;
    double spend;
  };

public:
  // The kept segments, oldest first, read as Segment values (computed from the packed ones).
  class SegmentView {
  public:
    class iterator {
    public:
      using iterator_category = std::random_access_iterator_tag;
      using value_type = Segment;
      using difference_type = std::ptrdiff_t;
      using reference = Segment;
      struct arrow {
        Segment value;
        const Segment* operator->() const { return &value; }
      };
      using pointer = arrow;
      iterator() = default;
      iterator(const PackedSegment* at, std::int64_t base_ms) : m_at(at), m_base_ms(base_ms) {}
      Segment operator*() const { return unpack(*m_at, m_base_ms); }
      arrow operator->() const { return arrow{**this}; }
      Segment operator[](difference_type n) const { return unpack(m_at[n], m_base_ms); }
      iterator& operator++() { ++m_at; return *this; }
      iterator operator++(int) { auto old = *this; ++m_at; return old; }
      iterator& operator--() { --m_at; return *this; }
      iterator operator--(int) { auto old = *this; --m_at; return old; }
      iterator& operator+=(difference_type n) { m_at += n; return *this; }
      iterator& operator-=(difference_type n) { m_at -= n; return *this; }
      friend iterator operator+(iterator i, difference_type n) { return i += n; }
      friend iterator operator+(difference_type n, iterator i) { return i += n; }
      friend iterator operator-(iterator i, difference_type n) { return i -= n; }
      friend difference_type operator-(const iterator& a, const iterator& b) { return a.m_at - b.m_at; }
      friend bool operator==(const iterator& a, const iterator& b) { return a.m_at == b.m_at; }
      friend auto operator<=>(const iterator& a, const iterator& b) { return a.m_at <=> b.m_at; }

    private:
      const PackedSegment* m_at = nullptr;
      std::int64_t m_base_ms = 0;
    };
    SegmentView(const std::vector<PackedSegment>& packed, std::int64_t base_ms) : m_packed(&packed), m_base_ms(base_ms) {}
    iterator begin() const { return {m_packed->data(), m_base_ms}; }
    iterator end() const { return {m_packed->data() + m_packed->size(), m_base_ms}; }
    std::reverse_iterator<iterator> rbegin() const { return std::reverse_iterator<iterator>(end()); }
    std::reverse_iterator<iterator> rend() const { return std::reverse_iterator<iterator>(begin()); }
    bool empty() const { return m_packed->empty(); }
    std::size_t size() const { return m_packed->size(); }
    Segment front() const { return *begin(); }
    Segment back() const { return *(end() - 1); }

  private:
    const std::vector<PackedSegment>* m_packed;
    std::int64_t m_base_ms;
  };

  // Adds a reading; readings must come in time order (older ones are ignored).
  void add(const Point& point);
  // Adds stored history and calibrates once at the end, not at every hour it crosses (a cold
  // start replays two weeks for each of thousands of accounts).
  void add_history(std::span<const Point> points);

  std::optional<Point> last() const { return m_last; }
  std::optional<Point> previous() const { return m_previous; }
  std::size_t points() const { return m_points; }
  Decimal deposits_since(TimePoint since) const;
  // The deposit carried by the latest reading (zero when it did not rise).
  Decimal last_deposit() const { return m_last_deposit; }
  bool spend_seen() const { return m_total_spend > 0; }
  // The end of the last hour with spend in it (nullopt if the buckets kept hold none).
  std::optional<TimePoint> last_spend_end() const;

  // Spend and covered time in [from, to), from the hourly buckets.
  struct Window {
    double spend = 0;
    double covered_days = 0;
    double largest_hour = 0;  // the biggest single hourly spend in the window
    std::size_t hours_with_spend = 0;
  };
  Window window(TimePoint from, TimePoint to) const;
  // Spend and covered time in [from, to) from the recent segments (up to six hours back).
  Window recent(TimePoint from, TimePoint to) const;
  // Spend of each complete UTC-aligned 24-hour block before `to`, oldest first, skipping
  // blocks that are mostly unobserved.
  std::vector<double> daily_spend(TimePoint to, std::size_t max_days) const;
  // How the account's own past forecasts fared (see Calibration), as of the last closed hour
  // whose spend is settled: two hours before the latest reading's hour, since a repeated
  // balance is held for up to 90 minutes before its spend is spread back. Recomputed once per
  // hour, so a forecast reads it for free.
  const Calibration& calibration() const { return m_calibration; }
  // Spend per day of each recent interval between readings (last six hours).
  std::vector<double> segment_rates() const;
  std::size_t segment_count() const { return m_segments.size(); }
  // The recent intervals between readings (last six hours, oldest first).
  SegmentView segments() const { return SegmentView(m_segments, m_segment_base_ms); }

  // The whole state as a compact byte string (about 6 KB with five weeks of hours), so a
  // restarting daemon resumes from a snapshot instead of replaying weeks of readings.
  // Versioned (k_snapshot_version); little-endian whatever the host.
  std::string serialize() const;
  // The ledger serialize() wrote; nullopt for anything else (another version, truncated or
  // trailing bytes, counts or values out of range): the bytes come from a file.
  static std::optional<SpendLedger> restore(std::string_view bytes);

private:
  // Covered time of an hour as one byte: none, all of it, or the index (plus one) of its exact
  // value in m_partial. Most hours are one or the other; the partial ones are the edges of
  // gaps and dry spells, and the hour in progress.
  static constexpr std::uint8_t k_cover_none = 0;
  static constexpr std::uint8_t k_cover_full = 255;
  static constexpr std::size_t k_max_partial = 254;
  static constexpr float k_free_partial = -1;  // an m_partial entry no hour points at

  static Segment unpack(const PackedSegment& s, std::int64_t base_ms) {
    const std::int64_t to_ms = base_ms + s.to_offset_ms;
    return Segment{to_ms - s.length_ms, to_ms, s.spend};
  }
  void attribute(std::int64_t from_ms, std::int64_t to_ms, double spend);
  void push_segment(std::int64_t from_ms, std::int64_t to_ms, double spend);
  void thin_segments();
  // The ring position of the hour starting at start_ms, growing or turning the ring to it.
  std::size_t bucket_for(std::int64_t start_ms);
  void grow_ring();
  float covered_at(std::size_t position) const;
  void set_covered(std::size_t position, float covered_ms);
  // The i-th kept hour, oldest first.
  std::size_t position(std::size_t i) const { return (m_oldest + i) % m_spend.size(); }
  Bucket bucket(std::size_t i) const { return Bucket{m_spend[position(i)], covered_at(position(i))}; }
  double recent_rate_per_ms() const;
  // Recalibrates when another hour has settled since the last time.
  void recalibrate();

  // Consecutive hours in a ring: oldest at m_oldest (0 until all k_max_buckets are in use),
  // spend as a float and covered time as a one-byte code: five weeks in 4.2 KB per account
  // (issue 16: 5,000 accounts in 64 MiB). Vectors grown to exactly what is used.
  std::vector<float> m_spend;
  std::vector<std::uint8_t> m_cover;
  // Exact covered time of the partial hours m_cover points at. Should more than
  // k_max_partial hours be partial at once, every hour's covered time moves to m_wide (a
  // float per hour, as before) for the rest of the ledger's life: never approximated.
  std::vector<float> m_partial;
  std::vector<float> m_wide;
  std::size_t m_oldest = 0;
  std::int64_t m_first_bucket_ms = 0;  // where the oldest bucket starts
  // At most k_max_segments + 1 (thinning follows the push that passes it), so a vector with
  // capped growth: no deque blocks, no capacity rounded up past what is used.
  std::vector<PackedSegment> m_segments;
  std::int64_t m_segment_base_ms = 0;  // what PackedSegment::to_offset_ms counts from
  // Rare (top-ups), so a vector: an empty std::deque still allocates over 500 bytes.
  std::vector<std::pair<std::int64_t, Decimal>> m_deposits;
  std::optional<Point> m_last;
  std::optional<Point> m_previous;
  std::optional<Point> m_anchor;  // where the interval not yet attributed starts
  Decimal m_last_deposit;
  double m_total_spend = 0;
  std::size_t m_points = 0;
  Calibration m_calibration;
  std::int64_t m_calibrated_to_ms = 0;
  bool m_adding_history = false;  // the end of the hours m_calibration read
};

}  // namespace creditwatch::forecast
