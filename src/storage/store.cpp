#include "creditwatch/storage/store.hpp"

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
  return row;
}

constexpr const char* k_sample_columns = "account, ts_ms, currency, balance_micros, spend_micros, details";
constexpr const char* k_outbox_columns =
    "id, created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error";

}  // namespace

const char* to_string(OutboxState state) {
  switch (state) {
    case OutboxState::pending: return "pending";
    case OutboxState::delivered: return "delivered";
    case OutboxState::dead: return "dead";
  }
  return "pending";
}

Store::Store(const std::string& path) : m_db(path), m_path(path) { migrate(); }

Store::~Store() = default;

void Store::checkpoint_in_background(Duration every) {
  {
    std::lock_guard lock(m_mutex);
    m_db.exec("PRAGMA wal_autocheckpoint=10000");
  }
  m_checkpointer = std::make_unique<Checkpointer>(m_path, every);
}

void Store::wrote() {
  std::lock_guard lock(m_write_error_mutex);
  m_write_error.clear();
}

void Store::write_failed(const DatabaseError& error) {
  ++m_write_failures;
  {
    std::lock_guard lock(m_write_error_mutex);
    m_write_error = error.what();
  }
  throw;
}

void Store::set_max_size(std::uint64_t bytes) {
  std::lock_guard lock(m_mutex);
  m_db.set_max_size(bytes);
}

std::optional<std::string> Store::write_error() {
  std::lock_guard lock(m_write_error_mutex);
  return m_write_error.empty() ? std::nullopt : std::optional<std::string>(m_write_error);
}

void Store::migrate() {
  std::lock_guard lock(m_mutex);
  apply_migrations(m_db);
}

int Store::schema_version() {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("PRAGMA user_version");
  s.step();
  const int version = static_cast<int>(s.int64(0));
  s.reset();
  return version;
}

std::vector<SampleRow> Store::samples(const std::string& account, TimePoint since, const std::string& currency,
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

std::optional<SampleRow> Store::latest_sample(const std::string& account, const std::string& currency) {
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

std::optional<ProbeRow> Store::latest_probe(const std::string& account) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT account, ts_ms, outcome, http_status, latency_seconds, message FROM probes "
                        "WHERE account = ?1 ORDER BY ts_ms DESC, id DESC LIMIT 1");
  s.bind(1, account);
  if (!s.step()) return std::nullopt;
  auto row = read_probe(s);
  s.reset();
  return row;
}

std::optional<TimePoint> Store::last_success(const std::string& account) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT MAX(ts_ms) FROM probes WHERE account = ?1 AND outcome = 'ok'");
  s.bind(1, account);
  std::optional<TimePoint> result;
  if (s.step() && !s.is_null(0)) result = from_unix_ms(s.int64(0));
  s.reset();
  return result;
}

std::vector<AlertRow> Store::alerts(const std::string& account) {
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

void Store::save_alert(const AlertRow& alert, const std::vector<OutboxRow>& notifications,
                       const std::vector<std::string>& replace_pending) try {
  std::lock_guard lock(m_mutex);
  // A page the daemon has logged as queued must not vanish with the power: this commit
  // alone pays for an fsync of the WAL (samples and probes keep the cheaper NORMAL).
  DurableCommits durable(m_db);
  Transaction tx(m_db);
  for (const auto& n : notifications) {
    if (std::find(replace_pending.begin(), replace_pending.end(), n.notifier) == replace_pending.end()) continue;
    m_db.cached("DELETE FROM outbox WHERE state = 'pending' AND notifier = ?1 AND dedup_key = ?2")
        .bind(1, n.notifier)
        .bind(2, n.dedup_key)
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

bool Store::enqueue_refresh(const OutboxRow& n) try {
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

std::vector<OutboxRow> Store::due_notifications(TimePoint now, std::size_t limit, const std::string& notifier) {
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

std::vector<OutboxRow> Store::next_in_line(const std::string& notifier, const std::vector<std::int64_t>& sent) {
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

std::vector<std::string> Store::notifiers_with_pending() {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT DISTINCT notifier FROM outbox WHERE state = 'pending' ORDER BY notifier");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

std::size_t Store::abandon_pending(const std::string& notifier, const std::string& reason) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("UPDATE outbox SET state = 'dead', last_error = ?2 WHERE state = 'pending' AND notifier = ?1")
      .bind(1, notifier)
      .bind(2, reason)
      .run();
  return static_cast<std::size_t>(m_db.changes());
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::vector<OutboxRow> Store::notifications(std::optional<OutboxState> state) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached(std::string("SELECT ") + k_outbox_columns +
                        " FROM outbox WHERE ?1 = '' OR state = ?1 ORDER BY id");
  s.bind(1, std::string(state ? to_string(*state) : ""));
  std::vector<OutboxRow> out;
  while (s.step()) out.push_back(read_outbox(s));
  return out;
}

void Store::mark_delivered(std::int64_t id, TimePoint at) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_ms = ?2, last_error = '' "
               "WHERE id = ?1")
      .bind(1, id)
      .bind(2, to_unix_ms(at))
      .run();
} catch (const DatabaseError& e) {
  write_failed(e);
}

void Store::mark_retry(std::int64_t id, TimePoint next_attempt, const std::string& error) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3 WHERE id = ?1")
      .bind(1, id)
      .bind(2, to_unix_ms(next_attempt))
      .bind(3, error)
      .run();
} catch (const DatabaseError& e) {
  write_failed(e);
}

void Store::mark_dead(std::int64_t id, const std::string& error) try {
  std::lock_guard lock(m_mutex);
  m_db.cached("UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?2 WHERE id = ?1")
      .bind(1, id)
      .bind(2, error)
      .run();
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::size_t Store::prune(TimePoint cutoff) try {
  std::lock_guard lock(m_mutex);
  Transaction tx(m_db);
  std::size_t removed = 0;
  for (const char* sql : {"DELETE FROM samples WHERE ts_ms < ?1", "DELETE FROM probes WHERE ts_ms < ?1",
                          "DELETE FROM outbox WHERE state != 'pending' AND created_ms < ?1"}) {
    m_db.cached(sql).bind(1, to_unix_ms(cutoff)).run();
    removed += static_cast<std::size_t>(m_db.changes());
  }
  tx.commit();
  return removed;
} catch (const DatabaseError& e) {
  write_failed(e);
}

bool Store::writable() {
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
