#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "migrations.hpp"

#include <algorithm>

namespace creditwatch::storage {
namespace {

SampleRow read_sample(const Statement& s) {
  SampleRow row;
  row.account = s.text(0);
  row.at = from_unix_ms(s.int64(1));
  row.currency = s.text(2);
  row.balance = Decimal::from_micros(s.int64(3));
  if (!s.is_null(4)) row.spend_total = Decimal::from_micros(s.int64(4));
  row.details_json = s.text(5);
  return row;
}

ProbeRow read_probe(const Statement& s) {
  return ProbeRow{s.text(0), from_unix_ms(s.int64(1)), s.text(2), static_cast<long>(s.int64(3)), s.real(4), s.text(5)};
}

OutboxState parse_state(const std::string& text) {
  if (text == "delivered") return OutboxState::delivered;
  if (text == "dead") return OutboxState::dead;
  return OutboxState::pending;
}

OutboxRow read_outbox(const Statement& s) {
  OutboxRow row;
  row.id = s.int64(0);
  row.created = from_unix_ms(s.int64(1));
  row.notifier = s.text(2);
  row.dedup_key = s.text(3);
  row.payload_json = s.text(4);
  row.attempts = static_cast<int>(s.int64(5));
  row.next_attempt = from_unix_ms(s.int64(6));
  row.state = parse_state(s.text(7));
  row.last_error = s.text(8);
  row.claimed_by = s.text(9);
  row.claim_until = from_unix_ms(s.int64(10));
  return row;
}

constexpr const char* k_sample_columns = "account, ts_ms, currency, balance_micros, spend_micros, details";
constexpr const char* k_outbox_columns =
    "id, created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error, claimed_by, "
    "claim_until_ms";

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

SqliteStore::SqliteStore(const std::string& path)
    : m_db(path), m_group_commit([this](const std::vector<ProbeWrite*>& writes) { commit_probe_writes(writes); }),
      m_path(path) {
  migrate();
}

SqliteStore::~SqliteStore() = default;

void SqliteStore::start_background_work(Duration every) {
  {
    std::lock_guard lock(m_mutex);
    m_db.exec("PRAGMA wal_autocheckpoint=10000");
  }
  m_checkpointer = std::make_unique<Checkpointer>(m_path, every);
}

void SqliteStore::wrote() {
  std::lock_guard lock(m_write_error_mutex);
  m_write_error.clear();
}

void SqliteStore::write_failed(const DatabaseError& error) {
  ++m_write_failures;
  {
    std::lock_guard lock(m_write_error_mutex);
    m_write_error = error.what();
  }
  throw;
}

void SqliteStore::set_max_size(std::uint64_t bytes) {
  std::lock_guard lock(m_mutex);
  m_db.set_max_size(bytes);
}

std::optional<std::string> SqliteStore::write_error() {
  std::lock_guard lock(m_write_error_mutex);
  return m_write_error.empty() ? std::nullopt : std::optional<std::string>(m_write_error);
}

void SqliteStore::migrate() {
  std::lock_guard lock(m_mutex);
  apply_migrations(m_db);
}

int SqliteStore::schema_version() {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("PRAGMA user_version");
  s.step();
  const int version = static_cast<int>(s.int64(0));
  s.reset();
  return version;
}

void SqliteStore::add_samples(const std::vector<SampleRow>& samples, const ProbeRow& probe) try {
  ProbeWrite pending{&samples, &probe, nullptr};
  m_group_commit.write(pending);
} catch (const DatabaseError& e) {
  write_failed(e);
}

void SqliteStore::add_probe(const ProbeRow& probe) try {
  ProbeWrite pending{&k_no_samples, &probe, nullptr};
  m_group_commit.write(pending);
} catch (const DatabaseError& e) {
  write_failed(e);
}

void SqliteStore::commit_probe_writes(const std::vector<ProbeWrite*>& writes) {
  std::lock_guard lock(m_mutex);
  Transaction tx(m_db);
  auto& sample = m_db.cached(k_insert_sample);
  auto& probe = m_db.cached(k_insert_probe);
  for (const auto* w : writes) {
    for (const auto& s : *w->samples) {
      sample.bind(1, s.account)
          .bind(2, to_unix_ms(s.at))
          .bind(3, s.currency)
          .bind(4, s.balance.micros())
          .bind_optional(5, optional_micros(s.spend_total))
          .bind(6, s.details_json)
          .run();
    }
    const ProbeRow& p = *w->probe;
    probe.bind(1, p.account)
        .bind(2, to_unix_ms(p.at))
        .bind(3, p.outcome)
        .bind(4, static_cast<std::int64_t>(p.http_status))
        .bind(5, p.latency_seconds)
        .bind(6, p.message)
        .run();
  }
  tx.commit();
  wrote();
}

std::vector<SampleRow> SqliteStore::samples(const std::string& account, TimePoint since, const std::string& currency,
                                      std::size_t limit) {
  std::lock_guard lock(m_mutex);
  // Newest first so LIMIT keeps the newest; SQLite reads LIMIT -1 as no limit.
  auto& s = m_db.cached(std::string("SELECT ") + k_sample_columns +
                        " FROM samples WHERE account = ?1 AND ts_ms >= ?2 AND (?3 = '' OR currency = ?3)"
                        " ORDER BY ts_ms DESC, id DESC LIMIT ?4");
  s.bind(1, account).bind(2, to_unix_ms(since)).bind(3, currency);
  s.bind(4, limit == k_no_limit ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
  std::vector<SampleRow> out;
  while (s.step()) out.push_back(read_sample(s));
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<SampleRow> SqliteStore::latest_sample(const std::string& account, const std::string& currency) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached(std::string("SELECT ") + k_sample_columns +
                        " FROM samples WHERE account = ?1 AND (?2 = '' OR currency = ?2)"
                        " ORDER BY ts_ms DESC, id DESC LIMIT 1");
  s.bind(1, account).bind(2, currency);
  if (!s.step()) return std::nullopt;
  auto row = read_sample(s);
  s.reset();  // a statement left on a row would hold the read snapshot open
  return row;
}

std::optional<ProbeRow> SqliteStore::latest_probe(const std::string& account) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT account, ts_ms, outcome, http_status, latency_seconds, message FROM probes "
                        "WHERE account = ?1 ORDER BY ts_ms DESC, id DESC LIMIT 1");
  s.bind(1, account);
  if (!s.step()) return std::nullopt;
  auto row = read_probe(s);
  s.reset();
  return row;
}

std::optional<TimePoint> SqliteStore::last_success(const std::string& account) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT MAX(ts_ms) FROM probes WHERE account = ?1 AND outcome = 'ok'");
  s.bind(1, account);
  std::optional<TimePoint> result;
  if (s.step() && !s.is_null(0)) result = from_unix_ms(s.int64(0));
  s.reset();
  return result;
}

std::vector<AlertRow> SqliteStore::alerts(const std::string& account) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT account, rule, state, severity, since_ms, last_notified_ms, context FROM alerts "
                        "WHERE ?1 = '' OR account = ?1 ORDER BY account, rule");
  s.bind(1, account);
  std::vector<AlertRow> out;
  while (s.step()) {
    out.push_back(AlertRow{s.text(0), s.text(1), s.text(2), s.text(3), from_unix_ms(s.int64(4)),
                           from_unix_ms(s.int64(5)), s.text(6)});
  }
  return out;
}

void SqliteStore::save_alert(const AlertRow& alert, const std::vector<OutboxRow>& notifications,
                       const std::vector<std::string>& replace_pending) try {
  std::lock_guard lock(m_mutex);
  // A page the daemon has logged as queued must not vanish with the power: this commit
  // alone pays for an fsync of the WAL (samples and probes keep the cheaper NORMAL).
  DurableCommits durable(m_db);
  Transaction tx(m_db);
  for (const auto& n : notifications) {
    if (std::find(replace_pending.begin(), replace_pending.end(), n.notifier) == replace_pending.end()) continue;
    // A row a sender holds is on the wire: it stays, and the new state goes out after it.
    m_db.cached("DELETE FROM outbox WHERE state = 'pending' AND notifier = ?1 AND dedup_key = ?2 AND NOT "
                "(claimed_by != '' AND claim_until_ms >= ?3)")
        .bind(1, n.notifier)
        .bind(2, n.dedup_key)
        .bind(3, to_unix_ms(n.created))
        .run();
  }
  m_db.cached("INSERT INTO alerts (account, rule, state, severity, since_ms, last_notified_ms, context) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (account, rule) DO UPDATE SET "
               "state = excluded.state, severity = excluded.severity, since_ms = excluded.since_ms, "
               "last_notified_ms = excluded.last_notified_ms, context = excluded.context")
      .bind(1, alert.account)
      .bind(2, alert.rule)
      .bind(3, alert.state)
      .bind(4, alert.severity)
      .bind(5, to_unix_ms(alert.since))
      .bind(6, to_unix_ms(alert.last_notified))
      .bind(7, alert.context_json)
      .run();
  auto& insert = m_db.cached("INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, "
                             "next_attempt_ms, state, last_error) VALUES (?1, ?2, ?3, ?4, 0, ?5, 'pending', '')");
  for (const auto& n : notifications) {
    insert.bind(1, to_unix_ms(n.created))
        .bind(2, n.notifier)
        .bind(3, n.dedup_key)
        .bind(4, n.payload_json)
        .bind(5, to_unix_ms(n.next_attempt))
        .run();
  }
  tx.commit();
  wrote();
} catch (const DatabaseError& e) {
  write_failed(e);
}

bool SqliteStore::enqueue_refresh(const OutboxRow& n) try {
  std::lock_guard lock(m_mutex);
  DurableCommits durable(m_db);
  auto& insert = m_db.cached(
      "INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error) "
      "SELECT ?1, ?2, ?3, ?4, 0, ?5, 'pending', '' WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' "
      "AND notifier = ?2 AND dedup_key = ?3)");
  insert.bind(1, to_unix_ms(n.created))
      .bind(2, n.notifier)
      .bind(3, n.dedup_key)
      .bind(4, n.payload_json)
      .bind(5, to_unix_ms(n.next_attempt))
      .run();
  const bool added = m_db.changes() > 0;
  wrote();
  return added;
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::vector<OutboxRow> SqliteStore::due_notifications(TimePoint now, std::size_t limit, const std::string& notifier) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached(std::string("SELECT ") + k_outbox_columns +
                        " FROM outbox o WHERE state = 'pending' AND next_attempt_ms <= ?1 AND (?3 = '' OR notifier = ?3)"
                        " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.notifier = o.notifier"
                        " AND p.dedup_key = o.dedup_key AND p.id < o.id)"
                        " ORDER BY next_attempt_ms, id LIMIT ?2");
  s.bind(1, to_unix_ms(now)).bind(2, static_cast<std::int64_t>(limit)).bind(3, notifier);
  std::vector<OutboxRow> out;
  while (s.step()) out.push_back(read_outbox(s));
  return out;
}

std::vector<OutboxRow> SqliteStore::next_in_line(const std::string& notifier, const std::vector<std::int64_t>& sent) {
  std::string sent_ids = "[";
  for (const auto id : sent) sent_ids += (sent_ids.size() > 1 ? "," : "") + std::to_string(id);
  sent_ids += "]";
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached(std::string("SELECT ") + k_outbox_columns +
                        " FROM outbox o WHERE state = 'pending' AND notifier = ?1"
                        " AND id NOT IN (SELECT value FROM json_each(?2))"
                        " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.notifier = ?1"
                        " AND p.dedup_key = o.dedup_key AND p.id < o.id AND p.id NOT IN (SELECT value FROM json_each(?2)))"
                        " ORDER BY next_attempt_ms, id");
  s.bind(1, notifier).bind(2, sent_ids);
  std::vector<OutboxRow> out;
  while (s.step()) out.push_back(read_outbox(s));
  return out;
}

Claim SqliteStore::claim_notification(std::int64_t id, const std::string& sender, TimePoint now,
                                      TimePoint until) try {
  std::lock_guard lock(m_mutex);
  Transaction tx(m_db);
  auto& current = m_db.cached("SELECT state, claimed_by, claim_until_ms FROM outbox WHERE id = ?1");
  current.bind(1, id);
  if (!current.step()) return Claim::refused;
  const auto state = current.text(0);
  const auto holder = current.text(1);
  const auto held_until = from_unix_ms(current.int64(2));
  current.reset();
  if (state != "pending") return Claim::refused;
  if (!holder.empty() && holder != sender && held_until >= now) return Claim::refused;
  m_db.cached("UPDATE outbox SET claimed_by = ?2, claim_until_ms = ?3 WHERE id = ?1")
      .bind(1, id)
      .bind(2, sender)
      .bind(3, to_unix_ms(until))
      .run();
  tx.commit();
  return holder.empty() || holder == sender ? Claim::taken : Claim::reclaimed;
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::vector<std::string> SqliteStore::notifiers_with_pending() {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT DISTINCT notifier FROM outbox WHERE state = 'pending' ORDER BY notifier");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

std::size_t SqliteStore::abandon_pending(const std::string& notifier, const std::string& reason) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("UPDATE outbox SET state = 'dead', last_error = ?2, claimed_by = '' WHERE state = 'pending' AND "
              "notifier = ?1")
      .bind(1, notifier)
      .bind(2, reason)
      .run();
  return static_cast<std::size_t>(m_db.changes());
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::vector<OutboxRow> SqliteStore::notifications(std::optional<OutboxState> state) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached(std::string("SELECT ") + k_outbox_columns +
                        " FROM outbox WHERE ?1 = '' OR state = ?1 ORDER BY id");
  s.bind(1, std::string(state ? to_string(*state) : ""));
  std::vector<OutboxRow> out;
  while (s.step()) out.push_back(read_outbox(s));
  return out;
}

void SqliteStore::mark_delivered(std::int64_t id, TimePoint at) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_ms = ?2, last_error = '', "
               "claimed_by = '' WHERE id = ?1")
      .bind(1, id)
      .bind(2, to_unix_ms(at))
      .run();
} catch (const DatabaseError& e) {
  write_failed(e);
}

void SqliteStore::mark_retry(std::int64_t id, TimePoint next_attempt, const std::string& error) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3, claimed_by = '' "
               "WHERE id = ?1")
      .bind(1, id)
      .bind(2, to_unix_ms(next_attempt))
      .bind(3, error)
      .run();
} catch (const DatabaseError& e) {
  write_failed(e);
}

void SqliteStore::mark_dead(std::int64_t id, const std::string& error) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?2, claimed_by = '' "
               "WHERE id = ?1")
      .bind(1, id)
      .bind(2, error)
      .run();
} catch (const DatabaseError& e) {
  write_failed(e);
}

void SqliteStore::announce_replica(const std::string& replica, TimePoint started, TimePoint now) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("INSERT INTO replicas (id, started_ms, last_seen_ms) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE "
               "SET started_ms = excluded.started_ms, last_seen_ms = excluded.last_seen_ms")
      .bind(1, replica)
      .bind(2, to_unix_ms(started))
      .bind(3, to_unix_ms(now))
      .run();
} catch (const DatabaseError& e) {
  write_failed(e);
}

void SqliteStore::leave_cluster(const std::string& replica) try {
  std::lock_guard lock(m_mutex);
  Transaction tx(m_db);
  m_db.cached("DELETE FROM leases WHERE owner = ?1").bind(1, replica).run();
  m_db.cached("DELETE FROM replicas WHERE id = ?1").bind(1, replica).run();
  tx.commit();
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::vector<ReplicaRow> SqliteStore::replicas(TimePoint now) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT r.id, r.started_ms, r.last_seen_ms, (SELECT COUNT(*) FROM leases l WHERE "
                        "l.owner = r.id AND l.expires_ms >= ?1) FROM replicas r ORDER BY r.id");
  s.bind(1, to_unix_ms(now));
  std::vector<ReplicaRow> out;
  while (s.step()) {
    out.push_back(ReplicaRow{s.text(0), from_unix_ms(s.int64(1)), from_unix_ms(s.int64(2)),
                             static_cast<std::size_t>(s.int64(3))});
  }
  return out;
}

std::vector<std::string> SqliteStore::claim_leases(const std::string& replica,
                                                   const std::vector<std::string>& accounts, TimePoint now,
                                                   TimePoint expires) try {
  std::lock_guard lock(m_mutex);
  Transaction tx(m_db);
  auto& claim = m_db.cached(
      "INSERT INTO leases (account, owner, expires_ms) VALUES (?1, ?2, ?4) ON CONFLICT (account) DO UPDATE SET "
      "owner = excluded.owner, expires_ms = excluded.expires_ms WHERE leases.owner = excluded.owner OR "
      "leases.expires_ms < ?3");
  auto unique_accounts = accounts;  // an account named twice is claimed (and returned) once
  std::sort(unique_accounts.begin(), unique_accounts.end());
  unique_accounts.erase(std::unique(unique_accounts.begin(), unique_accounts.end()), unique_accounts.end());
  std::vector<std::string> held;
  for (const auto& account : unique_accounts) {
    claim.bind(1, account).bind(2, replica).bind(3, to_unix_ms(now)).bind(4, to_unix_ms(expires)).run();
    if (m_db.changes() > 0) held.push_back(account);
  }
  tx.commit();
  return held;
} catch (const DatabaseError& e) {
  write_failed(e);
}

void SqliteStore::release_leases(const std::string& replica, const std::vector<std::string>& accounts) try {
  std::lock_guard lock(m_mutex);
  Transaction tx(m_db);
  auto& release = m_db.cached("DELETE FROM leases WHERE account = ?1 AND owner = ?2");
  for (const auto& account : accounts) release.bind(1, account).bind(2, replica).run();
  tx.commit();
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::vector<LeaseRow> SqliteStore::leases() {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT account, owner, expires_ms FROM leases ORDER BY account");
  std::vector<LeaseRow> out;
  while (s.step()) out.push_back(LeaseRow{s.text(0), s.text(1), from_unix_ms(s.int64(2))});
  return out;
}

std::size_t SqliteStore::prune(TimePoint cutoff) try {
  std::lock_guard lock(m_mutex);
  Transaction tx(m_db);
  std::size_t removed = 0;
  for (const char* sql : {"DELETE FROM samples WHERE ts_ms < ?1", "DELETE FROM probes WHERE ts_ms < ?1",
                          "DELETE FROM outbox WHERE state != 'pending' AND created_ms < ?1",
                          "DELETE FROM replicas WHERE last_seen_ms < ?1"}) {
    m_db.cached(sql).bind(1, to_unix_ms(cutoff)).run();
    removed += static_cast<std::size_t>(m_db.changes());
  }
  tx.commit();
  return removed;
} catch (const DatabaseError& e) {
  write_failed(e);
}

bool SqliteStore::writable() {
  std::lock_guard lock(m_mutex);
  try {
    m_db.exec("BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE key = 'heartbeat'; COMMIT");
    return true;
  } catch (const DatabaseError&) {
    try {
      m_db.exec("ROLLBACK");
    } catch (const DatabaseError&) {
    }
    return false;
  }
}

}  // namespace creditwatch::storage
