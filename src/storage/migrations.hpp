#pragma once

#include "creditwatch/storage/database.hpp"

namespace creditwatch::storage {

// Brings the schema up to the newest version, one step per PRAGMA user_version, each
// step in its own transaction. Refuses a database newer than this binary.
void apply_migrations(Database& db);

}  // namespace creditwatch::storage
