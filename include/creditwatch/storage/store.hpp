#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"
#include "creditwatch/storage/checkpointer.hpp"
#include "creditwatch/storage/database.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace creditwatch::storage {

// One balance reading of one account in one currency.
struct SampleRow {
  std::string account;
  TimePoint at;
  std::string currency;
  Decimal balance;
  std::optional<Decimal> spend_total;  // a provider's cumulative spend counter, where it has one
  std::string details_json;            // the provider's breakdown, e.g. granted vs topped-up
};

// The outcome of one probe: "ok" or an error class.
struct ProbeRow {
  std::string account;
  TimePoint at;
  std::string outcome;
  long http_status = 0;
  double latency_seconds = 0;
  std::string message;
};

// Persisted alert state, keyed by (account, rule).
struct AlertRow {
  std::string account;
  std::string rule;
  std::string state;     // "firing" or "resolved"
  std::string severity;  // info | warning | critical
  TimePoint since;
  TimePoint last_notified;
  std::string context_json;  // the figures at the last notification
};

enum class OutboxState { pending, delivered, dead };

// A notification waiting for (or done with) one notifier.
struct OutboxRow {
  std::int64_t id = 0;
  TimePoint created;
  std::string notifier;
  std::string dedup_key;
  std::string payload_json;
  int attempts = 0;
  TimePoint next_attempt;
  OutboxState state = OutboxState::pending;
  std::string last_error;
};

// Counters of the probe write path (for metrics and benchmarks).
struct WriteStats {
  std::uint64_t transactions = 0;  // committed (or rolled back) group transactions
  std::uint64_t writes = 0;        // add_samples/add_probe calls finished
  std::uint64_t waiting = 0;       // calls queued or being committed right now
};

// The only owner of the database. All methods are thread-safe (one connection, one mutex);
// no method performs network I/O, so the lock is never held across a probe or delivery.
class Store {
public:
  explicit Store(const std::string& path);
  ~Store();

  // Moves WAL checkpoints (and their fsync) off the commit path onto a background thread
  // running every `every` (the daemon does this; one-shot commands need not). The writer's
  // own auto-checkpoint stays as a backstop, at 10,000 pages instead of 1,000.
  void checkpoint_in_background(Duration every);

  static constexpr int k_schema_version = 2;
  // At most this many probe writes share one transaction.
  static constexpr std::size_t k_max_batch = 256;
  int schema_version();

  // Stores one probe's samples and its outcome, atomically. Returns once they are
  // committed: calls from many threads are grouped into shared transactions (group
  // commit), so the caller waits for at most one commit in progress plus its own. A write
  // that fails is retried on its own so it cannot take the rest of its group down; it
  // throws DatabaseError to its caller only.
  void add_samples(const std::vector<SampleRow>& samples, const ProbeRow& probe);
  // Stores a failed probe's outcome, through the same group commit.
  void add_probe(const ProbeRow& probe);
  WriteStats write_stats() const;
  // Samples of one account at or after `since` (all currencies when `currency` is empty),
  // oldest first: the newest `limit` of them, so a caller that names a limit never holds
  // the store for a read of unbounded length.
  static constexpr std::size_t k_no_limit = 0;
  std::vector<SampleRow> samples(const std::string& account, TimePoint since, const std::string& currency = "",
                                 std::size_t limit = k_no_limit);
  std::optional<SampleRow> latest_sample(const std::string& account, const std::string& currency = "");
  std::optional<ProbeRow> latest_probe(const std::string& account);
  std::optional<TimePoint> last_success(const std::string& account);

  std::vector<AlertRow> alerts(const std::string& account = "");
  // Writes the alert state and enqueues its notifications in one transaction. For each
  // notifier in `replace_pending`, older pending rows of the same dedup key are dropped
  // first: state-sync sinks (Alertmanager) only need the latest state. The commit is
  // durable (synchronous=FULL): once this returns, the notifications survive a power loss.
  void save_alert(const AlertRow& alert, const std::vector<OutboxRow>& notifications,
                  const std::vector<std::string>& replace_pending = {});
  // Enqueues a refresh of a firing alert unless that notifier already has one of the same
  // dedup key pending (a sink that is down collects one row, not one per interval).
  // Returns whether a row was added; durable as save_alert.
  bool enqueue_refresh(const OutboxRow& notification);

  // The pending notifications that may be sent next: per (notifier, dedup key) only the
  // oldest pending one, so the states of one alert go out in the order they changed.
  // Those due at `now`, soonest next_attempt first; only `notifier`'s when it is given.
  std::vector<OutboxRow> due_notifications(TimePoint now, std::size_t limit, const std::string& notifier = "");
  // The oldest pending notification of each dedup key of `notifier`, whenever due, soonest
  // next_attempt first. Rows in `sent` (delivered, not yet marked so) are passed over, as
  // if marked: the next state of their alert is the one in line.
  std::vector<OutboxRow> next_in_line(const std::string& notifier, const std::vector<std::int64_t>& sent = {});
  // Notifiers that have pending notifications.
  std::vector<std::string> notifiers_with_pending();
  // Marks every pending notification of `notifier` dead with `reason`; returns how many.
  std::size_t abandon_pending(const std::string& notifier, const std::string& reason);
  std::vector<OutboxRow> notifications(std::optional<OutboxState> state = std::nullopt);
  void mark_delivered(std::int64_t id, TimePoint at);
  void mark_retry(std::int64_t id, TimePoint next_attempt, const std::string& error);
  void mark_dead(std::int64_t id, const std::string& error);

  // Deletes samples and probes older than `cutoff`, and finished notifications too.
  std::size_t prune(TimePoint cutoff);
  bool writable();

  // Caps the database file at about `bytes` (storage.max_size); 0 lifts the cap.
  void set_max_size(std::uint64_t bytes);
  // Why the latest write failed (e.g. "database or disk is full"), or nullopt once a write
  // has succeeded since. Writes that fail still throw; this is for /healthz.
  std::optional<std::string> write_error();
  // Writes that have failed since the store was opened (a metric).
  std::uint64_t write_failures() const { return m_write_failures.load(); }

private:
  struct PendingWrite {
    const std::vector<SampleRow>* samples;
    const ProbeRow* probe;
    std::exception_ptr error;
  };
  struct Batch {
    std::vector<PendingWrite*> writes;
    bool done = false;
  };
  void migrate();
  // Every write method calls write_failed() from its function-try-block handler (m_mutex
  // released): it records the failure and rethrows. Inserts, the writes that need room,
  // end with wrote() (m_mutex held): only they prove that the database can grow again.
  void wrote();
  [[noreturn]] void write_failed(const DatabaseError& error);

  Database m_db;
  std::mutex m_mutex;
  // Its own lock, not m_mutex: /healthz reads it and must not wait behind a long query.
  mutable std::mutex m_write_error_mutex;
  std::string m_write_error;  // guarded by m_write_error_mutex
  std::atomic<std::uint64_t> m_write_failures{0};

  void write(PendingWrite& write);
  void commit(Batch& batch);
  void insert(const PendingWrite& write);

  // Group commit: writers queue here; whoever finds no commit running commits the oldest
  // batch for everyone in it, then wakes them.
  mutable std::mutex m_queue_mutex;
  std::condition_variable m_queue_cv;
  std::deque<std::shared_ptr<Batch>> m_batches;
  bool m_committing = false;
  WriteStats m_stats;

  std::string m_path;
  std::unique_ptr<Checkpointer> m_checkpointer;  // destroyed first: it has its own connection
};

const char* to_string(OutboxState state);

}  // namespace creditwatch::storage
