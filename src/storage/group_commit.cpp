// The probe write path of Store: group commit. Probe threads finish at nearly the same
// time when thousands of accounts run on a short interval; one transaction per probe makes
// the connection mutex and the per-commit WAL work the bottleneck, so each commit carries
// every write that queued while the previous one ran. A write is acknowledged (its call
// returns) only once its transaction committed.
#include "creditwatch/storage/store.hpp"

namespace creditwatch::storage {
namespace {

constexpr const char* k_insert_sample =
    "INSERT INTO samples (account, ts_ms, currency, balance_micros, spend_micros, details) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* k_insert_probe =
    "INSERT INTO probes (account, ts_ms, outcome, http_status, latency_seconds, message) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

std::optional<std::int64_t> optional_micros(const std::optional<Decimal>& d) {
  return d ? std::optional<std::int64_t>(d->micros()) : std::nullopt;
}

const std::vector<SampleRow> k_no_samples;

}  // namespace

void Store::add_samples(const std::vector<SampleRow>& samples, const ProbeRow& probe) try {
  PendingWrite pending{&samples, &probe, nullptr};
  write(pending);
} catch (const DatabaseError& e) {
  write_failed(e);
}

void Store::add_probe(const ProbeRow& probe) try {
  PendingWrite pending{&k_no_samples, &probe, nullptr};
  write(pending);
} catch (const DatabaseError& e) {
  write_failed(e);
}

WriteStats Store::write_stats() const {
  std::lock_guard lock(m_queue_mutex);
  return m_stats;
}

void Store::write(PendingWrite& pending) {
  std::unique_lock lock(m_queue_mutex);
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
      m_queue_cv.wait(lock);
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
    m_queue_cv.notify_all();
  }
  // `pending` lives on this thread's stack, so it outlives its use by the committer.
  if (pending.error) std::rethrow_exception(pending.error);
}

void Store::commit(Batch& batch) {
  std::lock_guard lock(m_mutex);
  try {
    Transaction tx(m_db);
    for (const auto* w : batch.writes) insert(*w);
    tx.commit();
    wrote();
    return;
  } catch (...) {
    if (batch.writes.size() == 1) {
      batch.writes.front()->error = std::current_exception();
      return;
    }
  }
  // Something in the group failed: retry each write alone, so only the bad one reports it
  // (a full disk fails them all, as it should).
  for (auto* w : batch.writes) {
    try {
      Transaction tx(m_db);
      insert(*w);
      tx.commit();
      wrote();
    } catch (...) {
      w->error = std::current_exception();
    }
  }
}

void Store::insert(const PendingWrite& w) {
  auto& sample = m_db.cached(k_insert_sample);
  for (const auto& s : *w.samples) {
    sample.bind(1, s.account)
        .bind(2, to_unix_ms(s.at))
        .bind(3, s.currency)
        .bind(4, s.balance.micros())
        .bind_optional(5, optional_micros(s.spend_total))
        .bind(6, s.details_json)
        .run();
  }
  const ProbeRow& p = *w.probe;
  m_db.cached(k_insert_probe)
      .bind(1, p.account)
      .bind(2, to_unix_ms(p.at))
      .bind(3, p.outcome)
      .bind(4, static_cast<std::int64_t>(p.http_status))
      .bind(5, p.latency_seconds)
      .bind(6, p.message)
      .run();
}

}  // namespace creditwatch::storage
