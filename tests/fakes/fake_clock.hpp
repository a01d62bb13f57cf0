#pragma once

#include "creditwatch/common/clock.hpp"

#include <atomic>

namespace creditwatch::testing {

// A clock that moves only when told to. Starts at 2026-05-01T00:00:00Z unless given a time.
// advance() moves the wall clock and the monotonic clock together, as real time passing
// does; step_wall() moves the wall clock alone, as NTP or an operator would. set() to a
// later time is time passing (both move); set() to an earlier time steps the wall clock back.
class FakeClock final : public Clock {
public:
  FakeClock() : m_now_ms(1'777'593'600'000) {}
  explicit FakeClock(TimePoint start) : m_now_ms(to_unix_ms(start)) {}

  TimePoint now() const override { return from_unix_ms(m_now_ms.load()); }
  SteadyPoint monotonic() const override { return SteadyPoint(std::chrono::milliseconds(m_monotonic_ms.load())); }
  void advance(Duration d) {
    m_now_ms += d.count();
    m_monotonic_ms += d.count();
  }
  void step_wall(Duration d) { m_now_ms += d.count(); }
  void set(TimePoint t) {
    const std::int64_t delta = to_unix_ms(t) - m_now_ms.load();
    m_now_ms = to_unix_ms(t);
    if (delta > 0) m_monotonic_ms += delta;
  }

private:
  std::atomic<std::int64_t> m_now_ms;
  std::atomic<std::int64_t> m_monotonic_ms{1'000'000'000};
};

}  // namespace creditwatch::testing
