#pragma once

#include "creditwatch/storage/group_commit.hpp"
#include "creditwatch/storage/store.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace creditwatch::storage {

namespace postgres {
class ConnectionPool;
class Connection;
class NameIds;
}  // namespace postgres

// The shared store: a PostgreSQL database that any number of replicas use at once, through
// libpq, a small connection pool and prepared statements. The schema and the semantics are
// SqliteStore's (one conformance suite runs against both); what differs is that replicas
// race here, so every read-modify-write is one statement or one locked transaction (a probe
// write locks the heads it reads: another replica may have moved one since).
class PostgresStore final : public Store {
public:
  // `url`: a postgresql:// URL (it may hold a password: never put it in a message).
  // `connections`: the pool's size.
  explicit PostgresStore(const std::string& url, std::size_t connections = 8);
  ~PostgresStore() override;

  static constexpr int k_schema_version = 5;

  std::string backend() const override { return "postgresql"; }
  bool shared() const override { return true; }
  int schema_version() override;

  void add_samples(const std::vector<SampleRow>& samples, const ProbeRow& probe) override;
  void add_probe(const ProbeRow& probe) override;
  WriteStats write_stats() const override { return m_group_commit.stats(); }
  std::vector<SampleRow> samples(const std::string& account, TimePoint since, const std::string& currency = "",
                                 std::size_t limit = k_no_limit) override;
  std::optional<SampleRow> latest_sample(const std::string& account, const std::string& currency = "") override;
  std::optional<ProbeRow> latest_probe(const std::string& account) override;
  std::optional<TimePoint> last_success(const std::string& account) override;
  std::vector<LatestProbes> latest_probes(const std::vector<std::string>& accounts) override;
  ProbeCounts probe_counts(const std::string& account) override;
  std::vector<RollupRow> rollups(const std::string& account, const std::string& currency, TimePoint from,
                                 TimePoint to) override;
  void save_ledger(const std::string& account, const std::string& currency, const LedgerSnapshot& snapshot) override;
  std::optional<LedgerSnapshot> ledger(const std::string& account, const std::string& currency) override;
  void saved_ledgers(const std::vector<std::string>& accounts, TimePoint since,
                     const std::function<bool(SavedLedger&)>& each, std::size_t batch = k_ledger_batch) override;

  std::vector<AlertRow> alerts(const std::string& account = "") override;
  std::vector<AlertRow> alerts_of(const std::vector<std::string>& accounts) override;
  void save_alert(const AlertRow& alert, const std::vector<OutboxRow>& notifications,
                  const std::vector<std::string>& replace_pending = {}) override;
  bool enqueue_refresh(const OutboxRow& notification) override;
  bool enqueue_once(const OutboxRow& notification) override;

  void add_silence(const SilenceRow& silence) override;
  std::vector<SilenceRow> silences() override;
  bool expire_silence(const std::string& id, TimePoint now) override;
  void save_ack(const AckRow& ack, const std::vector<OutboxRow>& notifications = {}) override;
  bool delete_ack(const std::string& account, const std::string& rule) override;
  std::vector<AckRow> acks() override;

  std::vector<OutboxRow> due_notifications(TimePoint now, std::size_t limit, const std::string& notifier = "") override;
  std::vector<OutboxRow> next_in_line(const std::string& notifier, const std::vector<std::int64_t>& sent = {}) override;
  Claim claim_notification(std::int64_t id, const std::string& sender, TimePoint now, TimePoint until) override;
  std::vector<std::string> notifiers_with_pending() override;
  std::size_t abandon_pending(const std::string& notifier, const std::string& reason) override;
  std::vector<OutboxRow> notifications(std::optional<OutboxState> state = std::nullopt) override;
  void mark_delivered(std::int64_t id, TimePoint at) override;
  void mark_retry(std::int64_t id, TimePoint next_attempt, const std::string& error) override;
  void mark_dead(std::int64_t id, const std::string& error) override;

  void announce_replica(const std::string& replica, TimePoint started, TimePoint now) override;
  void leave_cluster(const std::string& replica) override;
  std::vector<ReplicaRow> replicas(TimePoint now) override;
  std::vector<std::string> claim_leases(const std::string& replica, const std::vector<std::string>& accounts,
                                        TimePoint now, TimePoint expires) override;
  void release_leases(const std::string& replica, const std::vector<std::string>& accounts) override;
  std::vector<LeaseRow> leases() override;

  std::size_t prune(TimePoint raw_cutoff, TimePoint rollup_cutoff, std::size_t batch = k_prune_batch) override;
  void set_max_size(std::uint64_t) override {}
  // PostgreSQL checkpoints and vacuums itself.
  void start_background_work(Duration) override {}
  bool writable() override;
  std::optional<std::string> write_error() override;
  std::uint64_t write_failures() const override { return m_write_failures.load(); }

private:
  // `migrate`'s bulk copy (storage/copy.cpp) streams whole tables with their ids, which no
  // Store method does: it uses the connection directly.
  friend class DatabaseCopy;
  // Runs `work` on a pooled connection. A connection found dead (the server restarted since
  // it was last used) is replaced and the work run once more, unless a COMMIT was already
  // sent: then its outcome is unknown and the failure goes to the caller.
  template <typename Work>
  auto with_connection(Work&& work) -> decltype(work(std::declval<postgres::Connection&>()));
  // Like with_connection, for writes: records the outcome for write_error()/write_failures().
  template <typename Work>
  auto write(Work&& work) -> decltype(work(std::declval<postgres::Connection&>()));
  void commit_probe_writes(const std::vector<ProbeWrite*>& writes);

  std::unique_ptr<postgres::ConnectionPool> m_pool;
  // Account and currency ids, remembered: rows of those tables are never deleted. Heads are
  // not remembered: other writers move them (see commit_probe_writes).
  std::unique_ptr<postgres::NameIds> m_account_ids;
  std::unique_ptr<postgres::NameIds> m_currency_ids;
  mutable std::mutex m_write_error_mutex;
  std::string m_write_error;  // guarded by m_write_error_mutex
  std::atomic<std::uint64_t> m_write_failures{0};
  GroupCommit m_group_commit;
};

}  // namespace creditwatch::storage
