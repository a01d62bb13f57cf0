#include "creditwatch/storage/postgres/postgres_store.hpp"

#include "array_literal.hpp"
#include "bytea.hpp"
#include "connection.hpp"
#include "migrations.hpp"
#include "name_ids.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/storage/rollup.hpp"
#include "creditwatch/storage/run_rule.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

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

constexpr const char* k_outbox_columns =
    "id, created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error, claimed_by, "
    "claim_until_ms";

const std::vector<SampleRow> k_no_samples;

// A successful probe is counted, not stored: read back, it is "ok" with HTTP 200.
constexpr const char* k_ok_outcome = "ok";
constexpr long k_ok_status = 200;

// Any number, other than the migrations' lock; the same for every creditwatch.
constexpr const char* k_prune_lock = "SELECT pg_try_advisory_xact_lock(7264384)";

// One account's readings in one currency.
struct RunKey {
  std::int64_t account = 0;
  std::int64_t currency = 0;
  bool operator<(const RunKey& other) const {
    return account != other.account ? account < other.account : currency < other.currency;
  }
  bool operator!=(const RunKey& other) const { return account != other.account || currency != other.currency; }
};

// The latest run of a key, in full (heads).
struct Head {
  RunHead run;
  std::string details;
};

// One parameter per column: the arrays a prepared ... unnest($1::bigint[], ...) reads.
template <std::size_t N>
std::vector<Param> params(std::array<postgres::ArrayLiteral, N>& columns) {
  std::vector<Param> out;
  out.reserve(N);
  for (auto& column : columns) {
    out.emplace_back(column.finish());
    column.clear();
  }
  return out;
}

Param optional_number(const std::optional<std::int64_t>& value) {
  return value ? Param(std::to_string(*value)) : std::nullopt;
}

// The shortest text that reads back as the same double.
std::string exact_real(double value) {
  std::array<char, 32> buffer{};
  const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
  return std::string(buffer.data(), end);
}

// A run on its way into readings.
struct NewRun {
  std::int64_t held = 0;
  std::int64_t balance = 0;
  std::optional<std::int64_t> spend;
  std::optional<std::string> details;  // nullopt: the same as the run before it
};

using NewRuns = std::map<std::pair<RunKey, std::int64_t>, NewRun>;  // by key and from_ms

void add_runs(std::array<postgres::ArrayLiteral, 7>& rows, const NewRuns& runs) {
  for (const auto& [run, r] : runs) {
    rows[0].add_number(run.first.account);
    rows[1].add_number(run.first.currency);
    rows[2].add_number(run.second);
    rows[3].add_number(r.held);
    rows[4].add_number(r.balance);
    rows[5].add(optional_number(r.spend));
    rows[6].add(r.details);
  }
}

void write_probe_outcomes(Connection& c, const std::vector<ProbeWrite*>& writes,
                          const std::unordered_map<std::string, std::int64_t>& account_ids) {
  // Successes are counted per account (the latest one kept), failures kept one row each.
  struct Counts {
    std::int64_t ok = 0;
    std::int64_t failed = 0;
    std::int64_t last_ok_ms = 0;
    double last_ok_latency = 0;
  };
  std::map<std::int64_t, Counts> counts;  // by id: rows are locked in one order by every writer
  std::array<postgres::ArrayLiteral, 6> failures;
  for (const auto* w : writes) {
    const ProbeRow& p = *w->probe;
    const auto id = account_ids.at(text(p.account));
    auto& n = counts[id];
    if (p.outcome == k_ok_outcome) {
      ++n.ok;
      if (n.ok == 1 || to_unix_ms(p.at) >= n.last_ok_ms) {
        n.last_ok_ms = to_unix_ms(p.at);
        n.last_ok_latency = p.latency_seconds;
      }
    } else {
      ++n.failed;
      failures[0].add_number(id);
      failures[1].add_number(to_unix_ms(p.at));
      failures[2].add(text(p.outcome));
      failures[3].add_number(p.http_status);
      failures[4].add(exact_real(p.latency_seconds));
      failures[5].add(text(p.message));
    }
  }
  if (!failures[0].empty()) {
    c.run("INSERT INTO failures (account_id, ts_ms, outcome, http_status, latency_seconds, message) "
          "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::float8[], $6::text[])",
          params(failures));
  }
  std::array<postgres::ArrayLiteral, 5> updates;
  for (const auto& [id, n] : counts) {
    updates[0].add_number(id);
    updates[1].add_number(n.ok);
    updates[2].add_number(n.failed);
    updates[3].add_number(n.last_ok_ms);
    updates[4].add(exact_real(n.last_ok_latency));
  }
  // A success older than the one recorded (a late `check`) is counted but moves nothing.
  c.run("UPDATE accounts a SET ok_probes = a.ok_probes + v.ok, failed_probes = a.failed_probes + v.failed, "
        "last_ok_ms = CASE WHEN v.ok > 0 AND v.last_ok_ms >= a.last_ok_ms THEN v.last_ok_ms ELSE a.last_ok_ms END, "
        "last_ok_latency = CASE WHEN v.ok > 0 AND v.last_ok_ms >= a.last_ok_ms THEN v.latency ELSE a.last_ok_latency "
        "END FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[]) AS v(id, ok, failed, "
        "last_ok_ms, latency) WHERE a.id = v.id",
        params(updates));
}

// Whether a stored run covers `at_ms` (it started at or before and was read until at least
// then): a late reading there is dropped, as the SQLite store drops it.
bool covered(Connection& c, const RunKey& key, std::int64_t at_ms) {
  const auto r = c.run(
      "SELECT from_ms + held_ms >= $3 FROM readings WHERE account_id = $1 AND currency_id = $2 AND from_ms <= $3 "
      "ORDER BY from_ms DESC LIMIT 1",
      {number(key.account), number(key.currency), number(at_ms)});
  return r.rows() > 0 && r.text(0, 0) == "t";
}

void write_readings(Connection& c, const std::vector<ProbeWrite*>& writes,
                    const std::unordered_map<std::string, std::int64_t>& account_ids,
                    const std::unordered_map<std::string, std::int64_t>& currency_ids) {
  std::map<RunKey, std::optional<Head>> heads;
  for (const auto* w : writes) {
    for (const auto& s : *w->samples) heads[{account_ids.at(text(s.account)), currency_ids.at(text(s.currency))}];
  }
  if (heads.empty()) return;
  // The heads as they are now, locked until the commit: another replica (an account that
  // moved) or `creditwatch check` may have written one since this process last did, so none
  // is taken from memory, and none can change between this read and the writes below.
  {
    std::array<postgres::ArrayLiteral, 2> keys;
    for (const auto& [key, head] : heads) {
      keys[0].add_number(key.account);
      keys[1].add_number(key.currency);
    }
    const auto r = c.run(
        "SELECT h.account_id, h.currency_id, h.from_ms, h.seen_ms, h.anchor_ms, h.balance_micros, h.spend_micros, "
        "h.details FROM heads h JOIN unnest($1::bigint[], $2::bigint[]) AS k(account_id, currency_id) "
        "ON h.account_id = k.account_id AND h.currency_id = k.currency_id "
        "ORDER BY h.account_id, h.currency_id FOR UPDATE OF h",
        params(keys));
    for (int i = 0; i < r.rows(); ++i) {
      heads[{r.int64(i, 0), r.int64(i, 1)}] =
          Head{RunHead{r.int64(i, 2), r.int64(i, 3), r.int64(i, 4), Decimal::from_micros(r.int64(i, 5)),
                       r.is_null(i, 6) ? std::nullopt : std::optional<Decimal>(Decimal::from_micros(r.int64(i, 6)))},
               r.text(i, 7)};
    }
  }

  // Runs to insert, and held_ms of stored runs that unchanged readings extend; both by (key,
  // from_ms), so a run started and extended in this one batch is inserted once, extended.
  NewRuns inserts;
  std::map<std::pair<RunKey, std::int64_t>, std::int64_t> extensions;
  std::set<RunKey> changed_heads;
  NewRuns late_runs;  // late readings between stored runs: their own runs, details in full
  for (const auto* w : writes) {
    for (const auto& s : *w->samples) {
      const RunKey key{account_ids.at(text(s.account)), currency_ids.at(text(s.currency))};
      const auto at = to_unix_ms(s.at);
      auto details = text(s.details_json);
      auto& head = heads[key];
      const auto head_run = head ? std::optional<RunHead>(head->run) : std::nullopt;
      const RunDecision next = next_run_step(head_run, at, s.balance, s.spend_total, head && head->details == details);
      const auto spend = s.spend_total ? std::optional<std::int64_t>(s.spend_total->micros()) : std::nullopt;
      switch (next.step) {
        case RunStep::extend: {
          head->run.seen_ms = at;
          changed_heads.insert(key);
          const std::pair run{key, head->run.from_ms};
          if (const auto pending = inserts.find(run); pending != inserts.end()) {
            pending->second.held = at - run.second;
          } else {
            extensions[run] = at - run.second;
          }
          continue;
        }
        case RunStep::late: {
          // Within a run (stored, or started in this batch) it is dropped: the same figures are
          // there already, or different ones came in out of order, which the forecaster would
          // ignore too. Runs never overlap.
          const auto pending = inserts.upper_bound({key, at});
          if (pending != inserts.begin()) {
            const auto& [run, r] = *std::prev(pending);
            if (run.first.account == key.account && run.first.currency == key.currency && run.second + r.held >= at) {
              continue;
            }
          }
          if (late_runs.count({key, at}) != 0 || covered(c, key, at)) continue;
          late_runs.emplace(std::pair{key, at}, NewRun{0, s.balance.micros(), spend, details});
          continue;
        }
        case RunStep::start:
          break;
      }
      inserts[{key, at}] =
          NewRun{0, s.balance.micros(), spend, next.full_details ? std::optional<std::string>(details) : std::nullopt};
      head = Head{RunHead{at, at, next.anchor_ms, s.balance, s.spend_total}, std::move(details)};
      changed_heads.insert(key);
    }
  }

  for (const auto& [run, late] : late_runs) {
    // Between two runs: the one after it may have left its details to the run before ("as
    // the run before"), which this one becomes: it gets them in full first.
    c.run("UPDATE readings n SET details = (SELECT p.details FROM readings p WHERE p.account_id = n.account_id AND "
          "p.currency_id = n.currency_id AND p.from_ms < n.from_ms AND p.details IS NOT NULL ORDER BY p.from_ms DESC "
          "LIMIT 1) WHERE n.account_id = $1 AND n.currency_id = $2 AND n.details IS NULL AND n.from_ms = (SELECT "
          "min(from_ms) FROM readings WHERE account_id = $1 AND currency_id = $2 AND from_ms > $3)",
          {number(run.first.account), number(run.first.currency), number(run.second)});
  }
  const char* k_insert_runs =
      "INSERT INTO readings (account_id, currency_id, from_ms, held_ms, balance_micros, spend_micros, details) "
      "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], "
      "$7::text[])";
  std::array<postgres::ArrayLiteral, 7> rows;
  add_runs(rows, late_runs);
  add_runs(rows, inserts);
  if (!rows[0].empty()) c.run(k_insert_runs, params(rows));
  if (!extensions.empty()) {
    std::array<postgres::ArrayLiteral, 4> held;
    for (const auto& [run, ms_held] : extensions) {
      held[0].add_number(run.first.account);
      held[1].add_number(run.first.currency);
      held[2].add_number(run.second);
      held[3].add_number(ms_held);
    }
    c.run("UPDATE readings r SET held_ms = v.held_ms FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
          "$4::bigint[]) AS v(account_id, currency_id, from_ms, held_ms) WHERE r.account_id = v.account_id AND "
          "r.currency_id = v.currency_id AND r.from_ms = v.from_ms",
          params(held));
  }
  if (!changed_heads.empty()) {
    std::array<postgres::ArrayLiteral, 8> changed;
    for (const auto& key : changed_heads) {
      const auto& head = *heads.at(key);
      changed[0].add_number(key.account);
      changed[1].add_number(key.currency);
      changed[2].add_number(head.run.from_ms);
      changed[3].add_number(head.run.seen_ms);
      changed[4].add_number(head.run.anchor_ms);
      changed[5].add_number(head.run.balance.micros());
      changed[6].add(optional_number(head.run.spend_total ? std::optional<std::int64_t>(head.run.spend_total->micros())
                                                          : std::nullopt));
      changed[7].add(head.details);
    }
    c.run("INSERT INTO heads (account_id, currency_id, from_ms, seen_ms, anchor_ms, balance_micros, spend_micros, "
          "details) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], "
          "$6::bigint[], $7::bigint[], $8::text[]) ON CONFLICT (account_id, currency_id) DO UPDATE SET from_ms = "
          "excluded.from_ms, seen_ms = excluded.seen_ms, anchor_ms = excluded.anchor_ms, balance_micros = "
          "excluded.balance_micros, spend_micros = excluded.spend_micros, details = excluded.details",
          params(changed));
  }
}

// Rolls up to `limit` runs that ended before `cutoff` into their hours' rollups and deletes
// them, as SqliteStore::prune_runs does: per account and currency the oldest first, up to the
// first one still being read at the cutoff. The run before them is gone; the latest hour
// rolled up keeps its balance (not its spend counter: the change into the first run is judged
// by the balance alone), and an hour begun in an earlier call is merged into. Hours before
// `rollup_cutoff_ms` are past keeping and not written. Returns the runs deleted.
std::size_t roll_up_old_runs(Connection& c, std::int64_t cutoff_ms, std::int64_t rollup_cutoff_ms, const Param& limit) {
  const auto runs = c.run(
      "SELECT r.account_id, r.currency_id, r.from_ms, r.held_ms, r.balance_micros, r.spend_micros, r.details "
      "FROM heads h CROSS JOIN LATERAL (SELECT * FROM readings r WHERE r.account_id = h.account_id AND "
      "r.currency_id = h.currency_id AND r.from_ms + r.held_ms < $1 ORDER BY r.from_ms LIMIT $2) r "
      // Only runs that ended before the cutoff: runs never overlap, so these are exactly the
      // prunable ones, and a run still being read cannot fill the batch and stall every
      // account after the first `limit` (the caller stops at a short batch).
      "ORDER BY r.account_id, r.currency_id, r.from_ms LIMIT $2",
      {number(cutoff_ms), limit});
  if (runs.rows() == 0) return 0;
  // The runs of each account and currency, oldest first, details carried forward (the oldest
  // run left always has them in full: see below).
  struct Old {
    std::vector<SampleRow> runs;
    std::string details;
    bool ended = true;  // no run still being read at the cutoff came before
  };
  std::map<RunKey, Old> by_key;
  for (int i = 0; i < runs.rows(); ++i) {
    auto& old = by_key[{runs.int64(i, 0), runs.int64(i, 1)}];
    const auto from = runs.int64(i, 2);
    const auto held = runs.int64(i, 3);
    if (!old.ended || from + held >= cutoff_ms) {
      old.ended = false;  // still being read at the cutoff: it and what follows are kept
      continue;
    }
    if (!runs.is_null(i, 6)) old.details = runs.text(i, 6);
    SampleRow s;
    s.at = from_unix_ms(from);
    s.seen_until = from_unix_ms(from + held);
    s.balance = Decimal::from_micros(runs.int64(i, 4));
    if (!runs.is_null(i, 5)) s.spend_total = Decimal::from_micros(runs.int64(i, 5));
    old.runs.push_back(std::move(s));
  }
  std::erase_if(by_key, [](const auto& entry) { return entry.second.runs.empty(); });
  if (by_key.empty()) return 0;
  for (auto& [key, old] : by_key) {
    std::sort(old.runs.begin(), old.runs.end(), [](const SampleRow& a, const SampleRow& b) { return a.at < b.at; });
  }

  // The latest rollup of each key: the balance before its first run.
  std::map<RunKey, std::int64_t> close_before;
  {
    std::array<postgres::ArrayLiteral, 2> keys;
    for (const auto& [key, old] : by_key) {
      keys[0].add_number(key.account);
      keys[1].add_number(key.currency);
    }
    const auto r = c.run(
        "SELECT k.account_id, k.currency_id, p.close_micros FROM unnest($1::bigint[], $2::bigint[]) AS "
        "k(account_id, currency_id) CROSS JOIN LATERAL (SELECT close_micros FROM rollups WHERE account_id = "
        "k.account_id AND currency_id = k.currency_id ORDER BY hour_ms DESC LIMIT 1) p",
        params(keys));
    for (int i = 0; i < r.rows(); ++i) close_before[{r.int64(i, 0), r.int64(i, 1)}] = r.int64(i, 2);
  }

  std::array<postgres::ArrayLiteral, 9> hours;
  std::array<postgres::ArrayLiteral, 4> gone;  // per key: up to which run, and the details left
  for (const auto& [key, old] : by_key) {
    std::optional<SampleRow> previous;
    if (const auto found = close_before.find(key); found != close_before.end()) {
      previous = SampleRow{};
      previous->balance = Decimal::from_micros(found->second);
    }
    for (const auto& row : roll_up(old.runs, previous)) {
      if (to_unix_ms(row.hour) < rollup_cutoff_ms) continue;
      hours[0].add_number(key.account);
      hours[1].add_number(key.currency);
      hours[2].add_number(to_unix_ms(row.hour));
      hours[3].add_number(row.open.micros());
      hours[4].add_number(row.close.micros());
      hours[5].add_number(row.low.micros());
      hours[6].add_number(row.spend.micros());
      hours[7].add_number(row.deposits.micros());
      hours[8].add_number(row.readings);
    }
    gone[0].add_number(key.account);
    gone[1].add_number(key.currency);
    gone[2].add_number(to_unix_ms(old.runs.back().at));
    gone[3].add(old.details);
  }
  // An hour begun in an earlier call keeps its open and adds the rest (merge_rollup).
  if (!hours[0].empty()) {
    c.run("INSERT INTO rollups (account_id, currency_id, hour_ms, open_micros, close_micros, low_micros, "
          "spend_micros, deposits_micros, readings) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
          "$4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[]) "
          "ON CONFLICT (account_id, currency_id, hour_ms) DO UPDATE SET close_micros = excluded.close_micros, "
          "low_micros = LEAST(rollups.low_micros, excluded.low_micros), spend_micros = rollups.spend_micros + "
          "excluded.spend_micros, deposits_micros = rollups.deposits_micros + excluded.deposits_micros, "
          "readings = rollups.readings + excluded.readings",
          params(hours));
  }
  const auto keys = params(gone);
  const auto deleted = c.run(
      "DELETE FROM readings r USING unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(account_id, currency_id, "
      "last_ms) WHERE r.account_id = v.account_id AND r.currency_id = v.currency_id AND r.from_ms <= v.last_ms",
      {keys[0], keys[1], keys[2]});
  // The oldest run left may have left its details to the ones just deleted.
  c.run("UPDATE readings n SET details = v.details FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS "
        "v(account_id, currency_id, details) WHERE n.account_id = v.account_id AND n.currency_id = v.currency_id AND "
        "n.details IS NULL AND n.from_ms = (SELECT min(from_ms) FROM readings WHERE account_id = v.account_id AND "
        "currency_id = v.currency_id)",
        {keys[0], keys[1], keys[3]});
  // A head whose run is gone (nothing read since the cutoff) goes too: the next reading
  // starts afresh instead of extending a run that no longer exists.
  c.run("DELETE FROM heads h USING unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(account_id, currency_id, "
        "last_ms) WHERE h.account_id = v.account_id AND h.currency_id = v.currency_id AND h.from_ms <= v.last_ms",
        {keys[0], keys[1], keys[2]});
  return static_cast<std::size_t>(deleted.affected());
}

}  // namespace

PostgresStore::PostgresStore(const std::string& url, std::size_t connections)
    : m_pool(std::make_unique<postgres::ConnectionPool>(postgres::conninfo_for(url), connections)),
      m_account_ids(std::make_unique<postgres::NameIds>("accounts", "name")),
      m_currency_ids(std::make_unique<postgres::NameIds>("currencies", "code")),
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

// One group's probes in one transaction and a handful of statements, whatever its size: the
// heads read (and locked) in one SELECT, new runs in one INSERT, extended runs in one UPDATE,
// changed heads in one upsert, failures in one INSERT and the accounts' counters in one UPDATE.
void PostgresStore::commit_probe_writes(const std::vector<ProbeWrite*>& writes) {
  std::vector<std::string> account_names;
  std::vector<std::string> currency_codes;
  for (const auto* w : writes) {
    account_names.push_back(text(w->probe->account));
    for (const auto& s : *w->samples) {
      account_names.push_back(text(s.account));
      currency_codes.push_back(text(s.currency));
    }
  }
  with_connection([&](Connection& c) {
    // Outside the transaction: ids once committed stay valid whatever this one does.
    const auto account_ids = m_account_ids->ids(c, account_names);
    const auto currency_ids = m_currency_ids->ids(c, currency_codes);
    postgres::Transaction tx(c);
    write_probe_outcomes(c, writes, account_ids);
    write_readings(c, writes, account_ids, currency_ids);
    tx.commit();
  });
  std::lock_guard lock(m_write_error_mutex);  // a failure is recorded by its caller, add_samples
  m_write_error.clear();
}

std::vector<SampleRow> PostgresStore::samples(const std::string& account, TimePoint since, const std::string& currency,
                                              std::size_t limit) {
  return with_connection([&](Connection& c) {
    // Runs are shorter than k_longest_run: the run holding at `since` started at most that
    // long before it, which bounds the index range scanned.
    const auto longest_ms = std::chrono::duration_cast<std::chrono::milliseconds>(k_longest_run).count();
    const auto r = c.run(
        "SELECT r.account_id, r.currency_id, c.code, r.from_ms, r.held_ms, r.balance_micros, r.spend_micros, r.details "
        "FROM readings r JOIN accounts a ON a.id = r.account_id JOIN currencies c ON c.id = r.currency_id "
        "WHERE a.name = $1 AND ($2 = '' OR c.code = $2) AND r.from_ms >= $3::bigint - $5::bigint AND "
        "r.from_ms + r.held_ms >= $3::bigint ORDER BY r.from_ms DESC, r.currency_id DESC LIMIT $4",
        {text(account), text(currency), ms(since), limit == k_no_limit ? Param() : number(static_cast<std::int64_t>(limit)),
         number(longest_ms)});
    std::vector<SampleRow> out(static_cast<std::size_t>(r.rows()));
    // Oldest first; NULL details are the previous run's, of the same currency: carried
    // forward through the rows, and looked up before the first one.
    std::map<std::int64_t, std::string> details_of;  // by currency id
    for (int i = r.rows() - 1, o = 0; i >= 0; --i, ++o) {
      SampleRow& s = out[static_cast<std::size_t>(o)];
      s.account = account;
      const auto currency_id = r.int64(i, 1);
      s.currency = r.text(i, 2);
      const auto from = r.int64(i, 3);
      s.at = from_unix_ms(from);
      s.seen_until = from_unix_ms(from + r.int64(i, 4));
      s.balance = Decimal::from_micros(r.int64(i, 5));
      if (!r.is_null(i, 6)) s.spend_total = Decimal::from_micros(r.int64(i, 6));
      if (!r.is_null(i, 7)) {
        s.details_json = r.text(i, 7);
        details_of[currency_id] = s.details_json;
        continue;
      }
      auto known = details_of.find(currency_id);
      if (known == details_of.end()) {
        const auto before = c.run(
            "SELECT details FROM readings WHERE account_id = $1 AND currency_id = $2 AND from_ms < $3 AND details IS "
            "NOT NULL ORDER BY from_ms DESC LIMIT 1",
            {number(r.int64(i, 0)), number(currency_id), number(from)});
        known = details_of.emplace(currency_id, before.rows() == 0 ? std::string() : before.text(0, 0)).first;
      }
      s.details_json = known->second;
    }
    return out;
  });
}

std::optional<SampleRow> PostgresStore::latest_sample(const std::string& account, const std::string& currency) {
  return with_connection([&](Connection& c) -> std::optional<SampleRow> {
    const auto r = c.run(
        "SELECT c.code, h.from_ms, h.seen_ms, h.balance_micros, h.spend_micros, h.details FROM heads h "
        "JOIN accounts a ON a.id = h.account_id JOIN currencies c ON c.id = h.currency_id "
        "WHERE a.name = $1 AND ($2 = '' OR c.code = $2) ORDER BY h.seen_ms DESC, h.currency_id DESC LIMIT 1",
        {text(account), text(currency)});
    if (r.rows() == 0) return std::nullopt;
    SampleRow s;
    s.account = account;
    s.currency = r.text(0, 0);
    s.at = from_unix_ms(r.int64(0, 1));
    s.seen_until = from_unix_ms(r.int64(0, 2));
    s.balance = Decimal::from_micros(r.int64(0, 3));
    if (!r.is_null(0, 4)) s.spend_total = Decimal::from_micros(r.int64(0, 4));
    s.details_json = r.text(0, 5);
    return s;
  });
}

std::optional<ProbeRow> PostgresStore::latest_probe(const std::string& account) {
  return with_connection([&](Connection& c) -> std::optional<ProbeRow> {
    const auto r = c.run(
        "SELECT a.last_ok_ms, a.last_ok_latency, f.ts_ms, f.outcome, f.http_status, f.latency_seconds, f.message "
        "FROM accounts a LEFT JOIN LATERAL (SELECT ts_ms, outcome, http_status, latency_seconds, message FROM "
        "failures WHERE account_id = a.id ORDER BY ts_ms DESC, id DESC LIMIT 1) f ON true WHERE a.name = $1",
        {text(account)});
    if (r.rows() == 0) return std::nullopt;
    const auto last_ok = r.int64(0, 0);
    const bool failed = !r.is_null(0, 2);
    // A success at the same instant as a failure is the later one (as SqliteStore has it).
    if (failed && r.int64(0, 2) > last_ok) {
      return ProbeRow{account, from_unix_ms(r.int64(0, 2)), r.text(0, 3), static_cast<long>(r.int64(0, 4)),
                      r.real(0, 5), r.text(0, 6)};
    }
    if (last_ok == 0) return std::nullopt;
    return ProbeRow{account, from_unix_ms(last_ok), k_ok_outcome, k_ok_status, r.real(0, 1), ""};
  });
}

std::optional<TimePoint> PostgresStore::last_success(const std::string& account) {
  return with_connection([&](Connection& c) -> std::optional<TimePoint> {
    const auto r = c.run("SELECT last_ok_ms FROM accounts WHERE name = $1 AND last_ok_ms <> 0", {text(account)});
    if (r.rows() == 0) return std::nullopt;
    return from_unix_ms(r.int64(0, 0));
  });
}

std::vector<LatestProbes> PostgresStore::latest_probes(const std::vector<std::string>& requested) {
  // Each account once, also when it is named again in a later batch.
  std::vector<std::string> accounts;
  std::unordered_set<std::string> seen;
  for (const auto& name : requested) {
    if (seen.insert(name).second) accounts.push_back(name);
  }
  // A batch of names per statement, so no one statement's array or answer grows without bound.
  constexpr std::size_t k_names_per_query = 1000;
  std::vector<LatestProbes> out;
  for (std::size_t first = 0; first < accounts.size(); first += k_names_per_query) {
    const auto end = std::min(accounts.size(), first + k_names_per_query);
    const std::vector<std::string> names(accounts.begin() + static_cast<std::ptrdiff_t>(first),
                                         accounts.begin() + static_cast<std::ptrdiff_t>(end));
    auto batch = with_connection([&](Connection& c) {
      std::vector<LatestProbes> found;
      const auto r = c.run(
          "SELECT a.name, a.last_ok_ms, a.last_ok_latency, f.ts_ms, f.outcome, f.http_status, f.latency_seconds, "
          "f.message FROM accounts a LEFT JOIN LATERAL (SELECT ts_ms, outcome, http_status, latency_seconds, message "
          "FROM failures WHERE account_id = a.id ORDER BY ts_ms DESC, id DESC LIMIT 1) f ON true "
          "WHERE a.name = ANY($1::text[])",
          {text_array(names)});
      for (int i = 0; i < r.rows(); ++i) {
        LatestProbes row{r.text(i, 0), std::nullopt, std::nullopt};
        const auto last_ok = r.int64(i, 1);
        if (last_ok != 0) row.last_success = from_unix_ms(last_ok);
        // As latest_probe(): a success at the same instant as a failure is the later one.
        if (!r.is_null(i, 3) && r.int64(i, 3) > last_ok) {
          row.latest = ProbeRow{row.account, from_unix_ms(r.int64(i, 3)), r.text(i, 4),
                                static_cast<long>(r.int64(i, 5)), r.real(i, 6), r.text(i, 7)};
        } else if (last_ok != 0) {
          row.latest = ProbeRow{row.account, from_unix_ms(last_ok), k_ok_outcome, k_ok_status, r.real(i, 2), ""};
        }
        found.push_back(std::move(row));
      }
      return found;
    });
    std::move(batch.begin(), batch.end(), std::back_inserter(out));
  }
  return out;
}

ProbeCounts PostgresStore::probe_counts(const std::string& account) {
  return with_connection([&](Connection& c) {
    const auto r = c.run("SELECT ok_probes, failed_probes FROM accounts WHERE name = $1", {text(account)});
    if (r.rows() == 0) return ProbeCounts{};
    return ProbeCounts{static_cast<std::uint64_t>(r.int64(0, 0)), static_cast<std::uint64_t>(r.int64(0, 1))};
  });
}

std::vector<RollupRow> PostgresStore::rollups(const std::string& account, const std::string& currency, TimePoint from,
                                              TimePoint to) {
  return with_connection([&](Connection& c) {
    const auto r = c.run(
        "SELECT r.hour_ms, r.open_micros, r.close_micros, r.low_micros, r.spend_micros, r.deposits_micros, r.readings "
        "FROM rollups r JOIN accounts a ON a.id = r.account_id JOIN currencies c ON c.id = r.currency_id "
        "WHERE a.name = $1 AND c.code = $2 AND r.hour_ms >= $3 AND r.hour_ms < $4 ORDER BY r.hour_ms",
        {text(account), text(currency), ms(from), ms(to)});
    std::vector<RollupRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(RollupRow{account, currency, from_unix_ms(r.int64(i, 0)), Decimal::from_micros(r.int64(i, 1)),
                              Decimal::from_micros(r.int64(i, 2)), Decimal::from_micros(r.int64(i, 3)),
                              Decimal::from_micros(r.int64(i, 4)), Decimal::from_micros(r.int64(i, 5)),
                              static_cast<std::uint32_t>(r.int64(i, 6))});
    }
    return out;
  });
}

void PostgresStore::save_ledger(const std::string& account, const std::string& currency,
                                const LedgerSnapshot& snapshot) {
  write([&](Connection& c) {
    const auto account_id = m_account_ids->ids(c, {text(account)}).at(text(account));
    const auto currency_id = m_currency_ids->ids(c, {text(currency)}).at(text(currency));
    c.run("INSERT INTO ledgers (account_id, currency_id, saved_ms, state) VALUES ($1, $2, $3, $4::bytea) "
          "ON CONFLICT (account_id, currency_id) DO UPDATE SET saved_ms = excluded.saved_ms, state = excluded.state "
          // A replica that lost the account may still save its older copy: never over a newer one.
          "WHERE ledgers.saved_ms <= excluded.saved_ms",
          {number(account_id), number(currency_id), ms(snapshot.at), bytea_hex(snapshot.state)});
  });
}

std::optional<LedgerSnapshot> PostgresStore::ledger(const std::string& account, const std::string& currency) {
  return with_connection([&](Connection& c) -> std::optional<LedgerSnapshot> {
    const auto r = c.run(
        "SELECT l.saved_ms, l.state FROM ledgers l JOIN accounts a ON a.id = l.account_id JOIN currencies c ON "
        "c.id = l.currency_id WHERE a.name = $1 AND c.code = $2",
        {text(account), text(currency)});
    if (r.rows() == 0) return std::nullopt;
    return LedgerSnapshot{from_unix_ms(r.int64(0, 0)), from_bytea_hex(r.text(0, 1))};
  });
}

void PostgresStore::saved_ledgers(const std::vector<std::string>& accounts, TimePoint since,
                                  const std::function<bool(SavedLedger&)>& each, std::size_t batch) {
  batch = std::max<std::size_t>(batch, 1);
  const auto longest_ms = std::chrono::duration_cast<std::chrono::milliseconds>(k_longest_run).count();
  for (std::size_t first = 0; first < accounts.size(); first += batch) {
    const auto end = std::min(accounts.size(), first + batch);
    const std::vector<std::string> names(accounts.begin() + static_cast<std::ptrdiff_t>(first),
                                         accounts.begin() + static_cast<std::ptrdiff_t>(end));
    auto loaded = with_connection([&](Connection& c) {
      std::vector<SavedLedger> out;
      // Index of each (account id, currency id) in `out`.
      std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> index;
      const auto snapshots = c.run(
          "SELECT l.account_id, l.currency_id, a.name, c.code, l.saved_ms, l.state FROM ledgers l "
          "JOIN accounts a ON a.id = l.account_id JOIN currencies c ON c.id = l.currency_id "
          "WHERE a.name = ANY($1::text[]) AND l.saved_ms >= $2 ORDER BY l.account_id, l.currency_id",
          {text_array(names), ms(since)});
      for (int i = 0; i < snapshots.rows(); ++i) {
        index.emplace(std::pair(snapshots.int64(i, 0), snapshots.int64(i, 1)), out.size());
        LedgerSnapshot snapshot{from_unix_ms(snapshots.int64(i, 4)), from_bytea_hex(snapshots.text(i, 5))};
        out.push_back(SavedLedger{snapshots.text(i, 2), snapshots.text(i, 3), std::move(snapshot), {}});
      }
      if (out.empty()) return out;
      // The runs after each snapshot as samples() selects them. A left join, so every snapshot
      // comes back with the saved_ms this statement sees: another replica (or our own
      // housekeeping) may have saved a newer one since the first statement.
      const auto runs = c.run(
          "SELECT l.account_id, l.currency_id, l.saved_ms, r.from_ms, r.held_ms, r.balance_micros, r.spend_micros "
          "FROM ledgers l JOIN accounts a ON a.id = l.account_id LEFT JOIN readings r ON r.account_id = l.account_id "
          "AND r.currency_id = l.currency_id AND r.from_ms >= l.saved_ms - $3::bigint AND r.from_ms + r.held_ms >= "
          "l.saved_ms WHERE a.name = ANY($1::text[]) AND l.saved_ms >= $2 ORDER BY l.account_id, l.currency_id, "
          "r.from_ms",
          {text_array(names), ms(since), number(longest_ms)});
      std::vector<bool> consistent(out.size(), false);
      for (int i = 0; i < runs.rows(); ++i) {
        const auto found = index.find(std::pair(runs.int64(i, 0), runs.int64(i, 1)));
        if (found == index.end()) continue;  // saved after the snapshots were read
        SavedLedger& ledger = out[found->second];
        if (runs.int64(i, 2) != to_unix_ms(ledger.snapshot.at)) continue;  // replaced in between
        consistent[found->second] = true;
        if (runs.is_null(i, 3)) continue;  // no run after it
        SampleRow row;
        row.account = ledger.account;
        row.currency = ledger.currency;
        const auto from = runs.int64(i, 3);
        row.at = from_unix_ms(from);
        row.seen_until = from_unix_ms(from + runs.int64(i, 4));
        row.balance = Decimal::from_micros(runs.int64(i, 5));
        if (!runs.is_null(i, 6)) row.spend_total = Decimal::from_micros(runs.int64(i, 6));
        ledger.runs.push_back(std::move(row));
      }
      std::size_t kept = 0;
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (!consistent[i]) continue;
        if (kept != i) out[kept] = std::move(out[i]);  // not onto itself: that would empty it
        ++kept;
      }
      out.resize(kept);
      return out;
    });
    for (auto& ledger : loaded) {
      if (!each(ledger)) return;
    }
  }
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

std::vector<AlertRow> PostgresStore::alerts_of(const std::vector<std::string>& accounts) {
  if (accounts.empty()) return {};
  return with_connection([&](Connection& c) {
    const auto r = c.run(
        "SELECT account, rule, state, severity, since_ms, last_notified_ms, context FROM alerts "
        "WHERE account = ANY($1::text[]) ORDER BY account, rule",
        {text_array(accounts)});
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

bool PostgresStore::enqueue_once(const OutboxRow& n) {
  return write([&](Connection& c) {
    postgres::Transaction tx(c);
    // Under READ COMMITTED two replicas could both find no row and both insert: a lock per
    // (notifier, key), held to the commit, makes the second one see the first one's row.
    c.run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {text(n.notifier + "\n" + n.dedup_key)});
    const auto r = c.run(
        "INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error) "
        "SELECT $1, $2, $3, $4, 0, $5, 'pending', '' WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE notifier = $2 "
        "AND dedup_key = $3)",
        {ms(n.created), text(n.notifier), text(n.dedup_key), text(n.payload_json), ms(n.next_attempt)});
    tx.commit();
    return r.affected() > 0;
  });
}

void PostgresStore::add_silence(const SilenceRow& silence) {
  write([&](Connection& c) {
    c.run("INSERT INTO silences (id, matchers, starts_ms, ends_ms, comment, created_by, created_ms) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {text(silence.id), text(silence.matchers_json), ms(silence.starts_at), ms(silence.ends_at),
           text(silence.comment), text(silence.created_by), ms(silence.created_at)});
  });
}

std::vector<SilenceRow> PostgresStore::silences() {
  return with_connection([&](Connection& c) {
    const auto r = c.run(
        "SELECT id, matchers, starts_ms, ends_ms, comment, created_by, created_ms FROM silences ORDER BY starts_ms, id");
    std::vector<SilenceRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(SilenceRow{r.text(i, 0), r.text(i, 1), from_unix_ms(r.int64(i, 2)), from_unix_ms(r.int64(i, 3)),
                               r.text(i, 4), r.text(i, 5), from_unix_ms(r.int64(i, 6))});
    }
    return out;
  });
}

bool PostgresStore::expire_silence(const std::string& id, TimePoint now) {
  return write([&](Connection& c) {
    return c.run("UPDATE silences SET ends_ms = LEAST(ends_ms, $2), starts_ms = LEAST(starts_ms, $2) WHERE id = $1",
                 {text(id), ms(now)})
               .affected() > 0;
  });
}

void PostgresStore::save_ack(const AckRow& ack, const std::vector<OutboxRow>& notifications) {
  write([&](Connection& c) {
    postgres::Transaction tx(c);
    c.run("INSERT INTO acks (account, rule, acked_by, at_ms, comment, severity) VALUES ($1, $2, $3, $4, $5, $6) "
          "ON CONFLICT (account, rule) DO UPDATE SET acked_by = excluded.acked_by, at_ms = excluded.at_ms, "
          "comment = excluded.comment, severity = excluded.severity",
          {text(ack.account), text(ack.rule), text(ack.by), ms(ack.at), text(ack.comment), text(ack.severity)});
    for (const auto& n : notifications) {
      c.run("INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, "
            "last_error) VALUES ($1, $2, $3, $4, 0, $5, 'pending', '')",
            {ms(n.created), text(n.notifier), text(n.dedup_key), text(n.payload_json), ms(n.next_attempt)});
    }
    tx.commit();
  });
}

bool PostgresStore::delete_ack(const std::string& account, const std::string& rule) {
  return write([&](Connection& c) {
    return c.run("DELETE FROM acks WHERE account = $1 AND rule = $2", {text(account), text(rule)}).affected() > 0;
  });
}

std::vector<AckRow> PostgresStore::acks() {
  return with_connection([&](Connection& c) {
    const auto r = c.run("SELECT account, rule, acked_by, at_ms, comment, severity FROM acks ORDER BY account, rule");
    std::vector<AckRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(AckRow{r.text(i, 0), r.text(i, 1), r.text(i, 2), from_unix_ms(r.int64(i, 3)), r.text(i, 4),
                           r.text(i, 5)});
    }
    return out;
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

std::size_t PostgresStore::prune(TimePoint raw_cutoff, TimePoint rollup_cutoff, std::size_t batch) {
  return write([&](Connection& c) {
    postgres::Transaction tx(c);
    // One pruner at a time across replicas: two would roll the same runs up twice.
    if (c.run(k_prune_lock).text(0, 0) != "t") return std::size_t{0};
    std::size_t removed = roll_up_old_runs(c, to_unix_ms(raw_cutoff), to_unix_ms(rollup_cutoff),
                                           number(static_cast<std::int64_t>(std::max<std::size_t>(batch, 1))));
    removed += static_cast<std::size_t>(c.run("DELETE FROM rollups WHERE hour_ms < $1", {ms(rollup_cutoff)}).affected());
    for (const char* sql : {"DELETE FROM failures WHERE ts_ms < $1",
                            "DELETE FROM outbox WHERE state != 'pending' AND created_ms < $1",
                            "DELETE FROM replicas WHERE last_seen_ms < $1",
                            "DELETE FROM silences WHERE ends_ms < $1"}) {
      removed += static_cast<std::size_t>(c.run(sql, {ms(raw_cutoff)}).affected());
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
