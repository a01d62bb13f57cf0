#include "creditwatch/scheduler/schedule.hpp"

#include <algorithm>
#include <functional>

namespace creditwatch::scheduler {

bool Schedule::later(const Node& a, const Node& b) {
  // Ties go to the lower slot, so accounts due together come out in a stable order.
  return a.due != b.due ? a.due > b.due : a.slot > b.slot;
}

bool Schedule::current(const Node& node) const {
  const Slot& s = m_slots[node.slot];
  return s.live && s.generation == node.generation;
}

void Schedule::push(std::uint32_t slot) {
  m_heap.push_back(Node{m_slots[slot].due, slot, m_slots[slot].generation});
  std::push_heap(m_heap.begin(), m_heap.end(), later);
}

void Schedule::tidy() {
  while (!m_heap.empty() && !current(m_heap.front())) {
    std::pop_heap(m_heap.begin(), m_heap.end(), later);
    m_heap.pop_back();
  }
  if (m_heap.size() > 2 * m_index.size() + 16) {
    std::erase_if(m_heap, [&](const Node& n) { return !current(n); });
    std::make_heap(m_heap.begin(), m_heap.end(), later);
  }
}

void Schedule::free_slot(std::uint32_t slot) {
  Slot& s = m_slots[slot];
  s.live = false;
  ++s.generation;
  s.account.clear();
  m_free.push_back(slot);
}

void Schedule::set(const std::string& account, Duration interval, SteadyPoint now) {
  if (auto it = m_index.find(account); it != m_index.end()) {
    Slot& s = m_slots[it->second];
    if (s.interval != interval) s.shift = Duration(0);  // spread for the old interval: the phase stays
    s.interval = interval;
    // Keep the phase; a shorter interval takes effect at once.
    if (now + interval < s.due) {
      s.due = now + interval;
      ++s.generation;
      push(it->second);
      tidy();
    }
    return;
  }
  // Two spreads from one hash of the name. The first probe comes within min(interval, 1 s):
  // a restart of a 5,000-account fleet has every account probed (and /healthz current)
  // within about a second, not after the 5 s the former splay took. That first round is one
  // burst, and with thousands of keys on one provider it lands on that provider at once; it
  // happens once per start, is bounded by the probe pool's concurrency, and a fleet on 1 s
  // intervals sends that much every second anyway. The steady phase is then spread over the
  // whole interval (the second probe moves to it, between half and one and a half intervals
  // after the first), so 5,000 keys on a 1-minute interval send about 83 a second instead of
  // a burst every minute within the first second (or five) of it.
  const auto hash = std::hash<std::string>{}(account);
  const auto spread = [&](Duration over) {
    return Duration(static_cast<std::int64_t>(hash % static_cast<std::size_t>(std::max<std::int64_t>(1, over.count()))));
  };
  const Duration splay = spread(std::min<Duration>(interval, std::chrono::seconds(1)));
  const Duration phase = spread(interval);
  // The second due is now + phase + k * interval, the first of those at least half an
  // interval after the first probe; the shift is what it adds to first + interval.
  Duration second = phase;
  while (second < splay + interval / 2) second += interval;
  const Duration shift = second - (splay + interval);
  std::uint32_t slot = 0;
  if (m_free.empty()) {
    slot = static_cast<std::uint32_t>(m_slots.size());
    m_slots.emplace_back();
  } else {
    slot = m_free.back();
    m_free.pop_back();
  }
  Slot& s = m_slots[slot];
  s.account = account;
  s.interval = interval;
  s.due = now + splay;
  s.shift = shift;
  s.live = true;
  m_index.emplace(account, slot);
  push(slot);
}

void Schedule::remove(const std::string& account) {
  auto it = m_index.find(account);
  if (it == m_index.end()) return;
  free_slot(it->second);
  m_index.erase(it);
  tidy();
}

void Schedule::retain(const std::set<std::string>& accounts) {
  for (auto it = m_index.begin(); it != m_index.end();) {
    if (accounts.count(it->first) != 0) {
      ++it;
      continue;
    }
    free_slot(it->second);
    it = m_index.erase(it);
  }
  tidy();
}

std::vector<std::string> Schedule::take_due(SteadyPoint now) {
  std::vector<std::string> due;
  while (!m_heap.empty() && m_heap.front().due <= now) {
    std::pop_heap(m_heap.begin(), m_heap.end(), later);
    const Node node = m_heap.back();
    m_heap.pop_back();
    if (!current(node)) continue;
    Slot& s = m_slots[node.slot];
    due.push_back(s.account);
    s.due += s.interval + s.shift;
    s.shift = Duration(0);  // only the second probe moves, onto the spread phase
    if (s.due <= now) {
      // Fell behind (a suspended laptop, an overloaded host): skip the missed slots.
      const auto behind = now - s.due;
      s.due += (behind / s.interval + 1) * s.interval;
    }
    push(node.slot);  // same generation: this node replaces the one just popped
  }
  tidy();
  return due;
}

std::optional<SteadyPoint> Schedule::next_due() const {
  if (m_heap.empty()) return std::nullopt;
  return m_heap.front().due;
}

}  // namespace creditwatch::scheduler
