#include "creditwatch/storage/group_commit.hpp"

namespace creditwatch::storage {

WriteStats GroupCommit::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

void GroupCommit::write(ProbeWrite& pending) {
  std::unique_lock lock(m_mutex);
  if (m_batches.empty() || m_batches.back()->writes.size() >= k_max_batch) {
    m_batches.push_back(std::make_shared<Batch>());
  }
  const auto mine = m_batches.back();
  mine->writes.push_back(&pending);
  ++m_stats.waiting;
  // Our batch is queued, being committed by another thread, or done. When nobody is
  // committing, this thread commits the oldest batch (ours, or one before it) for everyone.
  while (!mine->done) {
    if (m_committing) {
      m_cv.wait(lock);
      continue;
    }
    const auto batch = std::move(m_batches.front());
    m_batches.pop_front();
    m_committing = true;
    lock.unlock();
    commit(*batch);
    lock.lock();
    m_committing = false;
    batch->done = true;
    ++m_stats.transactions;
    m_stats.writes += batch->writes.size();
    m_stats.waiting -= batch->writes.size();
    m_cv.notify_all();
  }
  // `pending` lives on this thread's stack, so it outlives its use by the committer.
  if (pending.error) std::rethrow_exception(pending.error);
}

void GroupCommit::commit(Batch& batch) {
  try {
    m_commit(batch.writes);
    return;
  } catch (const CommitOutcomeUnknown&) {
    // The group may be in the database already: writing its rows again one by one could
    // store every sample twice. Each caller hears that its write's fate is unknown.
    for (auto* w : batch.writes) w->error = std::current_exception();
    return;
  } catch (...) {
    if (batch.writes.size() == 1) {
      batch.writes.front()->error = std::current_exception();
      return;
    }
  }
  // Something in the group failed: retry each write alone, so only the bad one reports it
  // (a full disk or a lost server fails them all, as it should).
  for (auto* w : batch.writes) {
    try {
      m_commit({w});
    } catch (...) {
      w->error = std::current_exception();
    }
  }
}

}  // namespace creditwatch::storage
