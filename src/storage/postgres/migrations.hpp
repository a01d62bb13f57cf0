#pragma once

#include "connection.hpp"

namespace creditwatch::storage::postgres {

// Brings the schema up to the newest version (the same versions and tables as SQLite's),
// under a transaction-scoped advisory lock, so replicas starting together take turns: the
// first migrates, the others find the schema current. Refuses a newer database.
void apply_migrations(Connection& connection);
// The same, up to `version` only: tests build databases of older versions with it.
void apply_migrations_up_to(Connection& connection, int version);
int schema_version(Connection& connection);

}  // namespace creditwatch::storage::postgres
