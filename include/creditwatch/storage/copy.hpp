#pragma once

// `creditwatch migrate`: a SQLite database copied into an empty PostgreSQL one, so a single
// process can become a set of replicas without losing its history, alert state or outbox.
#include "creditwatch/storage/database_error.hpp"
#include "creditwatch/storage/postgres/postgres_store.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace creditwatch::storage {

// How far the copy of one table is: rows copied so far, of how many.
struct TableProgress {
  std::string table;
  std::uint64_t copied = 0;
  std::uint64_t total = 0;
};

// What a finished copy wrote: each table's rows, in the order they were copied.
struct CopySummary {
  std::vector<TableProgress> tables;
  std::uint64_t pending_notifications = 0;  // of the outbox rows, those still to be sent
};

// Called after each batch of rows (and once per table when it has none).
using CopyProgress = std::function<void(const TableProgress&)>;

// The target already holds data; the message names the tables and their rows, e.g.
// "not empty: 12 rows in readings, 3 rows in outbox". Nothing was written.
class TargetNotEmpty : public DatabaseError {
public:
  using DatabaseError::DatabaseError;
};

// Rows read from SQLite and written to PostgreSQL per round trip: a year of samples streams
// through in batches instead of being held in memory.
inline constexpr std::size_t k_copy_batch_rows = 10'000;

// Copies every row of `from`'s schema-4 tables into `to`, keeping ids and times: accounts (with
// their probe counters), currencies, readings (runs) and their heads, failed probes, hourly
// rollups, ledger snapshots, alerts and the outbox. Ids are kept because the other tables
// refer to accounts and currencies by id.
// The outbox goes whole: pending rows are sent by the replicas as they would have been, and
// delivered and dead ones stay as history (prune removes them after storage.retention as
// before); claims are not carried over, since the process that held them is gone. Replicas
// and leases are not copied: the replicas announce themselves. PostgreSQL's id sequences are
// set past the copied ids.
//
// `from` is read as one snapshot; stop the daemon first, or what it writes during the copy
// stays behind. `to` is written in one transaction that first locks those tables and
// throws TargetNotEmpty if any holds a row, so a failure at any point leaves the target as it
// was. Text PostgreSQL cannot hold (NUL bytes, ill-formed UTF-8) is stored as safe_text makes
// it, as PostgresStore does. Throws DatabaseError.
CopySummary copy_database(SqliteStore& from, PostgresStore& to, const CopyProgress& progress = {});

}  // namespace creditwatch::storage
