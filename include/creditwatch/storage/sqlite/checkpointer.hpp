#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/storage/sqlite/database.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace creditwatch::storage {

// Copies the write-ahead log back into the database from its own thread and connection,
// every `every`. SQLite otherwise checkpoints inside the COMMIT that crosses 1000 WAL pages,
// and that checkpoint's fsync then stalls every probe waiting on the same group commit. A
// PASSIVE checkpoint never blocks the writer. Stops (and joins) on destruction.
class Checkpointer {
public:
  Checkpointer(const std::string& path, Duration every);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints run so far (for tests and metrics).
  std::uint64_t runs() const { return m_runs.load(); }

private:
  void loop();

  Database m_db;
  Duration m_every;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::atomic<std::uint64_t> m_runs{0};
  std::thread m_thread;  // last: starts after everything it uses exists
};

}  // namespace creditwatch::storage
