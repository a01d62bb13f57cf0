#pragma once

#include "creditwatch/storage/store.hpp"

#include <condition_variable>
#include <cstddef>
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

private:
  struct Batch {
    std::vector<ProbeWrite*> writes;
    bool done = false;
  };
  void commit(Batch& batch);

  CommitWrites m_commit;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::shared_ptr<Batch>> m_batches;
  bool m_committing = false;
  WriteStats m_stats;
};

}  // namespace creditwatch::storage
