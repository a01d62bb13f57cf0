#include "migrations.hpp"

#include "creditwatch/storage/postgres/postgres_store.hpp"

#include <array>
#include <string>

namespace creditwatch::storage::postgres {
namespace {

// Append new steps; never edit a released one. Index i upgrades version i -> i+1. The steps
// mirror SQLite's (src/storage/sqlite/migrations.cpp) one for one, so a version number means
// the same tables in both databases and `migrate --to` can copy between them.
constexpr std::array<const char*, 3> k_steps = {
    R"sql(
CREATE TABLE samples (
  id BIGSERIAL PRIMARY KEY,
  account TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  currency TEXT NOT NULL,
  balance_micros BIGINT NOT NULL,
  spend_micros BIGINT,
  details TEXT NOT NULL DEFAULT ''
);
CREATE INDEX samples_by_account_time ON samples (account, ts_ms);
CREATE TABLE probes (
  id BIGSERIAL PRIMARY KEY,
  account TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  outcome TEXT NOT NULL,
  http_status INTEGER NOT NULL DEFAULT 0,
  latency_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX probes_by_account_time ON probes (account, ts_ms);
CREATE TABLE alerts (
  account TEXT NOT NULL,
  rule TEXT NOT NULL,
  state TEXT NOT NULL,
  severity TEXT NOT NULL,
  since_ms BIGINT NOT NULL,
  last_notified_ms BIGINT NOT NULL,
  context TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (account, rule)
);
CREATE TABLE outbox (
  id BIGSERIAL PRIMARY KEY,
  created_ms BIGINT NOT NULL,
  notifier TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  last_error TEXT NOT NULL DEFAULT '',
  delivered_ms BIGINT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);
)sql",
    R"sql(
CREATE INDEX outbox_pending_by_key ON outbox (notifier, dedup_key, id) WHERE state = 'pending';
)sql",
    R"sql(
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claim_until_ms BIGINT NOT NULL DEFAULT 0;
CREATE TABLE replicas (id TEXT PRIMARY KEY, started_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL);
CREATE TABLE leases (account TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_ms BIGINT NOT NULL);
CREATE INDEX leases_by_owner ON leases (owner);
)sql",
};

// Any number; the same for every creditwatch, so replicas starting together serialise.
constexpr const char* k_migration_lock = "SELECT pg_advisory_xact_lock(7264383)";

}  // namespace

int schema_version(Connection& connection) {
  const auto exists = connection.run_once("SELECT to_regclass('meta') IS NOT NULL");
  if (exists.text(0, 0) != "t") return 0;
  const auto version = connection.run_once("SELECT value FROM meta WHERE key = 'schema_version'");
  return version.rows() == 0 ? 0 : std::stoi(version.text(0, 0));
}

void apply_migrations(Connection& connection) {
  static_assert(k_steps.size() == PostgresStore::k_schema_version);
  const auto newest = static_cast<int>(k_steps.size());
  if (schema_version(connection) == newest) return;
  Transaction tx(connection);
  connection.exec(k_migration_lock);
  connection.exec(
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "INSERT INTO meta (key, value) VALUES ('heartbeat', '') ON CONFLICT (key) DO NOTHING");
  const int version = schema_version(connection);
  if (version > newest) {
    throw DatabaseError("database schema version " + std::to_string(version) +
                        " is newer than this creditwatch understands (" + std::to_string(newest) + ")");
  }
  for (auto step = static_cast<std::size_t>(version); step < k_steps.size(); ++step) connection.exec(k_steps[step]);
  connection.run_once(
      "INSERT INTO meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET "
      "value = excluded.value",
      {std::to_string(newest)});
  tx.commit();
}

}  // namespace creditwatch::storage::postgres
