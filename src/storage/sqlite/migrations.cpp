#include "migrations.hpp"

#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include <array>
#include <string>

namespace creditwatch::storage {
namespace {

// Append new steps; never edit a released one. Index i upgrades user_version i -> i+1.
constexpr std::array<const char*, 3> k_steps = {
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
};

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
  for (auto step = static_cast<std::size_t>(version); step < k_steps.size(); ++step) db.exec(k_steps[step]);
  db.exec("PRAGMA user_version = " + std::to_string(newest));
  tx.commit();
}

}  // namespace creditwatch::storage
