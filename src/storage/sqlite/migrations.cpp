#include "migrations.hpp"

#include "creditwatch/storage/run_rule.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include <array>
#include <optional>
#include <string>

namespace creditwatch::storage {
namespace {

// Append new steps; never edit a released one. Index i upgrades user_version i -> i+1.
constexpr std::array<const char*, 5> k_steps = {
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('heartbeat', '');
CREATE TABLE samples (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  currency TEXT NOT NULL,
  balance_micros INTEGER NOT NULL,
  spend_micros INTEGER,
  details TEXT NOT NULL DEFAULT ''
);
CREATE INDEX samples_by_account_time ON samples (account, ts_ms);
CREATE TABLE probes (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  http_status INTEGER NOT NULL DEFAULT 0,
  latency_seconds REAL NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX probes_by_account_time ON probes (account, ts_ms);
CREATE TABLE alerts (
  account TEXT NOT NULL,
  rule TEXT NOT NULL,
  state TEXT NOT NULL,
  severity TEXT NOT NULL,
  since_ms INTEGER NOT NULL,
  last_notified_ms INTEGER NOT NULL,
  context TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (account, rule)
);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  created_ms INTEGER NOT NULL,
  notifier TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  last_error TEXT NOT NULL DEFAULT '',
  delivered_ms INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);
)sql",
    // The outbox sends the states of one alert in order: it looks up the oldest pending row
    // of each (notifier, dedup_key).
    R"sql(
CREATE INDEX outbox_pending_by_key ON outbox (notifier, dedup_key, id) WHERE state = 'pending';
)sql",
    // Replicas sharing one database: who is alive, who probes which account, and who is
    // sending which notification (the same tables as PostgreSQL's, so one suite checks both).
    R"sql(
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claim_until_ms INTEGER NOT NULL DEFAULT 0;
CREATE TABLE replicas (id TEXT PRIMARY KEY, started_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);
CREATE TABLE leases (account TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_ms INTEGER NOT NULL);
CREATE INDEX leases_by_owner ON leases (owner);
)sql",
    // Schema 4 (issue 16): accounts and currencies by id; one row per run of identical
    // readings instead of one per reading; successful probes counted, not stored; hourly
    // rollups once raw runs age out; forecaster ledger snapshots. move_schema3_history() then
    // moves samples and probes over and drops them. alerts, outbox, leases and replicas keep
    // account names: they are small, and read by name.
    R"sql(
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  last_ok_ms INTEGER NOT NULL DEFAULT 0,
  last_ok_latency REAL NOT NULL DEFAULT 0,
  ok_probes INTEGER NOT NULL DEFAULT 0,
  failed_probes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE currencies (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
CREATE TABLE readings (
  account_id INTEGER NOT NULL,
  currency_id INTEGER NOT NULL,
  from_ms INTEGER NOT NULL,
  held_ms INTEGER NOT NULL DEFAULT 0,
  balance_micros INTEGER NOT NULL,
  spend_micros INTEGER,
  details TEXT,
  PRIMARY KEY (account_id, currency_id, from_ms)
) WITHOUT ROWID;
CREATE TABLE heads (
  account_id INTEGER NOT NULL,
  currency_id INTEGER NOT NULL,
  from_ms INTEGER NOT NULL,
  seen_ms INTEGER NOT NULL,
  anchor_ms INTEGER NOT NULL,
  balance_micros INTEGER NOT NULL,
  spend_micros INTEGER,
  details TEXT NOT NULL,
  PRIMARY KEY (account_id, currency_id)
) WITHOUT ROWID;
CREATE TABLE failures (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  http_status INTEGER NOT NULL DEFAULT 0,
  latency_seconds REAL NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX failures_by_account_time ON failures (account_id, ts_ms);
CREATE TABLE rollups (
  account_id INTEGER NOT NULL,
  currency_id INTEGER NOT NULL,
  hour_ms INTEGER NOT NULL,
  open_micros INTEGER NOT NULL,
  close_micros INTEGER NOT NULL,
  low_micros INTEGER NOT NULL,
  spend_micros INTEGER NOT NULL,
  deposits_micros INTEGER NOT NULL,
  readings INTEGER NOT NULL,
  PRIMARY KEY (account_id, currency_id, hour_ms)
) WITHOUT ROWID;
CREATE TABLE ledgers (
  account_id INTEGER NOT NULL,
  currency_id INTEGER NOT NULL,
  saved_ms INTEGER NOT NULL,
  state BLOB NOT NULL,
  PRIMARY KEY (account_id, currency_id)
) WITHOUT ROWID;
)sql",
    // Schema 5 (issue 18): operators' silences and acknowledgements. Few rows, read whole on
    // each sync, so no index beyond the keys.
    R"sql(
CREATE TABLE silences (
  id TEXT PRIMARY KEY,
  matchers TEXT NOT NULL,
  starts_ms INTEGER NOT NULL,
  ends_ms INTEGER NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE TABLE acks (
  account TEXT NOT NULL,
  rule TEXT NOT NULL,
  acked_by TEXT NOT NULL DEFAULT '',
  at_ms INTEGER NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  severity TEXT NOT NULL,
  PRIMARY KEY (account, rule)
);
)sql",
};

// The run being built for one account and currency while schema-3 samples are moved.
struct OpenRun {
  std::int64_t account_id = 0;
  std::int64_t currency_id = 0;
  RunHead head;
  std::string details;  // in full, for heads
  bool store_details = true;
};

// Moves schema-3 samples and probes into schema 4's tables, compacting samples into runs with
// the writer's rule (run_rule.hpp), then drops them. Runs inside the migration's transaction.
void move_schema3_history(Database& db) {
  // Ids in order of first appearance, so readings of one instant keep their written order.
  db.exec("INSERT INTO accounts (name) SELECT account FROM samples GROUP BY account ORDER BY MIN(id)");
  db.exec("INSERT OR IGNORE INTO accounts (name) SELECT account FROM probes GROUP BY account ORDER BY MIN(id)");
  db.exec("INSERT INTO currencies (code) SELECT currency FROM samples GROUP BY currency ORDER BY MIN(id)");
  db.exec("UPDATE accounts SET ok_probes = (SELECT COUNT(*) FROM probes p WHERE p.account = accounts.name AND "
          "p.outcome = 'ok'), failed_probes = (SELECT COUNT(*) FROM probes p WHERE p.account = accounts.name AND "
          "p.outcome != 'ok'), last_ok_ms = IFNULL((SELECT MAX(ts_ms) FROM probes p WHERE p.account = accounts.name "
          "AND p.outcome = 'ok'), 0)");
  db.exec("UPDATE accounts SET last_ok_latency = IFNULL((SELECT latency_seconds FROM probes p WHERE p.account = "
          "accounts.name AND p.outcome = 'ok' AND p.ts_ms = accounts.last_ok_ms ORDER BY p.id DESC LIMIT 1), 0)");
  db.exec("INSERT INTO failures (account_id, ts_ms, outcome, http_status, latency_seconds, message) SELECT a.id, "
          "p.ts_ms, p.outcome, p.http_status, p.latency_seconds, p.message FROM probes p JOIN accounts a ON a.name = "
          "p.account WHERE p.outcome != 'ok' ORDER BY p.id");

  auto insert_run = db.prepare(
      "INSERT INTO readings (account_id, currency_id, from_ms, held_ms, balance_micros, spend_micros, details) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  auto insert_head = db.prepare(
      "INSERT INTO heads (account_id, currency_id, from_ms, seen_ms, anchor_ms, balance_micros, spend_micros, "
      "details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  auto bind_money = [](Statement& s, int index, const RunHead& h) {
    s.bind(index, h.balance.micros());
    s.bind_optional(index + 1, h.spend_total ? std::optional<std::int64_t>(h.spend_total->micros()) : std::nullopt);
  };
  auto flush = [&](const OpenRun& run, bool last) {
    insert_run.bind(1, run.account_id).bind(2, run.currency_id).bind(3, run.head.from_ms);
    insert_run.bind(4, run.head.seen_ms - run.head.from_ms);
    bind_money(insert_run, 5, run.head);
    if (run.store_details) {
      insert_run.bind(7, run.details);
    } else {
      insert_run.bind_null(7);
    }
    insert_run.run();
    if (!last) return;
    insert_head.bind(1, run.account_id).bind(2, run.currency_id).bind(3, run.head.from_ms);
    insert_head.bind(4, run.head.seen_ms).bind(5, run.head.anchor_ms);
    bind_money(insert_head, 6, run.head);
    insert_head.bind(8, run.details).run();
  };

  auto samples = db.prepare(
      "SELECT a.id, c.id, s.ts_ms, s.balance_micros, s.spend_micros, s.details FROM samples s JOIN accounts a ON "
      "a.name = s.account JOIN currencies c ON c.code = s.currency ORDER BY a.id, c.id, s.ts_ms, s.id");
  std::optional<OpenRun> run;
  while (samples.step()) {
    const std::int64_t account_id = samples.int64(0);
    const std::int64_t currency_id = samples.int64(1);
    const std::int64_t at_ms = samples.int64(2);
    const Decimal balance = Decimal::from_micros(samples.int64(3));
    const std::optional<Decimal> spend =
        samples.is_null(4) ? std::nullopt : std::optional<Decimal>(Decimal::from_micros(samples.int64(4)));
    std::string details = samples.text(5);
    const bool same_pair = run && run->account_id == account_id && run->currency_id == currency_id;
    if (run && !same_pair) {
      flush(*run, true);
      run.reset();
    }
    const RunDecision step = next_run_step(run ? std::optional<RunHead>(run->head) : std::nullopt, at_ms, balance,
                                           spend, run && run->details == details);
    if (step.step == RunStep::late) continue;  // a second sample of one instant: the writer drops it too
    if (step.step == RunStep::extend) {
      run->head.seen_ms = at_ms;
      continue;
    }
    if (run) flush(*run, false);
    run = OpenRun{account_id, currency_id, RunHead{at_ms, at_ms, step.anchor_ms, balance, spend}, std::move(details),
                  step.full_details};
  }
  if (run) flush(*run, true);
  db.exec("DROP TABLE samples; DROP TABLE probes;");
}

int user_version(Database& db) {
  auto s = db.prepare("PRAGMA user_version");
  s.step();
  return static_cast<int>(s.int64(0));
}

}  // namespace

void apply_migrations(Database& db) {
  static_assert(k_steps.size() == SqliteStore::k_schema_version);
  const auto newest = static_cast<int>(k_steps.size());
  if (user_version(db) == newest) return;  // the usual open: no write lock taken
  // The version is read again and bumped under one write lock: two processes opening a new
  // database at once (`check` racing a first `run`) take turns, and the second finds the
  // schema already current instead of creating its tables a second time.
  Transaction tx(db);
  const int version = user_version(db);
  if (version > newest) {
    throw DatabaseError("database schema version " + std::to_string(version) +
                        " is newer than this creditwatch understands (" + std::to_string(newest) + ")");
  }
  for (auto step = static_cast<std::size_t>(version); step < k_steps.size(); ++step) {
    db.exec(k_steps[step]);
    if (step == 3) move_schema3_history(db);
  }
  db.exec("PRAGMA user_version = " + std::to_string(newest));
  tx.commit();
}

}  // namespace creditwatch::storage
