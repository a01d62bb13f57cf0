#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"
#include "creditwatch/storage/store.hpp"

#include <cstdint>
#include <optional>

namespace creditwatch::storage {

// How a reading joins the stored runs (schema 4): the one rule of both stores' writers and of
// the migration that compacts schema-3 samples, so a migrated history reads like a written one.
//
// The latest run of an account and currency, as the `heads` table keeps it.
struct RunHead {
  std::int64_t from_ms = 0;  // the run's first reading
  std::int64_t seen_ms = 0;  // its latest
  // Where the forecaster's ledger holds its anchor (forecast::SpendLedger::add): the start of
  // this run, or of an earlier run with the same balance when only the details (or a spend
  // counter the ledger does not compare) changed in between. Runs are cut k_longest_run after
  // it, not after the run's own start: then every place the ledger moves its anchor to is the
  // start of a run, and replaying each run as its two ends attributes spend exactly as
  // replaying every reading did (tests/unit/test_storage_runs_replay.cpp).
  std::int64_t anchor_ms = 0;
  Decimal balance;
  std::optional<Decimal> spend_total;
};

enum class RunStep {
  extend,  // the same figures within k_longest_run of the anchor: only seen_ms moves
  start,   // a new run, which becomes the head
  late,    // at or before the head's latest reading (another writer got there first)
};

struct RunDecision {
  RunStep step = RunStep::start;
  std::int64_t anchor_ms = 0;  // the new head's anchor (extend: unchanged)
  // start: whether the new run stores its details in full. They are left NULL ("as the run
  // before") when unchanged, except in the first run of each hour, so a reader resolving a
  // NULL never looks back further than an hour.
  bool full_details = true;
};

constexpr std::int64_t k_longest_run_ms = std::chrono::duration_cast<std::chrono::milliseconds>(k_longest_run).count();

inline std::int64_t hour_start_ms(std::int64_t ms) {
  constexpr std::int64_t k_hour_ms = 3'600'000;
  return ms >= 0 ? ms / k_hour_ms * k_hour_ms : ((ms - k_hour_ms + 1) / k_hour_ms) * k_hour_ms;
}

// The step for a reading at `at_ms` of `balance` and `spend_total` whose details are equal to
// the head's or not; `head` is nullopt for the first reading of an account and currency.
inline RunDecision next_run_step(const std::optional<RunHead>& head, std::int64_t at_ms, Decimal balance,
                                 const std::optional<Decimal>& spend_total, bool same_details) {
  if (!head) return RunDecision{RunStep::start, at_ms, true};
  if (at_ms <= head->seen_ms) return RunDecision{RunStep::late, head->anchor_ms, true};
  const bool held = at_ms - head->anchor_ms < k_longest_run_ms;
  const bool same_money = balance == head->balance && spend_total == head->spend_total;
  if (same_money && same_details && held) return RunDecision{RunStep::extend, head->anchor_ms, false};
  // The ledger keeps its anchor while the balance repeats (unless both readings carry a
  // spend counter: then it attributes at every reading, and the anchor does not matter).
  const bool counters = head->spend_total && spend_total;
  const bool keeps_anchor = balance == head->balance && !counters && held;
  const bool inherits = same_details && hour_start_ms(at_ms) == hour_start_ms(head->from_ms);
  return RunDecision{RunStep::start, keeps_anchor ? head->anchor_ms : at_ms, !inherits};
}

}  // namespace creditwatch::storage
