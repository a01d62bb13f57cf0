#pragma once

#include "creditwatch/config/config.hpp"
#include "creditwatch/storage/store.hpp"

namespace creditwatch::app {

// The database `storage:` names: PostgreSQL when a URL is given, else the SQLite file.
inline storage::StoreLocation store_location(const config::StorageConfig& storage) {
  return storage::StoreLocation{storage.path, storage.url};
}

}  // namespace creditwatch::app
