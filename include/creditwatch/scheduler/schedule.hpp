#pragma once

#include "creditwatch/common/clock.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace creditwatch::scheduler {

// When each account is next due. Pure timing: no threads, no I/O. Due times are on the
// monotonic clock (Clock::monotonic()), so stepping the wall clock back an hour does not stall
// probing and stepping it forward a day does not make every account due at once.
// First probes are spread over min(interval, 1 s) by a hash of the name (splay), so hundreds
// of accounts never fire in the same millisecond yet a restart probes all within a second;
// the second probe moves onto a phase spread over the whole interval, kept after.
// Next due = previous due + interval (no drift); if the loop fell behind, it skips ahead
// instead of firing a burst of catch-up probes.
//
// A binary min-heap on the due time: next_due() is O(1) and take_due() costs O(k log n) for
// the k accounts due, so the loop stays cheap with thousands of accounts on a 1 s interval.
// Entries made obsolete by set() or remove() stay in the heap, marked by a generation, and
// are dropped when they reach the top (or all at once when they outnumber the live ones).
class Schedule {
public:
  // Adds or updates an account. A new account is first due within min(interval, 1 s), next
  // between half and one and a half intervals later, then every interval.
  void set(const std::string& account, Duration interval, SteadyPoint now);
  void remove(const std::string& account);
  // Keeps only the named accounts.
  void retain(const std::set<std::string>& accounts);

  // Returns every account due at `now`, earliest first, and moves each to its next slot.
  std::vector<std::string> take_due(SteadyPoint now);
  std::optional<SteadyPoint> next_due() const;
  std::size_t size() const { return m_index.size(); }

private:
  struct Slot {
    std::string account;
    Duration interval{0};
    SteadyPoint due;
    Duration shift{0};  // added once, to the second due: from the first round's splay to the spread phase
    std::uint32_t generation = 0;  // bumped whenever `due` moves or the slot is freed
    bool live = false;
  };
  struct Node {
    SteadyPoint due;
    std::uint32_t slot;
    std::uint32_t generation;
  };
  static bool later(const Node& a, const Node& b);

  void push(std::uint32_t slot);
  bool current(const Node& node) const;
  // Pops obsolete nodes off the top (so next_due() can read it) and compacts the heap
  // when obsolete nodes outnumber live ones.
  void tidy();
  void free_slot(std::uint32_t slot);

  std::vector<Slot> m_slots;
  std::vector<std::uint32_t> m_free;
  std::unordered_map<std::string, std::uint32_t> m_index;
  std::vector<Node> m_heap;  // std::push_heap/pop_heap with `later`: the earliest on top
};

}  // namespace creditwatch::scheduler
