#include "creditwatch/scheduler/schedule.hpp"

#include <algorithm>
#include <functional>

namespace creditwatch::scheduler {

void Schedule::set(const std::string& account, Duration interval, TimePoint now) {
  auto it = m_entries.find(account);
  if (it != m_entries.end()) {
    // Keep the phase; a shorter interval takes effect at once.
    it->second.due = std::min(it->second.due, now + interval);
    it->second.interval = interval;
    return;
  }
  const Duration window = std::min<Duration>(interval, std::chrono::seconds(5));
  const auto splay = Duration(static_cast<std::int64_t>(std::hash<std::string>{}(account) %
                                                        static_cast<std::size_t>(std::max<std::int64_t>(1, window.count()))));
  m_entries[account] = Entry{interval, now + splay};
}

void Schedule::remove(const std::string& account) { m_entries.erase(account); }

void Schedule::retain(const std::set<std::string>& accounts) {
  std::erase_if(m_entries, [&](const auto& entry) { return accounts.count(entry.first) == 0; });
}

std::vector<std::string> Schedule::take_due(TimePoint now) {
  std::vector<std::string> due;
  for (auto& [account, entry] : m_entries) {
    if (entry.due > now) continue;
    due.push_back(account);
    entry.due += entry.interval;
    if (entry.due <= now) {
      // Fell behind (a suspended laptop, an overloaded host): skip the missed slots.
      const auto behind = now - entry.due;
      entry.due += (behind / entry.interval + 1) * entry.interval;
    }
  }
  return due;
}

std::optional<TimePoint> Schedule::next_due() const {
  std::optional<TimePoint> next;
  for (const auto& [account, entry] : m_entries) {
    if (!next || entry.due < *next) next = entry.due;
  }
  return next;
}

}  // namespace creditwatch::scheduler
