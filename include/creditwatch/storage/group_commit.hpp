#pragma once

#include "creditwatch/storage/store.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace creditwatch::storage {

// One probe's rows on their way into the database.
struct ProbeWrite {
  const std::vector<SampleRow>* samples;
  const ProbeRow* probe;
  std::exception_ptr error;  // set when this write failed
};

// The probe write path of both stores. Probe threads finish at nearly the same time when
// thousands of accounts run on a short interval; one transaction per probe makes the
// per-commit work (a WAL append, a round trip to the server) the bottleneck, so each commit
// carries every write that queued while the previous one ran. A write is acknowledged (its
// call returns) only once its transaction committed.
class GroupCommit {
public:
  // Writes every given write in one transaction, or throws and writes none.
  using CommitWrites = std::function<void(const std::vector<ProbeWrite*>&)>;
  static constexpr std::size_t k_max_batch = 256;

  explicit GroupCommit(CommitWrites commit) : m_commit(std::move(commit)) {}

  // Queues `write` and returns once it is committed; rethrows its own failure only.
  void write(ProbeWrite& write);
  WriteStats stats() const;
  // Times a writer asked to commit the next batch woke to find another thread committing
  // it already (for tests: each commit wakes only its own batch's writers, and one writer
  // of the next batch when its committer leaves).
  std::uint64_t idle_wakeups() const;

private:
  static constexpr int k_queued = 0;
  static constexpr int k_done = 1;
  static constexpr int k_lead = 2;
  // Writes that share one transaction. Its writers wait on its own words, not on a
  // condition under the mutex: a commit wakes only the writers it finished, with one
  // futex call, and they return without taking the mutex again (with thousands of probes a
  // second, waking every queued writer after each commit, and each of them then queueing
  // for the mutex, cost more than the commit's own handoff).
  struct Batch {
    std::vector<ProbeWrite*> writes;
    std::atomic<int> done{0};         // 1 once committed; the writers after the first wait on it
    std::atomic<int> first{k_queued};  // the first writer waits on it: done, or asked to commit
  };
  // With the mutex held and nobody committing: commits the oldest batch (the mutex released
  // meanwhile) and wakes its writers.
  void commit_oldest(std::unique_lock<std::mutex>& lock);
  void commit(Batch& batch);

  CommitWrites m_commit;
  mutable std::mutex m_mutex;
  std::deque<std::shared_ptr<Batch>> m_batches;
  bool m_committing = false;
  WriteStats m_stats;
  std::uint64_t m_idle_wakeups = 0;
};

}  // namespace creditwatch::storage
