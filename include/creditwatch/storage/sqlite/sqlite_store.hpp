#pragma once

#include "creditwatch/storage/group_commit.hpp"
#include "creditwatch/storage/sqlite/checkpointer.hpp"
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/store.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace creditwatch::storage {

// The embedded store: one SQLite file in WAL mode, one connection behind one mutex. The
// default for a single process; several processes on one host may share the file (SQLite
// locks it), which is what `check` beside a running daemon does.
class SqliteStore final : public Store {
public:
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;

  static constexpr int k_schema_version = 5;

  std::string backend() const override { return "sqlite"; }
  bool shared() const override { return false; }
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
  void set_max_size(std::uint64_t bytes) override;
  // Moves WAL checkpoints (and their fsync) off the commit path onto a background thread
  // running every `every`, which also starts the log over once it is long (Checkpointer).
  // The writer's own auto-checkpoint stays as a backstop only, at k_wal_cap_pages instead
  // of 1,000: a commit checkpoints only if the checkpointer has stalled that long.
  void start_background_work(Duration every) override;
  static constexpr int k_wal_cap_pages = 10'000;
  bool writable() override;
  std::optional<std::string> write_error() override;
  std::uint64_t write_failures() const override { return m_write_failures.load(); }

private:
  // `migrate`'s bulk copy (storage/copy.cpp) streams whole tables with their ids, which no
  // Store method does: it uses the connection directly.
  friend class DatabaseCopy;
  void migrate();
  // Every write method calls write_failed() from its function-try-block handler (m_mutex
  // released): it records the failure and rethrows. Inserts, the writes that need room,
  // end with wrote() (m_mutex held): only they prove that the database can grow again.
  void wrote();
  [[noreturn]] void write_failed(const DatabaseError& error);
  void commit_probe_writes(const std::vector<ProbeWrite*>& writes);
  // The rest run with m_mutex held.
  void write_sample(std::int64_t account, const SampleRow& sample);
  // A reading at or before the head's latest (run_rule.hpp: RunStep::late).
  void write_late_sample(std::int64_t account, std::int64_t currency, const SampleRow& sample);
  void write_probe(std::int64_t account, const ProbeRow& probe);
  // Runs of one account and currency holding at or after `since_ms`, oldest first (the newest
  // `limit`), details resolved.
  std::vector<SampleRow> runs_of(std::int64_t account, const std::string& account_name, std::int64_t currency,
                                 std::int64_t since_ms, std::size_t limit);
  std::vector<std::int64_t> currencies_of(std::int64_t account);
  // The details in full of the latest run of a pair before `from_ms` ("" if none).
  std::string details_before(std::int64_t account, std::int64_t currency, std::int64_t from_ms);
  // Rolls up and deletes at most `budget` runs of one pair that ended before the cutoff.
  std::size_t prune_runs(std::int64_t account, std::int64_t currency, std::int64_t raw_cutoff_ms, std::size_t budget);
  // Name <-> id, cached: rows of accounts and currencies are never deleted, so a cached id
  // never goes stale, except one inserted by a transaction that then rolled back.
  std::optional<std::int64_t> find_account(const std::string& name);
  std::int64_t account_id(const std::string& name);  // adds the account if missing (in a write)
  std::optional<std::int64_t> find_currency(const std::string& code);
  std::int64_t currency_id(const std::string& code);  // adds the currency if missing (in a write)
  const std::string& currency_code(std::int64_t id);
  void forget_ids();  // after a rollback

  Database m_db;
  std::mutex m_mutex;
  // Its own lock, not m_mutex: /healthz reads it and must not wait behind a long query.
  mutable std::mutex m_write_error_mutex;
  std::string m_write_error;  // guarded by m_write_error_mutex
  std::atomic<std::uint64_t> m_write_failures{0};
  GroupCommit m_group_commit;
  // Guarded by m_mutex.
  std::unordered_map<std::string, std::int64_t> m_account_ids;
  std::unordered_map<std::string, std::int64_t> m_currency_ids;
  std::unordered_map<std::int64_t, std::string> m_currency_codes;

  std::string m_path;
  std::unique_ptr<Checkpointer> m_checkpointer;  // destroyed first: it has its own connection
};

}  // namespace creditwatch::storage
