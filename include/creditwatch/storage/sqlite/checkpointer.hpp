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
// and that checkpoint's fsync then stalls every probe waiting on the same group commit.
//
// Each round first copies what it can without blocking anyone (PASSIVE). Under a steady
// stream of commits that alone never lets the log start over: a commit lands while it
// copies, so the log is never wholly copied when the next one begins, and it would grow
// until the writer's own auto-checkpoint cap (SqliteStore::k_wal_cap_pages) ran a
// checkpoint, with its fsyncs, inside a probe commit. So once the log holds
// k_restart_frames or more, the round also copies the few frames committed meanwhile with
// the writers paused (RESTART, holding `writers`, the mutex every write on the store's
// connection holds: commits wait for that short copy and its syncs instead of polling for
// SQLite's write lock), and the next commit writes the log from its start again. Stops
// (and joins) on destruction.
class Checkpointer {
public:
  // `writers`: held by every write on the writing connection (nullptr: none to pause).
  Checkpointer(const std::string& path, Duration every, std::mutex* writers = nullptr);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // A log this long (in frames, about 4 KiB each) is started over at the next round.
  static constexpr int k_restart_frames = 1000;

  // Checkpoints run so far (for tests and metrics).
  std::uint64_t runs() const { return m_runs.load(); }
  // Times a round made the log start over (for tests).
  std::uint64_t restarts() const { return m_restarts.load(); }
  // One round, now (the thread runs one every `every`). Throws DatabaseError when the
  // database is busy past the busy timeout or cannot be written.
  void checkpoint();

private:
  void loop();

  Database m_db;
  Duration m_every;
  std::mutex* m_writers;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::atomic<std::uint64_t> m_runs{0};
  std::atomic<std::uint64_t> m_restarts{0};
  std::thread m_thread;  // last: starts after everything it uses exists
};

}  // namespace creditwatch::storage
