#include "creditwatch/storage/postgres/postgres_store.hpp"

#include "connection.hpp"
#include "migrations.hpp"

#include "creditwatch/common/text.hpp"

#include <algorithm>

namespace creditwatch::storage {
namespace {

using postgres::Connection;
using postgres::Param;
using postgres::Result;

// PostgreSQL refuses NUL bytes and ill-formed UTF-8 in text, where SQLite would store them.
// What reaches the store has been cleaned where it entered; this keeps a miss from costing
// the row.
std::string text(const std::string& value) {
  if (valid_utf8(value) && value.find('\0') == std::string::npos) return value;
  return safe_text(value);
}

Param ms(TimePoint at) { return std::to_string(to_unix_ms(at)); }
Param number(std::int64_t value) { return std::to_string(value); }

// A text[] literal: {"a","b"} with quotes and backslashes escaped.
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : text(v)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string id_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (const auto id : ids) out += (out.size() > 1 ? "," : "") + std::to_string(id);
  return out + "}";
}

SampleRow read_sample(const Result& r, int row) {
  SampleRow s;
  s.account = r.text(row, 0);
  s.at = from_unix_ms(r.int64(row, 1));
  s.currency = r.text(row, 2);
  s.balance = Decimal::from_micros(r.int64(row, 3));
  if (!r.is_null(row, 4)) s.spend_total = Decimal::from_micros(r.int64(row, 4));
  s.details_json = r.text(row, 5);
  return s;
}

OutboxState parse_state(const std::string& value) {
  if (value == "delivered") return OutboxState::delivered;
  if (value == "dead") return OutboxState::dead;
  return OutboxState::pending;
}

OutboxRow read_outbox(const Result& r, int row) {
  OutboxRow o;
  o.id = r.int64(row, 0);
  o.created = from_unix_ms(r.int64(row, 1));
  o.notifier = r.text(row, 2);
  o.dedup_key = r.text(row, 3);
  o.payload_json = r.text(row, 4);
  o.attempts = static_cast<int>(r.int64(row, 5));
  o.next_attempt = from_unix_ms(r.int64(row, 6));
  o.state = parse_state(r.text(row, 7));
  o.last_error = r.text(row, 8);
  o.claimed_by = r.text(row, 9);
  o.claim_until = from_unix_ms(r.int64(row, 10));
  return o;
}

constexpr const char* k_sample_columns = "account, ts_ms, currency, balance_micros, spend_micros, details";
constexpr const char* k_outbox_columns =
    "id, created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error, claimed_by, "
    "claim_until_ms";

const std::vector<SampleRow> k_no_samples;

// Statements with one row of parameters per sample or probe, built for a batch's size:
// one round trip per table per group commit instead of one per row.
std::string multi_row_insert(const char* head, std::size_t rows, std::size_t columns) {
  std::string sql = head;
  int n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? " (" : ", (";
    for (std::size_t c = 0; c < columns; ++c) sql += (c == 0 ? "$" : ", $") + std::to_string(++n);
    sql += ')';
  }
  return sql;
}

}  // namespace

PostgresStore::PostgresStore(const std::string& url, std::size_t connections)
    : m_pool(std::make_unique<postgres::ConnectionPool>(postgres::conninfo_for(url), connections)),
      m_group_commit([this](const std::vector<ProbeWrite*>& writes) { commit_probe_writes(writes); }) {
  with_connection([](Connection& c) { postgres::apply_migrations(c); });
}

PostgresStore::~PostgresStore() = default;

template <typename Work>
auto PostgresStore::with_connection(Work&& work) -> decltype(work(std::declval<Connection&>())) {
  for (int attempt = 0;; ++attempt) {
    auto connection = m_pool->borrow();
    try {
      return work(*connection);
    } catch (const postgres::CommitOutcomeUnknown&) {
      throw;
    } catch (const DatabaseError&) {
      // A live connection means the statement itself failed: running it again would not help.
      if (connection->healthy() || attempt > 0) throw;
      // The server went away since this connection was last used (a restart): so did the
      // other idle ones, and the one more try must not land on one of them.
      m_pool->discard_idle();
    }
  }
}

template <typename Work>
auto PostgresStore::write(Work&& work) -> decltype(work(std::declval<Connection&>())) {
  try {
    if constexpr (std::is_void_v<decltype(work(std::declval<Connection&>()))>) {
      with_connection(work);
      std::lock_guard lock(m_write_error_mutex);
      m_write_error.clear();
    } else {
      auto result = with_connection(work);
      std::lock_guard lock(m_write_error_mutex);
      m_write_error.clear();
      return result;
    }
  } catch (const DatabaseError& e) {
    ++m_write_failures;
    std::lock_guard lock(m_write_error_mutex);
    m_write_error = e.what();
    throw;
  }
}

int PostgresStore::schema_version() {
  return with_connection([](Connection& c) { return postgres::schema_version(c); });
}

void PostgresStore::add_samples(const std::vector<SampleRow>& samples, const ProbeRow& probe) {
  ProbeWrite pending{&samples, &probe, nullptr};
  try {
    m_group_commit.write(pending);
  } catch (const DatabaseError& e) {
    // Counted here, once per failed call: a failed group is retried write by write, so
    // commit_probe_writes may fail twice for one call.
    ++m_write_failures;
    std::lock_guard lock(m_write_error_mutex);
    m_write_error = e.what();
    throw;
  }
}

void PostgresStore::add_probe(const ProbeRow& probe) { add_samples(k_no_samples, probe); }

void PostgresStore::commit_probe_writes(const std::vector<ProbeWrite*>& writes) {
  std::vector<Param> sample_params;
  std::vector<Param> probe_params;
  for (const auto* w : writes) {
    for (const auto& s : *w->samples) {
      sample_params.insert(sample_params.end(),
                           {text(s.account), ms(s.at), text(s.currency), number(s.balance.micros()),
                            s.spend_total ? number(s.spend_total->micros()) : Param(), text(s.details_json)});
    }
    const ProbeRow& p = *w->probe;
    probe_params.insert(probe_params.end(), {text(p.account), ms(p.at), text(p.outcome), number(p.http_status),
                                             std::to_string(p.latency_seconds), text(p.message)});
  }
  const auto sample_sql = multi_row_insert(
      "INSERT INTO samples (account, ts_ms, currency, balance_micros, spend_micros, details) VALUES",
      sample_params.size() / 6, 6);
  const auto probe_sql = multi_row_insert(
      "INSERT INTO probes (account, ts_ms, outcome, http_status, latency_seconds, message) VALUES", writes.size(), 6);
  with_connection([&](Connection& c) {
    postgres::Transaction tx(c);
    if (!sample_params.empty()) c.run_once(sample_sql, sample_params);
    c.run_once(probe_sql, probe_params);
    tx.commit();
  });
  std::lock_guard lock(m_write_error_mutex);  // a failure is recorded by its caller, add_samples
  m_write_error.clear();
}

std::vector<SampleRow> PostgresStore::samples(const std::string& account, TimePoint since, const std::string& currency,
                                              std::size_t limit) {
  auto rows = with_connection([&](Connection& c) {
    const auto r = c.run(std::string("SELECT ") + k_sample_columns +
                             " FROM samples WHERE account = $1 AND ts_ms >= $2 AND ($3 = '' OR currency = $3)"
                             " ORDER BY ts_ms DESC, id DESC LIMIT $4",
                         {text(account), ms(since), text(currency),
                          limit == k_no_limit ? Param() : number(static_cast<std::int64_t>(limit))});
    std::vector<SampleRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_sample(r, i));
    return out;
  });
  std::reverse(rows.begin(), rows.end());
  return rows;
}

std::optional<SampleRow> PostgresStore::latest_sample(const std::string& account, const std::string& currency) {
  return with_connection([&](Connection& c) -> std::optional<SampleRow> {
    const auto r = c.run(std::string("SELECT ") + k_sample_columns +
                             " FROM samples WHERE account = $1 AND ($2 = '' OR currency = $2)"
                             " ORDER BY ts_ms DESC, id DESC LIMIT 1",
                         {text(account), text(currency)});
    if (r.rows() == 0) return std::nullopt;
    return read_sample(r, 0);
  });
}

std::optional<ProbeRow> PostgresStore::latest_probe(const std::string& account) {
  return with_connection([&](Connection& c) -> std::optional<ProbeRow> {
    const auto r = c.run(
        "SELECT account, ts_ms, outcome, http_status, latency_seconds, message FROM probes WHERE account = $1 "
        "ORDER BY ts_ms DESC, id DESC LIMIT 1",
        {text(account)});
    if (r.rows() == 0) return std::nullopt;
    return ProbeRow{r.text(0, 0), from_unix_ms(r.int64(0, 1)), r.text(0, 2), static_cast<long>(r.int64(0, 3)),
                    r.real(0, 4), r.text(0, 5)};
  });
}

std::optional<TimePoint> PostgresStore::last_success(const std::string& account) {
  return with_connection([&](Connection& c) -> std::optional<TimePoint> {
    const auto r = c.run("SELECT MAX(ts_ms) FROM probes WHERE account = $1 AND outcome = 'ok'", {text(account)});
    if (r.rows() == 0 || r.is_null(0, 0)) return std::nullopt;
    return from_unix_ms(r.int64(0, 0));
  });
}

std::vector<AlertRow> PostgresStore::alerts(const std::string& account) {
  return with_connection([&](Connection& c) {
    const auto r = c.run(
        "SELECT account, rule, state, severity, since_ms, last_notified_ms, context FROM alerts "
        "WHERE $1 = '' OR account = $1 ORDER BY account, rule",
        {text(account)});
    std::vector<AlertRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(AlertRow{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), from_unix_ms(r.int64(i, 4)),
                             from_unix_ms(r.int64(i, 5)), r.text(i, 6)});
    }
    return out;
  });
}

void PostgresStore::save_alert(const AlertRow& alert, const std::vector<OutboxRow>& notifications,
                               const std::vector<std::string>& replace_pending) {
  write([&](Connection& c) {
    postgres::Transaction tx(c);
    for (const auto& n : notifications) {
      if (std::find(replace_pending.begin(), replace_pending.end(), n.notifier) == replace_pending.end()) continue;
      // A row a sender holds is on the wire: it stays, and the new state goes out after it.
      c.run("DELETE FROM outbox WHERE state = 'pending' AND notifier = $1 AND dedup_key = $2 AND NOT "
            "(claimed_by <> '' AND claim_until_ms >= $3)",
            {text(n.notifier), text(n.dedup_key), ms(n.created)});
    }
    c.run("INSERT INTO alerts (account, rule, state, severity, since_ms, last_notified_ms, context) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account, rule) DO UPDATE SET "
          "state = excluded.state, severity = excluded.severity, since_ms = excluded.since_ms, "
          "last_notified_ms = excluded.last_notified_ms, context = excluded.context",
          {text(alert.account), text(alert.rule), text(alert.state), text(alert.severity), ms(alert.since),
           ms(alert.last_notified), text(alert.context_json)});
    for (const auto& n : notifications) {
      c.run("INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, "
            "last_error) VALUES ($1, $2, $3, $4, 0, $5, 'pending', '')",
            {ms(n.created), text(n.notifier), text(n.dedup_key), text(n.payload_json), ms(n.next_attempt)});
    }
    tx.commit();
  });
}

bool PostgresStore::enqueue_refresh(const OutboxRow& n) {
  return write([&](Connection& c) {
    const auto r = c.run(
        "INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error) "
        "SELECT $1, $2, $3, $4, 0, $5, 'pending', '' WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' "
        "AND notifier = $2 AND dedup_key = $3)",
        {ms(n.created), text(n.notifier), text(n.dedup_key), text(n.payload_json), ms(n.next_attempt)});
    return r.affected() > 0;
  });
}

std::vector<OutboxRow> PostgresStore::due_notifications(TimePoint now, std::size_t limit,
                                                        const std::string& notifier) {
  return with_connection([&](Connection& c) {
    const auto r = c.run(std::string("SELECT ") + k_outbox_columns +
                             " FROM outbox o WHERE state = 'pending' AND next_attempt_ms <= $1 AND ($3 = '' OR "
                             "notifier = $3) AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND "
                             "p.notifier = o.notifier AND p.dedup_key = o.dedup_key AND p.id < o.id)"
                             " ORDER BY next_attempt_ms, id LIMIT $2",
                         {ms(now), number(static_cast<std::int64_t>(limit)), text(notifier)});
    std::vector<OutboxRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
    return out;
  });
}

std::vector<OutboxRow> PostgresStore::next_in_line(const std::string& notifier,
                                                   const std::vector<std::int64_t>& sent) {
  return with_connection([&](Connection& c) {
    const auto r = c.run(std::string("SELECT ") + k_outbox_columns +
                             " FROM outbox o WHERE state = 'pending' AND notifier = $1 AND NOT (id = ANY($2::bigint[]))"
                             " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.notifier = $1"
                             " AND p.dedup_key = o.dedup_key AND p.id < o.id AND NOT (p.id = ANY($2::bigint[])))"
                             " ORDER BY next_attempt_ms, id",
                         {text(notifier), id_array(sent)});
    std::vector<OutboxRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
    return out;
  });
}

Claim PostgresStore::claim_notification(std::int64_t id, const std::string& sender, TimePoint now, TimePoint until) {
  return write([&](Connection& c) {
    // The row lock (FOR UPDATE) makes two replicas claiming at once take turns; the second
    // then sees the first's unexpired claim and is refused.
    const auto r = c.run(
        "WITH current AS (SELECT id, claimed_by, claim_until_ms FROM outbox WHERE id = $1 AND state = 'pending' "
        "FOR UPDATE) UPDATE outbox o SET claimed_by = $2, claim_until_ms = $4 FROM current "
        "WHERE o.id = current.id AND (current.claimed_by = '' OR current.claimed_by = $2 OR "
        "current.claim_until_ms < $3) RETURNING current.claimed_by",
        {number(id), text(sender), ms(now), ms(until)});
    if (r.rows() == 0) return Claim::refused;
    const auto previous = r.text(0, 0);
    return previous.empty() || previous == sender ? Claim::taken : Claim::reclaimed;
  });
}

std::vector<std::string> PostgresStore::notifiers_with_pending() {
  return with_connection([&](Connection& c) {
    const auto r = c.run("SELECT DISTINCT notifier FROM outbox WHERE state = 'pending' ORDER BY notifier");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
  });
}

std::size_t PostgresStore::abandon_pending(const std::string& notifier, const std::string& reason) {
  return write([&](Connection& c) {
    const auto r = c.run(
        "UPDATE outbox SET state = 'dead', last_error = $2, claimed_by = '' WHERE state = 'pending' AND notifier = $1",
        {text(notifier), text(reason)});
    return static_cast<std::size_t>(r.affected());
  });
}

std::vector<OutboxRow> PostgresStore::notifications(std::optional<OutboxState> state) {
  return with_connection([&](Connection& c) {
    const auto r = c.run(std::string("SELECT ") + k_outbox_columns + " FROM outbox WHERE $1 = '' OR state = $1 ORDER BY id",
                         {std::string(state ? to_string(*state) : "")});
    std::vector<OutboxRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
    return out;
  });
}

void PostgresStore::mark_delivered(std::int64_t id, TimePoint at) {
  write([&](Connection& c) {
    c.run("UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_ms = $2, last_error = '', "
          "claimed_by = '' WHERE id = $1",
          {number(id), ms(at)});
  });
}

void PostgresStore::mark_retry(std::int64_t id, TimePoint next_attempt, const std::string& error) {
  write([&](Connection& c) {
    c.run("UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = $2, last_error = $3, claimed_by = '' "
          "WHERE id = $1",
          {number(id), ms(next_attempt), text(error)});
  });
}

void PostgresStore::mark_dead(std::int64_t id, const std::string& error) {
  write([&](Connection& c) {
    c.run("UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = $2, claimed_by = '' WHERE id = $1",
          {number(id), text(error)});
  });
}

void PostgresStore::announce_replica(const std::string& replica, TimePoint started, TimePoint now) {
  write([&](Connection& c) {
    c.run("INSERT INTO replicas (id, started_ms, last_seen_ms) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE "
          "SET started_ms = excluded.started_ms, last_seen_ms = excluded.last_seen_ms",
          {text(replica), ms(started), ms(now)});
  });
}

void PostgresStore::leave_cluster(const std::string& replica) {
  write([&](Connection& c) {
    postgres::Transaction tx(c);
    c.run("DELETE FROM leases WHERE owner = $1", {text(replica)});
    c.run("DELETE FROM replicas WHERE id = $1", {text(replica)});
    tx.commit();
  });
}

std::vector<ReplicaRow> PostgresStore::replicas(TimePoint now) {
  return with_connection([&](Connection& c) {
    const auto r = c.run(
        "SELECT r.id, r.started_ms, r.last_seen_ms, (SELECT COUNT(*) FROM leases l WHERE l.owner = r.id AND "
        "l.expires_ms >= $1) FROM replicas r ORDER BY r.id",
        {ms(now)});
    std::vector<ReplicaRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(ReplicaRow{r.text(i, 0), from_unix_ms(r.int64(i, 1)), from_unix_ms(r.int64(i, 2)),
                               static_cast<std::size_t>(r.int64(i, 3))});
    }
    return out;
  });
}

std::vector<std::string> PostgresStore::claim_leases(const std::string& replica,
                                                     const std::vector<std::string>& accounts, TimePoint now,
                                                     TimePoint expires) {
  if (accounts.empty()) return {};
  // Sorted, so two replicas claiming overlapping sets lock rows in the same order and can
  // never deadlock.
  auto sorted = accounts;
  std::sort(sorted.begin(), sorted.end());
  // One statement may not update a row twice: an account named twice is claimed once.
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return write([&](Connection& c) {
    const auto r = c.run(
        "INSERT INTO leases (account, owner, expires_ms) SELECT a, $2, $4 FROM unnest($1::text[]) AS a "
        "ON CONFLICT (account) DO UPDATE SET owner = excluded.owner, expires_ms = excluded.expires_ms "
        "WHERE leases.owner = excluded.owner OR leases.expires_ms < $3 RETURNING account",
        {text_array(sorted), text(replica), ms(now), ms(expires)});
    std::vector<std::string> held;
    for (int i = 0; i < r.rows(); ++i) held.push_back(r.text(i, 0));
    std::sort(held.begin(), held.end());
    return held;
  });
}

void PostgresStore::release_leases(const std::string& replica, const std::vector<std::string>& accounts) {
  if (accounts.empty()) return;
  write([&](Connection& c) {
    c.run("DELETE FROM leases WHERE owner = $1 AND account = ANY($2::text[])", {text(replica), text_array(accounts)});
  });
}

std::vector<LeaseRow> PostgresStore::leases() {
  return with_connection([&](Connection& c) {
    const auto r = c.run("SELECT account, owner, expires_ms FROM leases ORDER BY account");
    std::vector<LeaseRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(LeaseRow{r.text(i, 0), r.text(i, 1), from_unix_ms(r.int64(i, 2))});
    return out;
  });
}

std::size_t PostgresStore::prune(TimePoint cutoff) {
  return write([&](Connection& c) {
    postgres::Transaction tx(c);
    std::size_t removed = 0;
    for (const char* sql : {"DELETE FROM samples WHERE ts_ms < $1", "DELETE FROM probes WHERE ts_ms < $1",
                            "DELETE FROM outbox WHERE state != 'pending' AND created_ms < $1",
                            "DELETE FROM replicas WHERE last_seen_ms < $1"}) {
      removed += static_cast<std::size_t>(c.run(sql, {ms(cutoff)}).affected());
    }
    tx.commit();
    return removed;
  });
}

bool PostgresStore::writable() {
  try {
    with_connection([](Connection& c) { c.run("UPDATE meta SET value = value WHERE key = 'heartbeat'"); });
    return true;
  } catch (const DatabaseError&) {
    return false;
  }
}

std::optional<std::string> PostgresStore::write_error() {
  std::lock_guard lock(m_write_error_mutex);
  return m_write_error.empty() ? std::nullopt : std::optional<std::string>(m_write_error);
}

}  // namespace creditwatch::storage
