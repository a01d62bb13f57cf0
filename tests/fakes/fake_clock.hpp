#pragma once

#include "creditwatch/common/clock.hpp"

#include <atomic>

namespace creditwatch::testing {

// A clock that moves only when told to. Starts at 2026-05-01T00:00:00Z unless given a time.
class FakeClock final : public Clock {
public:
  FakeClock() : m_now_ms(1'777'593'600'000) {}
  explicit FakeClock(TimePoint start) : m_now_ms(to_unix_ms(start)) {}

  TimePoint now() const override { return from_unix_ms(m_now_ms.load()); }
  void advance(Duration d) { m_now_ms += d.count(); }
  void set(TimePoint t) { m_now_ms = to_unix_ms(t); }

private:
  std::atomic<std::int64_t> m_now_ms;
};

}  // namespace creditwatch::testing
