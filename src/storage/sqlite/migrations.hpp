#pragma once

#include "creditwatch/storage/sqlite/database.hpp"

namespace creditwatch::storage {

// Brings the schema up to the newest version, one step per PRAGMA user_version, all of
// them and the version bump in one immediate transaction (so concurrent first opens of a
// new file cannot both migrate). Refuses a database newer than this binary.
void apply_migrations(Database& db);

}  // namespace creditwatch::storage
