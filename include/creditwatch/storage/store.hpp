#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"
#include "creditwatch/storage/database_error.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace creditwatch::storage {

// One balance reading of one account in one currency, or, read back, one run of identical
// readings: the same figures (balance, spend counter, details) were read from `at` until
// `seen_until`. Writers leave seen_until alone (each add is one reading at `at`); a single
// reading reads back with seen_until == at.
struct SampleRow {
  std::string account;
  TimePoint at;
  std::string currency;
  Decimal balance;
  std::optional<Decimal> spend_total;  // a provider's cumulative spend counter, where it has one
  std::string details_json;            // the provider's breakdown, e.g. granted vs topped-up
  TimePoint seen_until{};
};

// An unchanged reading extends the run it belongs to only while `at - run.at <
// k_longest_run`; the next one starts a new run with the same figures. It equals
// forecast::SpendLedger::k_max_hold_ms: the ledger moves its anchor exactly where a new run
// starts, so replaying a run as its two ends attributes spend exactly as replaying every
// reading did (scheduler/assessment.cpp static_asserts that the two are equal).
constexpr Duration k_longest_run = std::chrono::minutes(90);

// One hour of one account's readings in one currency, kept once the raw runs are pruned.
struct RollupRow {
  std::string account;
  std::string currency;
  TimePoint hour;  // the start of the hour
  Decimal open;    // the first balance read in the hour
  Decimal close;   // the last
  Decimal low;     // the lowest
  Decimal spend;     // balance drops, or spend-counter increases where both readings carry one
  Decimal deposits;  // balance rises (with a spend counter: rise + counted spend)
  std::uint32_t readings = 0;  // runs that started in the hour
};

// A forecast::SpendLedger's state saved at `at`, so a restart need not replay history.
struct LedgerSnapshot {
  TimePoint at;
  std::string state;  // opaque bytes from forecast::SpendLedger
};

// One account's saved ledger snapshot and the runs stored after it: what a restart needs to
// rebuild that account's forecast ledger (Store::saved_ledgers).
struct SavedLedger {
  std::string account;
  std::string currency;
  LedgerSnapshot snapshot;
  // The runs holding at or after snapshot.at, oldest first: the rows samples(account,
  // snapshot.at, currency) returns, but with details_json left empty (the ledger does not
  // read details, and resolving a patched one costs a lookup).
  std::vector<SampleRow> runs;
};

// Probes of one account since it was first seen (successes are counted, not stored).
struct ProbeCounts {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
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

// One account's latest probe and latest success, as latest_probe() and last_success() read
// them (Store::latest_probes).
struct LatestProbes {
  std::string account;
  std::optional<ProbeRow> latest;
  std::optional<TimePoint> last_success;
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

// An operator's silence (alerts::Silence), as stored: the matchers as a JSON object of
// name -> value. Expiring one early sets ends_at to that moment; expired rows stay (the API
// lists them with ?all=1) until the retention prune.
struct SilenceRow {
  std::string id;
  std::string matchers_json;
  TimePoint starts_at;
  TimePoint ends_at;
  std::string comment;
  std::string created_by;
  TimePoint created_at;
};

// An operator's acknowledgement of one firing alert, keyed by (account, rule). `severity` is
// the alert's when it was acknowledged: the ack holds until the alert changes severity or
// resolves (then its row is deleted).
struct AckRow {
  std::string account;
  std::string rule;
  std::string by;
  TimePoint at;
  std::string comment;
  std::string severity;
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
  std::string claimed_by;  // the sender holding the right to send it, until claim_until
  TimePoint claim_until;
};

// Counters of the probe write path (for metrics and benchmarks).
struct WriteStats {
  std::uint64_t transactions = 0;  // committed (or rolled back) group transactions
  std::uint64_t writes = 0;        // add_samples/add_probe calls finished
  std::uint64_t waiting = 0;       // calls queued or being committed right now
};

// A creditwatch process sharing the database, as it last announced itself.
struct ReplicaRow {
  std::string id;
  TimePoint started;
  TimePoint last_seen;
  std::size_t accounts = 0;  // leases it holds that have not expired at `last_seen`
};

// Which replica probes an account, until when.
struct LeaseRow {
  std::string account;
  std::string owner;
  TimePoint expires;
};

// What claiming a notification found.
enum class Claim {
  taken,      // ours now; nobody had it
  reclaimed,  // ours now; another sender's claim had expired (it may have sent it: a duplicate)
  refused,    // someone else holds it, or it is no longer pending
};

// Everything creditwatch keeps: readings, probe outcomes, alert state, the outbox, and the
// cluster's membership and leases. One implementation per database (SqliteStore,
// PostgresStore) with the same schema and the same semantics, checked by one conformance
// suite run against both. All methods are thread-safe; none performs network I/O to a
// provider or sink, so no lock is held across a probe or a delivery. Failures throw
// DatabaseError.
class Store {
public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // "sqlite" or "postgresql".
  virtual std::string backend() const = 0;
  // Whether several processes may share this database (and so need leases and claims).
  virtual bool shared() const = 0;
  virtual int schema_version() = 0;

  // Stores one probe's samples and its outcome, atomically. Returns once they are
  // committed: calls from many threads are grouped into shared transactions (group
  // commit). A write that fails is retried on its own so it cannot take the rest of its
  // group down; it throws DatabaseError to its caller only.
  virtual void add_samples(const std::vector<SampleRow>& samples, const ProbeRow& probe) = 0;
  // Stores a failed probe's outcome, through the same group commit.
  virtual void add_probe(const ProbeRow& probe) = 0;
  virtual WriteStats write_stats() const = 0;
  // Samples of one account at or after `since` (all currencies when `currency` is empty),
  // oldest first: the newest `limit` of them, so a caller that names a limit never holds
  // the store for a read of unbounded length.
  static constexpr std::size_t k_no_limit = 0;
  virtual std::vector<SampleRow> samples(const std::string& account, TimePoint since,
                                         const std::string& currency = "", std::size_t limit = k_no_limit) = 0;
  virtual std::optional<SampleRow> latest_sample(const std::string& account, const std::string& currency = "") = 0;
  virtual std::optional<ProbeRow> latest_probe(const std::string& account) = 0;
  virtual std::optional<TimePoint> last_success(const std::string& account) = 0;
  // latest_probe() and last_success() of many accounts in a few queries (a restart reads them
  // for every account before it serves /healthz), in no particular order, each account once;
  // accounts the store has never seen are left out.
  virtual std::vector<LatestProbes> latest_probes(const std::vector<std::string>& accounts) = 0;
  virtual ProbeCounts probe_counts(const std::string& account) = 0;
  // The hourly rollups of one account and currency whose hour starts in [from, to), oldest first.
  virtual std::vector<RollupRow> rollups(const std::string& account, const std::string& currency, TimePoint from,
                                         TimePoint to) = 0;
  // Saves (replaces) the ledger snapshot of one account and currency.
  virtual void save_ledger(const std::string& account, const std::string& currency,
                           const LedgerSnapshot& snapshot) = 0;
  virtual std::optional<LedgerSnapshot> ledger(const std::string& account, const std::string& currency) = 0;
  // The ledger snapshots of `accounts` saved at or after `since` (each currency an account
  // has one for), each with the runs stored after it, for a restart that loads every ledger
  // at once: two queries per `batch` accounts, not a ledger() and a samples() per account.
  // Handed to `each` one at a time, an account's one after another, one batch read before
  // the next, so no more than a batch of snapshots is held at once and writes do not wait
  // behind the whole load; `each` runs with no lock of the store held, may move from its
  // argument and returns false to stop. A snapshot replaced while its batch was read (a
  // save in between) is left out, never paired with the runs after another; so are
  // accounts without a snapshot since `since`: the caller loads those one by one.
  static constexpr std::size_t k_ledger_batch = 256;
  virtual void saved_ledgers(const std::vector<std::string>& accounts, TimePoint since,
                             const std::function<bool(SavedLedger&)>& each, std::size_t batch = k_ledger_batch) = 0;

  virtual std::vector<AlertRow> alerts(const std::string& account = "") = 0;
  // The alerts of these accounts only, in one read, ordered as alerts(): a page of the fleet
  // listing needs its rows' alerts, and reading the whole table for them costs tens of ms at
  // thousands of accounts.
  virtual std::vector<AlertRow> alerts_of(const std::vector<std::string>& accounts) = 0;
  // Writes the alert state and enqueues its notifications in one transaction. For each
  // notifier in `replace_pending`, older pending rows of the same dedup key are dropped
  // first: state-sync sinks (Alertmanager) only need the latest state. The commit is
  // durable: once this returns, the notifications survive a power loss.
  virtual void save_alert(const AlertRow& alert, const std::vector<OutboxRow>& notifications,
                          const std::vector<std::string>& replace_pending = {}) = 0;
  // Enqueues a refresh of a firing alert unless that notifier already has one of the same
  // dedup key pending (a sink that is down collects one row, not one per interval).
  // Returns whether a row was added; durable as save_alert.
  virtual bool enqueue_refresh(const OutboxRow& notification) = 0;
  // Enqueues `notification` unless its notifier already has a row of the same dedup key in
  // any state (pending, delivered or dead, until prune() drops it): what sends a period's
  // digest once, whichever replica or restart queues it; two replicas racing add one row.
  // Returns whether a row was added; durable as save_alert.
  virtual bool enqueue_once(const OutboxRow& notification) = 0;

  // Silences: added once, listed (ordered by starts_at, then id), expired. expire_silence sets
  // ends_at (and a later starts_at) to `now`; false when there is no silence `id`. Expiring
  // one already over changes nothing and is true.
  virtual void add_silence(const SilenceRow& silence) = 0;
  virtual std::vector<SilenceRow> silences() = 0;
  virtual bool expire_silence(const std::string& id, TimePoint now) = 0;
  // Acknowledgements: saving one replaces the alert's previous one and enqueues `notifications`
  // (the acknowledgement's own) in the same durable transaction. delete_ack returns whether
  // there was one.
  virtual void save_ack(const AckRow& ack, const std::vector<OutboxRow>& notifications = {}) = 0;
  virtual bool delete_ack(const std::string& account, const std::string& rule) = 0;
  virtual std::vector<AckRow> acks() = 0;

  // The pending notifications that may be sent next: per (notifier, dedup key) only the
  // oldest pending one, so the states of one alert go out in the order they changed.
  // Those due at `now`, soonest next_attempt first; only `notifier`'s when it is given.
  virtual std::vector<OutboxRow> due_notifications(TimePoint now, std::size_t limit,
                                                   const std::string& notifier = "") = 0;
  // The oldest pending notification of each dedup key of `notifier`, whenever due, soonest
  // next_attempt first. Rows in `sent` (delivered, not yet marked so) are passed over, as
  // if marked: the next state of their alert is the one in line. Rows claimed by another
  // sender are returned too (with their claim): the caller leaves them alone, and the rows
  // behind them wait, which keeps the order across replicas.
  virtual std::vector<OutboxRow> next_in_line(const std::string& notifier,
                                              const std::vector<std::int64_t>& sent = {}) = 0;
  // Takes the right to send pending notification `id` until `until`, for `sender`: free,
  // already ours, or held by a claim that expired before `now`.
  virtual Claim claim_notification(std::int64_t id, const std::string& sender, TimePoint now, TimePoint until) = 0;
  // Notifiers that have pending notifications.
  virtual std::vector<std::string> notifiers_with_pending() = 0;
  // Marks every pending notification of `notifier` dead with `reason`; returns how many.
  virtual std::size_t abandon_pending(const std::string& notifier, const std::string& reason) = 0;
  virtual std::vector<OutboxRow> notifications(std::optional<OutboxState> state = std::nullopt) = 0;
  // These end the row's claim.
  virtual void mark_delivered(std::int64_t id, TimePoint at) = 0;
  virtual void mark_retry(std::int64_t id, TimePoint next_attempt, const std::string& error) = 0;
  virtual void mark_dead(std::int64_t id, const std::string& error) = 0;

  // Cluster membership: `replica` announces itself (started at `started`) as alive at `now`.
  virtual void announce_replica(const std::string& replica, TimePoint started, TimePoint now) = 0;
  // A replica that shuts down cleanly leaves: its row and its leases go, so the others take
  // its accounts at their next renewal instead of after the lease.
  virtual void leave_cluster(const std::string& replica) = 0;
  // Every replica's row, with the leases it holds unexpired at `now`.
  virtual std::vector<ReplicaRow> replicas(TimePoint now) = 0;
  // Takes or renews, for `replica`, the lease of each of `accounts` that is free, already
  // its own, or expired before `now`, until `expires`. Returns the accounts it now holds.
  virtual std::vector<std::string> claim_leases(const std::string& replica, const std::vector<std::string>& accounts,
                                                TimePoint now, TimePoint expires) = 0;
  // Gives up `replica`'s leases of `accounts` (another replica is to have them).
  virtual void release_leases(const std::string& replica, const std::vector<std::string>& accounts) = 0;
  virtual std::vector<LeaseRow> leases() = 0;

  // Rolls readings (runs) that ended before `raw_cutoff` up into hourly rollups and deletes
  // them; deletes rollups of hours before `rollup_cutoff`, and failed probes, finished
  // notifications, departed replicas and silences that ended older than `raw_cutoff`. At most `batch` readings
  // per transaction, so a probe write never waits long behind it: the caller (housekeeping,
  // never the probe path) calls again while it returns a full batch. Returns rows removed.
  static constexpr std::size_t k_prune_batch = 2000;
  virtual std::size_t prune(TimePoint raw_cutoff, TimePoint rollup_cutoff, std::size_t batch = k_prune_batch) = 0;
  // Caps the database at about `bytes` (storage.max_size); 0 lifts the cap. SQLite only:
  // a PostgreSQL server's space is its administrator's to manage, so there it does nothing.
  virtual void set_max_size(std::uint64_t bytes) = 0;
  // Starts the backend's own background upkeep (SQLite: WAL checkpoints off the commit path,
  // every `every`); the daemon calls it, one-shot commands need not.
  virtual void start_background_work(Duration every) = 0;
  // Whether a write can be committed now (for /healthz).
  virtual bool writable() = 0;
  // Why the latest write failed (e.g. "database or disk is full", "connection refused"),
  // or nullopt once a write has succeeded since. Writes that fail still throw; this is for
  // /healthz.
  virtual std::optional<std::string> write_error() = 0;
  // Writes that have failed since the store was opened (a metric).
  virtual std::uint64_t write_failures() const = 0;
};

// Where the database is: a SQLite file (`path`), or a PostgreSQL URL (`url`).
struct StoreLocation {
  std::string path;
  std::optional<std::string> url;
};

// Opens (and migrates) the store at `location`.
std::unique_ptr<Store> open_store(const StoreLocation& location);

const char* to_string(OutboxState state);

}  // namespace creditwatch::storage
