#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "details_patch.hpp"
#include "migrations.hpp"

#include "creditwatch/storage/rollup.hpp"
#include "creditwatch/storage/run_rule.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace creditwatch::storage {
namespace {

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

constexpr const char* k_outbox_columns =
    "id, created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error, claimed_by, "
    "claim_until_ms";


std::optional<std::int64_t> optional_micros(const std::optional<Decimal>& d) {
  return d ? std::optional<std::int64_t>(d->micros()) : std::nullopt;
}

const std::vector<SampleRow> k_no_samples;

std::optional<std::string> optional_text(const Statement& s, int column) {
  return s.is_null(column) ? std::nullopt : std::optional<std::string>(s.text(column));
}

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
    m_db.exec("PRAGMA wal_autocheckpoint=" + std::to_string(k_wal_cap_pages));
  }
  m_checkpointer = std::make_unique<Checkpointer>(m_path, every, &m_mutex);
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

void SqliteStore::forget_ids() {
  m_account_ids.clear();
  m_currency_ids.clear();
  m_currency_codes.clear();
}

std::optional<std::int64_t> SqliteStore::find_account(const std::string& name) {
  if (auto it = m_account_ids.find(name); it != m_account_ids.end()) return it->second;
  auto& s = m_db.cached("SELECT id FROM accounts WHERE name = ?1");
  s.bind(1, name);
  std::optional<std::int64_t> id;
  if (s.step()) id = s.int64(0);
  s.reset();
  // Only ids that exist are kept: rows are never deleted, so they never go stale. (A write
  // that is rolled back forgets them all: forget_ids().)
  if (id) m_account_ids.emplace(name, *id);
  return id;
}

std::int64_t SqliteStore::account_id(const std::string& name) {
  if (auto id = find_account(name)) return *id;
  m_db.cached("INSERT OR IGNORE INTO accounts (name) VALUES (?1)").bind(1, name).run();
  if (auto id = find_account(name)) return *id;
  throw DatabaseError("account " + name + " could not be added");
}

std::optional<std::int64_t> SqliteStore::find_currency(const std::string& code) {
  if (auto it = m_currency_ids.find(code); it != m_currency_ids.end()) return it->second;
  auto& s = m_db.cached("SELECT id FROM currencies WHERE code = ?1");
  s.bind(1, code);
  std::optional<std::int64_t> id;
  if (s.step()) id = s.int64(0);
  s.reset();
  if (id) {
    m_currency_ids.emplace(code, *id);
    m_currency_codes.emplace(*id, code);
  }
  return id;
}

std::int64_t SqliteStore::currency_id(const std::string& code) {
  if (auto id = find_currency(code)) return *id;
  m_db.cached("INSERT OR IGNORE INTO currencies (code) VALUES (?1)").bind(1, code).run();
  if (auto id = find_currency(code)) return *id;
  throw DatabaseError("currency " + code + " could not be added");
}

const std::string& SqliteStore::currency_code(std::int64_t id) {
  if (auto it = m_currency_codes.find(id); it != m_currency_codes.end()) return it->second;
  auto& s = m_db.cached("SELECT code FROM currencies WHERE id = ?1");
  s.bind(1, id);
  std::string code = s.step() ? s.text(0) : std::string();
  s.reset();
  m_currency_ids.emplace(code, id);
  return m_currency_codes.emplace(id, std::move(code)).first->second;
}

void SqliteStore::commit_probe_writes(const std::vector<ProbeWrite*>& writes) {
  std::lock_guard lock(m_mutex);
  try {
    Transaction tx(m_db);
    for (const auto* w : writes) {
      const ProbeRow& probe = *w->probe;
      const std::int64_t account = account_id(probe.account);
      for (const auto& sample : *w->samples) {
        write_sample(sample.account == probe.account ? account : account_id(sample.account), sample);
      }
      write_probe(account, probe);
    }
    tx.commit();
  } catch (...) {
    forget_ids();  // ids inserted by the rolled-back transaction are gone (and may be reused)
    throw;
  }
  wrote();
}

void SqliteStore::write_probe(std::int64_t account, const ProbeRow& p) {
  if (p.outcome == "ok") {
    // Counted, not stored: only the latest success's time and latency are kept.
    m_db.cached("UPDATE accounts SET last_ok_latency = CASE WHEN ?2 >= last_ok_ms THEN ?3 ELSE last_ok_latency END, "
                "last_ok_ms = MAX(last_ok_ms, ?2), ok_probes = ok_probes + 1 WHERE id = ?1")
        .bind(1, account)
        .bind(2, to_unix_ms(p.at))
        .bind(3, p.latency_seconds)
        .run();
    return;
  }
  m_db.cached("INSERT INTO failures (account_id, ts_ms, outcome, http_status, latency_seconds, message) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind(1, account)
      .bind(2, to_unix_ms(p.at))
      .bind(3, p.outcome)
      .bind(4, static_cast<std::int64_t>(p.http_status))
      .bind(5, p.latency_seconds)
      .bind(6, p.message)
      .run();
  m_db.cached("UPDATE accounts SET failed_probes = failed_probes + 1 WHERE id = ?1").bind(1, account).run();
}

void SqliteStore::write_sample(std::int64_t account, const SampleRow& sample) {
  const std::int64_t currency = currency_id(sample.currency);
  const std::int64_t at = to_unix_ms(sample.at);
  // The head is read, not cached: `check` (and a second store on the file) write runs too.
  // Its details are compared in SQL, so an unchanged reading copies no text.
  auto& read_head = m_db.cached(
      "SELECT from_ms, seen_ms, anchor_ms, balance_micros, spend_micros, details = ?3 FROM heads "
      "WHERE account_id = ?1 AND currency_id = ?2");
  read_head.bind(1, account).bind(2, currency).bind(3, sample.details_json);
  std::optional<RunHead> head;
  bool same_details = false;
  if (read_head.step()) {
    head = RunHead{read_head.int64(0), read_head.int64(1), read_head.int64(2), Decimal::from_micros(read_head.int64(3)),
                   read_head.is_null(4) ? std::nullopt
                                        : std::optional<Decimal>(Decimal::from_micros(read_head.int64(4)))};
    same_details = read_head.int64(5) != 0;
  }
  read_head.reset();
  const RunDecision next = next_run_step(head, at, sample.balance, sample.spend_total, same_details);
  switch (next.step) {
    case RunStep::extend:
      m_db.cached("UPDATE readings SET held_ms = ?4 - from_ms WHERE account_id = ?1 AND currency_id = ?2 AND "
                  "from_ms = ?3")
          .bind(1, account)
          .bind(2, currency)
          .bind(3, head->from_ms)
          .bind(4, at)
          .run();
      m_db.cached("UPDATE heads SET seen_ms = ?3 WHERE account_id = ?1 AND currency_id = ?2")
          .bind(1, account)
          .bind(2, currency)
          .bind(3, at)
          .run();
      return;
    case RunStep::late:
      write_late_sample(account, currency, sample);
      return;
    case RunStep::start:
      break;
  }
  auto& insert = m_db.cached(
      "INSERT INTO readings (account_id, currency_id, from_ms, held_ms, balance_micros, spend_micros, details) "
      "VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6)");
  insert.bind(1, account).bind(2, currency).bind(3, at).bind(4, sample.balance.micros());
  insert.bind_optional(5, optional_micros(sample.spend_total));
  std::optional<std::string> patch;
  if (head && !same_details && hour_start_ms(at) == hour_start_ms(head->from_ms)) {
    auto& head_details = m_db.cached("SELECT details FROM heads WHERE account_id = ?1 AND currency_id = ?2");
    head_details.bind(1, account).bind(2, currency);
    if (head_details.step()) patch = details_patch(head_details.text(0), sample.details_json, sample.balance.micros());
    head_details.reset();
  }
  if (!next.full_details) {
    insert.bind_null(6);
  } else if (patch) {
    insert.bind(6, *patch);
  } else {
    insert.bind(6, sample.details_json);
  }
  insert.run();
  m_db.cached("INSERT OR REPLACE INTO heads (account_id, currency_id, from_ms, seen_ms, anchor_ms, balance_micros, "
              "spend_micros, details) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7)")
      .bind(1, account)
      .bind(2, currency)
      .bind(3, at)
      .bind(4, next.anchor_ms)
      .bind(5, sample.balance.micros())
      .bind_optional(6, optional_micros(sample.spend_total))
      .bind(7, sample.details_json)
      .run();
}

void SqliteStore::write_late_sample(std::int64_t account, std::int64_t currency, const SampleRow& sample) {
  const std::int64_t at = to_unix_ms(sample.at);
  // Within a stored run it is dropped: the same figures are already there, and different ones
  // came in out of order (another writer read them earlier and committed later), which the
  // forecaster would ignore too (SpendLedger::add). Runs never overlap.
  auto& covering = m_db.cached(
      "SELECT from_ms + held_ms >= ?3 FROM readings WHERE account_id = ?1 AND currency_id = ?2 AND from_ms <= ?3 "
      "ORDER BY from_ms DESC LIMIT 1");
  covering.bind(1, account).bind(2, currency).bind(3, at);
  const bool covered = covering.step() && covering.int64(0) != 0;
  covering.reset();
  if (covered) return;
  // Between two runs: the one after it may have left its details to the run before ("as the
  // run before"), which this one becomes: it gets them in full first.
  auto& next_run = m_db.cached(
      "SELECT from_ms, details, balance_micros FROM readings WHERE account_id = ?1 AND "
      "currency_id = ?2 AND from_ms > ?3 ORDER BY from_ms LIMIT 1");
  next_run.bind(1, account).bind(2, currency).bind(3, at);
  std::optional<std::pair<std::int64_t, std::optional<std::string>>> next;
  std::int64_t next_balance = 0;
  if (next_run.step()) {
    next.emplace(next_run.int64(0), optional_text(next_run, 1));
    next_balance = next_run.int64(2);
  }
  next_run.reset();
  if (next && (!next->second || is_patch(*next->second))) {
    const std::string full =
        resolve_details(details_before(account, currency, next->first), next->second, next_balance);
    m_db.cached("UPDATE readings SET details = ?4 WHERE account_id = ?1 AND currency_id = ?2 AND from_ms = ?3")
        .bind(1, account)
        .bind(2, currency)
        .bind(3, next->first)
        .bind(4, full)
        .run();
  }
  m_db.cached("INSERT INTO readings (account_id, currency_id, from_ms, held_ms, balance_micros, spend_micros, details) "
              "VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6)")
      .bind(1, account)
      .bind(2, currency)
      .bind(3, at)
      .bind(4, sample.balance.micros())
      .bind_optional(5, optional_micros(sample.spend_total))
      .bind(6, sample.details_json)
      .run();
}

std::vector<SampleRow> SqliteStore::runs_of(std::int64_t account, const std::string& account_name,
                                            std::int64_t currency, std::int64_t since_ms, std::size_t limit) {
  // Runs last less than k_longest_run, so the run holding at `since` starts at most that long
  // before it: the primary key's range stays bounded.
  auto& s = m_db.cached(
      "SELECT from_ms, held_ms, balance_micros, spend_micros, details FROM readings WHERE account_id = ?1 AND "
      "currency_id = ?2 AND from_ms >= ?3 - ?5 AND from_ms + held_ms >= ?3 ORDER BY from_ms DESC LIMIT ?4");
  s.bind(1, account).bind(2, currency).bind(3, since_ms);
  s.bind(4, limit == k_no_limit ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
  s.bind(5, k_longest_run_ms);
  std::vector<SampleRow> out;
  std::vector<std::optional<std::string>> stored;
  const std::string& code = currency_code(currency);
  while (s.step()) {
    SampleRow row;
    row.account = account_name;
    row.at = from_unix_ms(s.int64(0));
    row.seen_until = from_unix_ms(s.int64(0) + s.int64(1));
    row.currency = code;
    row.balance = Decimal::from_micros(s.int64(2));
    if (!s.is_null(3)) row.spend_total = Decimal::from_micros(s.int64(3));
    stored.push_back(optional_text(s, 4));
    out.push_back(std::move(row));
  }
  s.reset();
  std::reverse(out.begin(), out.end());
  std::reverse(stored.begin(), stored.end());
  // Details NULL or patched are resolved against the run before, carried forward; the first
  // run's is looked up (at most an hour back: the first run of each hour has them in full).
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (stored[i] && !is_patch(*stored[i])) {
      out[i].details_json = std::move(*stored[i]);
      continue;
    }
    const std::string before = i > 0 ? out[i - 1].details_json : details_before(account, currency, to_unix_ms(out[i].at));
    out[i].details_json = resolve_details(before, stored[i], out[i].balance.micros());
  }
  return out;
}

std::string SqliteStore::details_before(std::int64_t account, std::int64_t currency, std::int64_t from_ms) {
  auto& s = m_db.cached(
      "SELECT details, balance_micros FROM readings WHERE account_id = ?1 AND currency_id = ?2 AND "
      "from_ms < ?3 ORDER BY from_ms DESC");
  s.bind(1, account).bind(2, currency).bind(3, from_ms);
  // Newest first, back to the one in full: each with its balance (a patch's `=` fields).
  std::vector<std::pair<std::optional<std::string>, std::int64_t>> newer;
  std::string details;
  while (s.step()) {
    auto stored = optional_text(s, 0);
    if (stored && !is_patch(*stored)) {
      details = std::move(*stored);
      break;
    }
    newer.emplace_back(std::move(stored), s.int64(1));
  }
  s.reset();
  for (auto it = newer.rbegin(); it != newer.rend(); ++it) details = resolve_details(details, it->first, it->second);
  return details;
}

std::vector<std::int64_t> SqliteStore::currencies_of(std::int64_t account) {
  auto& s = m_db.cached("SELECT currency_id FROM heads WHERE account_id = ?1 ORDER BY currency_id");
  s.bind(1, account);
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.int64(0));
  return out;
}

std::vector<SampleRow> SqliteStore::samples(const std::string& account, TimePoint since, const std::string& currency,
                                            std::size_t limit) {
  std::lock_guard lock(m_mutex);
  const auto id = find_account(account);
  if (!id) return {};
  std::vector<std::int64_t> currencies;
  if (currency.empty()) {
    currencies = currencies_of(*id);
  } else if (auto c = find_currency(currency)) {
    currencies.push_back(*c);
  }
  std::vector<std::pair<std::int64_t, SampleRow>> merged;  // (currency id, run)
  for (const auto c : currencies) {
    for (auto& row : runs_of(*id, account, c, to_unix_ms(since), limit)) merged.emplace_back(c, std::move(row));
  }
  // Runs of one instant in the order their currencies were first written.
  std::stable_sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) {
    return a.second.at != b.second.at ? a.second.at < b.second.at : a.first < b.first;
  });
  const std::size_t skip = limit != k_no_limit && merged.size() > limit ? merged.size() - limit : 0;
  std::vector<SampleRow> out;
  out.reserve(merged.size() - skip);
  for (std::size_t i = skip; i < merged.size(); ++i) out.push_back(std::move(merged[i].second));
  return out;
}

std::optional<SampleRow> SqliteStore::latest_sample(const std::string& account, const std::string& currency) {
  std::lock_guard lock(m_mutex);
  const auto id = find_account(account);
  if (!id) return std::nullopt;
  std::int64_t currency_filter = 0;
  if (!currency.empty()) {
    const auto c = find_currency(currency);
    if (!c) return std::nullopt;
    currency_filter = *c;
  }
  auto& s = m_db.cached("SELECT currency_id, from_ms, seen_ms, balance_micros, spend_micros, details FROM heads "
                        "WHERE account_id = ?1 AND (?2 = 0 OR currency_id = ?2) ORDER BY seen_ms DESC, "
                        "currency_id DESC LIMIT 1");
  s.bind(1, *id).bind(2, currency_filter);
  if (!s.step()) return std::nullopt;
  SampleRow row;
  row.account = account;
  const std::int64_t c = s.int64(0);
  row.at = from_unix_ms(s.int64(1));
  row.seen_until = from_unix_ms(s.int64(2));
  row.balance = Decimal::from_micros(s.int64(3));
  if (!s.is_null(4)) row.spend_total = Decimal::from_micros(s.int64(4));
  row.details_json = s.text(5);
  s.reset();  // a statement left on a row would hold the read snapshot open
  row.currency = currency_code(c);
  return row;
}

std::optional<ProbeRow> SqliteStore::latest_probe(const std::string& account) {
  std::lock_guard lock(m_mutex);
  const auto id = find_account(account);
  if (!id) return std::nullopt;
  auto& failure = m_db.cached("SELECT ts_ms, outcome, http_status, latency_seconds, message FROM failures "
                              "WHERE account_id = ?1 ORDER BY ts_ms DESC, id DESC LIMIT 1");
  failure.bind(1, *id);
  std::optional<ProbeRow> latest;
  if (failure.step()) {
    latest = ProbeRow{account, from_unix_ms(failure.int64(0)), failure.text(1), static_cast<long>(failure.int64(2)),
                      failure.real(3), failure.text(4)};
  }
  failure.reset();
  auto& success = m_db.cached("SELECT last_ok_ms, last_ok_latency FROM accounts WHERE id = ?1 AND last_ok_ms > 0");
  success.bind(1, *id);
  if (success.step() && (!latest || from_unix_ms(success.int64(0)) >= latest->at)) {
    // A success's status is not kept (successes are counted, not stored): any 2xx reads as 200.
    latest = ProbeRow{account, from_unix_ms(success.int64(0)), "ok", 200, success.real(1), ""};
  }
  success.reset();
  return latest;
}

std::optional<TimePoint> SqliteStore::last_success(const std::string& account) {
  std::lock_guard lock(m_mutex);
  const auto id = find_account(account);
  if (!id) return std::nullopt;
  auto& s = m_db.cached("SELECT last_ok_ms FROM accounts WHERE id = ?1 AND last_ok_ms > 0");
  s.bind(1, *id);
  std::optional<TimePoint> result;
  if (s.step()) result = from_unix_ms(s.int64(0));
  s.reset();
  return result;
}

std::vector<LatestProbes> SqliteStore::latest_probes(const std::vector<std::string>& requested) {
  // Each account once, also when it is named again in a later batch.
  std::vector<std::string> accounts;
  std::unordered_set<std::string> seen;
  for (const auto& name : requested) {
    if (seen.insert(name).second) accounts.push_back(name);
  }
  // Names bound as parameters, a batch per statement (well under SQLite's variable limit);
  // the store's lock is taken per batch, so probe writes wait behind one batch at most.
  constexpr std::size_t k_names_per_query = 500;
  std::vector<LatestProbes> out;
  for (std::size_t first = 0; first < accounts.size(); first += k_names_per_query) {
    const std::size_t end = std::min(accounts.size(), first + k_names_per_query);
    std::string sql =
        "SELECT a.name, a.last_ok_ms, a.last_ok_latency, f.ts_ms, f.outcome, f.http_status, f.latency_seconds, "
        "f.message FROM accounts a LEFT JOIN failures f ON f.id = (SELECT id FROM failures WHERE account_id = a.id "
        "ORDER BY ts_ms DESC, id DESC LIMIT 1) WHERE a.name IN (";
    for (std::size_t i = first; i < end; ++i) sql += i == first ? "?" : ",?";
    sql += ")";
    std::lock_guard lock(m_mutex);
    auto s = m_db.prepare(sql);
    for (std::size_t i = first; i < end; ++i) s.bind(static_cast<int>(i - first + 1), accounts[i]);
    while (s.step()) {
      LatestProbes row{s.text(0), std::nullopt, std::nullopt};
      const std::int64_t last_ok = s.int64(1);
      if (last_ok > 0) row.last_success = from_unix_ms(last_ok);
      if (!s.is_null(3)) {
        row.latest = ProbeRow{row.account, from_unix_ms(s.int64(3)), s.text(4), static_cast<long>(s.int64(5)),
                              s.real(6), s.text(7)};
      }
      // As latest_probe(): a success at the same instant as a failure is the later one.
      if (row.last_success && (!row.latest || *row.last_success >= row.latest->at)) {
        row.latest = ProbeRow{row.account, *row.last_success, "ok", 200, s.real(2), ""};
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

ProbeCounts SqliteStore::probe_counts(const std::string& account) {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT ok_probes, failed_probes FROM accounts WHERE name = ?1");
  s.bind(1, account);
  ProbeCounts counts;
  if (s.step()) counts = ProbeCounts{static_cast<std::uint64_t>(s.int64(0)), static_cast<std::uint64_t>(s.int64(1))};
  s.reset();
  return counts;
}

std::vector<RollupRow> SqliteStore::rollups(const std::string& account, const std::string& currency, TimePoint from,
                                            TimePoint to) {
  std::lock_guard lock(m_mutex);
  const auto id = find_account(account);
  const auto c = find_currency(currency);
  if (!id || !c) return {};
  auto& s = m_db.cached("SELECT hour_ms, open_micros, close_micros, low_micros, spend_micros, deposits_micros, "
                        "readings FROM rollups WHERE account_id = ?1 AND currency_id = ?2 AND hour_ms >= ?3 AND "
                        "hour_ms < ?4 ORDER BY hour_ms");
  s.bind(1, *id).bind(2, *c).bind(3, to_unix_ms(from)).bind(4, to_unix_ms(to));
  std::vector<RollupRow> out;
  while (s.step()) {
    out.push_back(RollupRow{account, currency, from_unix_ms(s.int64(0)), Decimal::from_micros(s.int64(1)),
                            Decimal::from_micros(s.int64(2)), Decimal::from_micros(s.int64(3)),
                            Decimal::from_micros(s.int64(4)), Decimal::from_micros(s.int64(5)),
                            static_cast<std::uint32_t>(s.int64(6))});
  }
  return out;
}

void SqliteStore::save_ledger(const std::string& account, const std::string& currency,
                              const LedgerSnapshot& snapshot) try {
  std::lock_guard lock(m_mutex);
  try {
    Transaction tx(m_db);
    const auto id = account_id(account);
    const auto c = currency_id(currency);
    m_db.cached("INSERT INTO ledgers (account_id, currency_id, saved_ms, state) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (account_id, currency_id) DO UPDATE SET saved_ms = excluded.saved_ms, "
                "state = excluded.state WHERE ledgers.saved_ms <= excluded.saved_ms")
        .bind(1, id)
        .bind(2, c)
        .bind(3, to_unix_ms(snapshot.at))
        .bind_blob(4, snapshot.state)
        .run();
    tx.commit();
  } catch (...) {
    forget_ids();
    throw;
  }
  wrote();
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::optional<LedgerSnapshot> SqliteStore::ledger(const std::string& account, const std::string& currency) {
  std::lock_guard lock(m_mutex);
  const auto id = find_account(account);
  const auto c = find_currency(currency);
  if (!id || !c) return std::nullopt;
  auto& s = m_db.cached("SELECT saved_ms, state FROM ledgers WHERE account_id = ?1 AND currency_id = ?2");
  s.bind(1, *id).bind(2, *c);
  std::optional<LedgerSnapshot> out;
  if (s.step()) out = LedgerSnapshot{from_unix_ms(s.int64(0)), s.blob(1)};
  s.reset();
  return out;
}

void SqliteStore::saved_ledgers(const std::vector<std::string>& accounts, TimePoint since,
                                const std::function<bool(SavedLedger&)>& each, std::size_t batch) {
  batch = std::max<std::size_t>(batch, 1);
  const std::int64_t longest_ms = std::chrono::duration_cast<std::chrono::milliseconds>(k_longest_run).count();
  for (std::size_t first = 0; first < accounts.size(); first += batch) {
    const std::size_t end = std::min(accounts.size(), first + batch);
    std::vector<SavedLedger> loaded;
    {
      std::lock_guard lock(m_mutex);
      // Ids are our own integers: written into the statement, which is prepared per batch
      // (its list differs each time; it would only fill the statement cache).
      std::unordered_map<std::int64_t, const std::string*> names;
      std::string ids;
      for (std::size_t i = first; i < end; ++i) {
        const auto id = find_account(accounts[i]);
        if (!id || !names.emplace(*id, &accounts[i]).second) continue;
        ids += (ids.empty() ? "" : ",") + std::to_string(*id);
      }
      if (ids.empty()) continue;
      // Index of each (account, currency) in `loaded`, and the saved_ms it was read with.
      std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> index;
      auto snapshots = m_db.prepare(
          "SELECT account_id, currency_id, saved_ms, state FROM ledgers WHERE account_id IN (" + ids +
          ") AND saved_ms >= ?1 ORDER BY account_id, currency_id");
      snapshots.bind(1, to_unix_ms(since));
      while (snapshots.step()) {
        const auto account = snapshots.int64(0);
        const auto currency = snapshots.int64(1);
        index.emplace(std::pair(account, currency), loaded.size());
        loaded.push_back(SavedLedger{*names.at(account), currency_code(currency),
                                     LedgerSnapshot{from_unix_ms(snapshots.int64(2)), snapshots.blob(3)}, {}});
      }
      snapshots.reset();
      if (loaded.empty()) continue;
      // The runs after each snapshot as samples() selects them (the run holding at saved_ms
      // started at most k_longest_run before it: a bounded range of the primary key). A left
      // join, so every snapshot comes back with the saved_ms it is read with here.
      auto runs = m_db.prepare(
          "SELECT l.account_id, l.currency_id, l.saved_ms, r.from_ms, r.held_ms, r.balance_micros, r.spend_micros "
          "FROM ledgers l LEFT JOIN readings r ON r.account_id = l.account_id AND r.currency_id = l.currency_id AND "
          "r.from_ms >= l.saved_ms - ?2 AND r.from_ms + r.held_ms >= l.saved_ms WHERE l.account_id IN (" +
          ids + ") AND l.saved_ms >= ?1 ORDER BY l.account_id, l.currency_id, r.from_ms");
      runs.bind(1, to_unix_ms(since)).bind(2, longest_ms);
      std::vector<bool> consistent(loaded.size(), false);
      while (runs.step()) {
        const auto found = index.find(std::pair(runs.int64(0), runs.int64(1)));
        if (found == index.end()) continue;  // saved after the snapshots were read
        SavedLedger& ledger = loaded[found->second];
        if (runs.int64(2) != to_unix_ms(ledger.snapshot.at)) continue;  // replaced in between
        consistent[found->second] = true;
        if (runs.is_null(3)) continue;  // no run after it
        SampleRow row;
        row.account = ledger.account;
        row.currency = ledger.currency;
        row.at = from_unix_ms(runs.int64(3));
        row.seen_until = from_unix_ms(runs.int64(3) + runs.int64(4));
        row.balance = Decimal::from_micros(runs.int64(5));
        if (!runs.is_null(6)) row.spend_total = Decimal::from_micros(runs.int64(6));
        ledger.runs.push_back(std::move(row));
      }
      runs.reset();
      std::size_t kept = 0;
      for (std::size_t i = 0; i < loaded.size(); ++i) {
        if (!consistent[i]) continue;
        if (kept != i) loaded[kept] = std::move(loaded[i]);  // not onto itself: that would empty it
        ++kept;
      }
      loaded.resize(kept);
    }
    for (auto& ledger : loaded) {
      if (!each(ledger)) return;
    }
  }
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

// The names go in as one JSON array (json_each), so the statement is the same, and cached,
// whatever the number of accounts.
std::vector<AlertRow> SqliteStore::alerts_of(const std::vector<std::string>& accounts) {
  std::vector<AlertRow> out;
  if (accounts.empty()) return out;
  std::string names = "[";
  for (const auto& account : accounts) {
    if (names.size() > 1) names += ',';
    names += '"';
    for (const char c : account) {
      if (c == '"' || c == '\\') {
        names += '\\';
        names += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        constexpr char hex[] = "0123456789abcdef";
        names += "\\u00";
        names += hex[(c >> 4) & 0xf];
        names += hex[c & 0xf];
      } else {
        names += c;
      }
    }
    names += '"';
  }
  names += ']';
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT account, rule, state, severity, since_ms, last_notified_ms, context FROM alerts "
                        "WHERE account IN (SELECT value FROM json_each(?1)) ORDER BY account, rule");
  s.bind(1, names);
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

bool SqliteStore::enqueue_once(const OutboxRow& n) try {
  std::lock_guard lock(m_mutex);
  DurableCommits durable(m_db);
  // One statement under the store's lock (and SQLite's single writer): nothing can insert
  // between the check and the insert.
  auto& insert = m_db.cached(
      "INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error) "
      "SELECT ?1, ?2, ?3, ?4, 0, ?5, 'pending', '' WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE notifier = ?2 "
      "AND dedup_key = ?3)");
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

void SqliteStore::add_silence(const SilenceRow& silence) try {
  std::lock_guard lock(m_mutex);
  DurableCommits durable(m_db);
  m_db.cached("INSERT INTO silences (id, matchers, starts_ms, ends_ms, comment, created_by, created_ms) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind(1, silence.id)
      .bind(2, silence.matchers_json)
      .bind(3, to_unix_ms(silence.starts_at))
      .bind(4, to_unix_ms(silence.ends_at))
      .bind(5, silence.comment)
      .bind(6, silence.created_by)
      .bind(7, to_unix_ms(silence.created_at))
      .run();
  wrote();
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::vector<SilenceRow> SqliteStore::silences() {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT id, matchers, starts_ms, ends_ms, comment, created_by, created_ms FROM silences "
                        "ORDER BY starts_ms, id");
  std::vector<SilenceRow> out;
  while (s.step()) {
    out.push_back(SilenceRow{s.text(0), s.text(1), from_unix_ms(s.int64(2)), from_unix_ms(s.int64(3)), s.text(4),
                             s.text(5), from_unix_ms(s.int64(6))});
  }
  return out;
}

bool SqliteStore::expire_silence(const std::string& id, TimePoint now) try {
  std::lock_guard lock(m_mutex);
  DurableCommits durable(m_db);
  m_db.cached("UPDATE silences SET ends_ms = MIN(ends_ms, ?2), starts_ms = MIN(starts_ms, ?2) WHERE id = ?1")
      .bind(1, id)
      .bind(2, to_unix_ms(now))
      .run();
  const bool expired = m_db.changes() > 0;
  wrote();
  return expired;
} catch (const DatabaseError& e) {
  write_failed(e);
}

void SqliteStore::save_ack(const AckRow& ack, const std::vector<OutboxRow>& notifications) try {
  std::lock_guard lock(m_mutex);
  DurableCommits durable(m_db);
  Transaction tx(m_db);
  m_db.cached("INSERT INTO acks (account, rule, acked_by, at_ms, comment, severity) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
              "ON CONFLICT (account, rule) DO UPDATE SET acked_by = excluded.acked_by, at_ms = excluded.at_ms, "
              "comment = excluded.comment, severity = excluded.severity")
      .bind(1, ack.account)
      .bind(2, ack.rule)
      .bind(3, ack.by)
      .bind(4, to_unix_ms(ack.at))
      .bind(5, ack.comment)
      .bind(6, ack.severity)
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

bool SqliteStore::delete_ack(const std::string& account, const std::string& rule) try {
  std::lock_guard lock(m_mutex);
  DurableCommits durable(m_db);
  m_db.cached("DELETE FROM acks WHERE account = ?1 AND rule = ?2").bind(1, account).bind(2, rule).run();
  const bool deleted = m_db.changes() > 0;
  wrote();
  return deleted;
} catch (const DatabaseError& e) {
  write_failed(e);
}

std::vector<AckRow> SqliteStore::acks() {
  std::lock_guard lock(m_mutex);
  auto& s = m_db.cached("SELECT account, rule, acked_by, at_ms, comment, severity FROM acks ORDER BY account, rule");
  std::vector<AckRow> out;
  while (s.step()) {
    out.push_back(AckRow{s.text(0), s.text(1), s.text(2), from_unix_ms(s.int64(3)), s.text(4), s.text(5)});
  }
  return out;
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

std::size_t SqliteStore::prune_runs(std::int64_t account, std::int64_t currency, std::int64_t raw_cutoff_ms,
                                    std::size_t budget) {
  auto& old = m_db.cached("SELECT from_ms, held_ms, balance_micros, spend_micros, details FROM readings WHERE "
                          "account_id = ?1 AND currency_id = ?2 AND from_ms < ?3 ORDER BY from_ms LIMIT ?4");
  old.bind(1, account).bind(2, currency).bind(3, raw_cutoff_ms).bind(4, static_cast<std::int64_t>(budget));
  std::vector<SampleRow> runs;
  std::string details;  // resolved, carried forward (the oldest run always has them in full)
  while (old.step()) {
    if (old.int64(0) + old.int64(1) >= raw_cutoff_ms) break;  // still being read at the cutoff: kept
    details = resolve_details(details, optional_text(old, 4), old.int64(2));
    SampleRow run;
    run.at = from_unix_ms(old.int64(0));
    run.seen_until = from_unix_ms(old.int64(0) + old.int64(1));
    run.balance = Decimal::from_micros(old.int64(2));
    if (!old.is_null(3)) run.spend_total = Decimal::from_micros(old.int64(3));
    runs.push_back(std::move(run));
  }
  old.reset();
  if (runs.empty()) return 0;

  // The run before these is gone; the hour it was rolled into keeps its balance (not its
  // spend counter: the change into runs[0] is judged by the balance alone).
  std::optional<SampleRow> previous;
  auto& last_hour = m_db.cached("SELECT close_micros FROM rollups WHERE account_id = ?1 AND currency_id = ?2 "
                                "ORDER BY hour_ms DESC LIMIT 1");
  last_hour.bind(1, account).bind(2, currency);
  if (last_hour.step()) {
    previous = SampleRow{};
    previous->balance = Decimal::from_micros(last_hour.int64(0));
  }
  last_hour.reset();
  auto& upsert = m_db.cached(
      "INSERT INTO rollups (account_id, currency_id, hour_ms, open_micros, close_micros, low_micros, spend_micros, "
      "deposits_micros, readings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (account_id, currency_id, "
      "hour_ms) DO UPDATE SET close_micros = excluded.close_micros, low_micros = MIN(low_micros, excluded.low_micros), "
      "spend_micros = spend_micros + excluded.spend_micros, deposits_micros = deposits_micros + "
      "excluded.deposits_micros, readings = readings + excluded.readings");
  for (const auto& hour : roll_up(runs, previous)) {
    upsert.bind(1, account)
        .bind(2, currency)
        .bind(3, to_unix_ms(hour.hour))
        .bind(4, hour.open.micros())
        .bind(5, hour.close.micros())
        .bind(6, hour.low.micros())
        .bind(7, hour.spend.micros())
        .bind(8, hour.deposits.micros())
        .bind(9, static_cast<std::int64_t>(hour.readings))
        .run();
  }
  const std::int64_t last_from = to_unix_ms(runs.back().at);
  m_db.cached("DELETE FROM readings WHERE account_id = ?1 AND currency_id = ?2 AND from_ms <= ?3")
      .bind(1, account)
      .bind(2, currency)
      .bind(3, last_from)
      .run();
  const auto removed = static_cast<std::size_t>(m_db.changes());
  // The oldest run left may have its details as the ones just deleted, or patched from them.
  auto& first_left = m_db.cached(
      "SELECT from_ms, details, balance_micros FROM readings WHERE account_id = ?1 AND "
      "currency_id = ?2 ORDER BY from_ms LIMIT 1");
  first_left.bind(1, account).bind(2, currency);
  std::optional<std::pair<std::int64_t, std::optional<std::string>>> first;
  std::int64_t first_balance = 0;
  if (first_left.step()) {
    first.emplace(first_left.int64(0), optional_text(first_left, 1));
    first_balance = first_left.int64(2);
  }
  first_left.reset();
  if (first && (!first->second || is_patch(*first->second))) {
    m_db.cached("UPDATE readings SET details = ?4 WHERE account_id = ?1 AND currency_id = ?2 AND from_ms = ?3")
        .bind(1, account)
        .bind(2, currency)
        .bind(3, first->first)
        .bind(4, resolve_details(details, first->second, first_balance))
        .run();
  }
  // A head whose run is gone (nothing read since the cutoff) goes too: the next reading
  // starts afresh instead of extending a run that no longer exists.
  m_db.cached("DELETE FROM heads WHERE account_id = ?1 AND currency_id = ?2 AND from_ms <= ?3")
      .bind(1, account)
      .bind(2, currency)
      .bind(3, last_from)
      .run();
  return removed;
}

std::size_t SqliteStore::prune(TimePoint raw_cutoff, TimePoint rollup_cutoff, std::size_t batch) try {
  std::lock_guard lock(m_mutex);
  Transaction tx(m_db);
  const std::int64_t raw_ms = to_unix_ms(raw_cutoff);
  // Every (account, currency) pair, each then read by its primary-key prefix: no scan of the
  // readings or rollups tables, however long the history.
  std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
  auto& all = m_db.cached("SELECT a.id, c.id FROM accounts a, currencies c ORDER BY a.id, c.id");
  while (all.step()) pairs.emplace_back(all.int64(0), all.int64(1));
  std::size_t budget = std::max<std::size_t>(batch, 1);
  std::size_t removed = 0;
  for (const auto& [account, currency] : pairs) {
    if (budget == 0) break;
    const auto runs = prune_runs(account, currency, raw_ms, budget);
    removed += runs;
    budget -= std::min(budget, runs);
  }
  auto& hours = m_db.cached("DELETE FROM rollups WHERE account_id = ?1 AND currency_id = ?2 AND hour_ms < ?3");
  for (const auto& [account, currency] : pairs) {
    hours.bind(1, account).bind(2, currency).bind(3, to_unix_ms(rollup_cutoff)).run();
    removed += static_cast<std::size_t>(m_db.changes());
  }
  for (const char* sql : {"DELETE FROM failures WHERE ts_ms < ?1",
                          "DELETE FROM outbox WHERE state != 'pending' AND created_ms < ?1",
                          "DELETE FROM replicas WHERE last_seen_ms < ?1",
                          "DELETE FROM silences WHERE ends_ms < ?1"}) {
    m_db.cached(sql).bind(1, raw_ms).run();
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
