#include "creditwatch/storage/group_commit.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

namespace creditwatch::storage {
namespace {

static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free);

// Blocks while `word` holds `old`. Not std::atomic::wait: libstdc++ 12 spins on
// sched_yield before it sleeps, and those yields cost the probes more CPU than the wait.
void wait_while(std::atomic<int>& word, int old) {
  while (word.load() == old) {
    ::syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAIT_PRIVATE, old, nullptr, nullptr, 0);
  }
}

void wake(std::atomic<int>& word, int waiters) {
  ::syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAKE_PRIVATE, waiters, nullptr, nullptr, 0);
}

}  // namespace

WriteStats GroupCommit::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

std::uint64_t GroupCommit::idle_wakeups() const {
  std::lock_guard lock(m_mutex);
  return m_idle_wakeups;
}

void GroupCommit::write(ProbeWrite& pending) {
  std::unique_lock lock(m_mutex);
  if (m_batches.empty() || m_batches.back()->writes.size() >= k_max_batch) {
    m_batches.push_back(std::make_shared<Batch>());
  }
  // Held until we return: the committer may still be waking us through its words.
  const auto mine = m_batches.back();
  const bool first = mine->writes.empty();
  mine->writes.push_back(&pending);
  ++m_stats.waiting;
  bool committed = false;
  // Our batch is queued, being committed by another thread, or done. When nobody is
  // committing, this thread commits the oldest batch (ours, or one before it) for everyone.
  while (mine->done.load() != k_done) {
    if (!m_committing) {
      commit_oldest(lock);
      committed = true;
      continue;
    }
    lock.unlock();
    if (!first) {
      wait_while(mine->done, 0);
      break;
    }
    // The first writer of a batch is also the one its committer's successor is asked for.
    wait_while(mine->first, k_queued);
    lock.lock();
    if (mine->done.load() == k_done) break;
    // Asked to commit, but a writer that came meanwhile is committing already (and will
    // commit ours before its own): wait again, unless it finished ours just now.
    if (m_committing) {
      ++m_idle_wakeups;
      int lead = k_lead;
      mine->first.compare_exchange_strong(lead, k_queued);
    }
  }
  // Leaving as the committer: the oldest batch still queued needs one, and its first
  // writer will do (unless a writer that comes meanwhile finds nobody committing first).
  if (committed && !m_batches.empty()) {
    auto& next = *m_batches.front();
    next.first.store(k_lead);
    wake(next.first, 1);
  }
  if (lock.owns_lock()) lock.unlock();
  // `pending` lives on this thread's stack, so it outlives its use by the committer.
  if (pending.error) std::rethrow_exception(pending.error);
}

void GroupCommit::commit_oldest(std::unique_lock<std::mutex>& lock) {
  const auto batch = std::move(m_batches.front());
  m_batches.pop_front();
  m_committing = true;
  lock.unlock();
  commit(*batch);
  // One futex call wakes every writer of the batch but the first, which waits apart.
  batch->done.store(k_done);
  wake(batch->done, INT_MAX);
  batch->first.store(k_done);
  wake(batch->first, 1);
  lock.lock();
  m_committing = false;
  ++m_stats.transactions;
  m_stats.writes += batch->writes.size();
  m_stats.waiting -= batch->writes.size();
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
