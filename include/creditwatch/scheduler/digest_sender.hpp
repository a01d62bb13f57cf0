#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/notify/digest.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/storage/store.hpp"

#include <mutex>
#include <optional>

namespace creditwatch::scheduler {

// A digest missed while the daemon was down is still sent when it comes back this soon
// after the digest's time (or within the period, when that is shorter); later, the next
// period's digest is the one that goes out, so a fresh install does not open with a stale one.
inline constexpr Duration k_digest_catch_up = std::chrono::hours(6);

// Queues each period's digest once per notifier of digest.notify, into the outbox with the
// period's dedup key (Store::enqueue_once): a restart, or another replica sharing the
// database, that queues it again adds nothing. Delivery, order, claims, retries and backoff
// are then the outbox's, as for alerts. Thread-safe.
class DigestSender {
public:
  DigestSender(storage::Store& store, const Clock& clock) : m_store(store), m_clock(clock) {}

  // Whether a digest time has passed (within the catch-up window) that this process has not
  // queued yet: cheap, for the scheduler's loop to ask on every tick.
  bool due(const std::optional<config::DigestConfig>& digest) const;
  // Builds and queues the digest that due() found due; returns how many rows were queued (0
  // when it was queued before, by this process, a predecessor or another replica). A failure
  // (a database error) is logged and tried again a minute later.
  std::size_t send_due(const config::Config& config, Assessor& assessor);
  // Queues `digest` for each of `notifiers`, unless already queued; returns how many rows
  // were added.
  std::size_t queue(const notify::Digest& digest, const std::vector<std::string>& notifiers);

private:
  // The digest time due() would send for now, if any.
  std::optional<TimePoint> pending_slot(const config::DigestConfig& digest, TimePoint now) const;

  storage::Store& m_store;
  const Clock& m_clock;
  mutable std::mutex m_mutex;
  std::optional<TimePoint> m_done;     // the latest digest time this process has queued (or found queued)
  TimePoint m_not_before{};            // after a failure: when to try again
};

}  // namespace creditwatch::scheduler
