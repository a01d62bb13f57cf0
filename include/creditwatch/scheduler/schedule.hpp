#pragma once

#include "creditwatch/common/clock.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace creditwatch::scheduler {

// When each account is next due. Pure timing: no threads, no I/O.
// First probes are spread over a slice of the interval by a hash of the name (splay), so
// hundreds of accounts never fire in the same millisecond, and each keeps its phase after.
// Next due = previous due + interval (no drift); if the loop fell behind, it skips ahead
// instead of firing a burst of catch-up probes.
class Schedule {
public:
  // Adds or updates an account. A new account is first due within min(interval, 5s).
  void set(const std::string& account, Duration interval, TimePoint now);
  void remove(const std::string& account);
  // Keeps only the named accounts.
  void retain(const std::set<std::string>& accounts);

  // Returns every account due at `now` and moves each to its next slot.
  std::vector<std::string> take_due(TimePoint now);
  std::optional<TimePoint> next_due() const;
  std::size_t size() const { return m_entries.size(); }

private:
  struct Entry {
    Duration interval;
    TimePoint due;
  };
  std::map<std::string, Entry> m_entries;
};

}  // namespace creditwatch::scheduler
