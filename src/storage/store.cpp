#include "creditwatch/storage/store.hpp"

#include "creditwatch/storage/postgres/postgres_store.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

namespace creditwatch::storage {

const char* to_string(OutboxState state) {
  switch (state) {
    case OutboxState::pending: return "pending";
    case OutboxState::delivered: return "delivered";
    case OutboxState::dead: return "dead";
  }
  return "pending";
}

std::unique_ptr<Store> open_store(const StoreLocation& location) {
  if (location.url) return std::make_unique<PostgresStore>(*location.url);
  return std::make_unique<SqliteStore>(location.path);
}

}  // namespace creditwatch::storage
