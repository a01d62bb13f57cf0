#include "creditwatch/storage/sqlite/checkpointer.hpp"

#include <sqlite3.h>

namespace creditwatch::storage {

namespace {

// How long a restart may wait for the write lock (another process's writer) and then for
// readers of the old log. It holds the write lock while it waits for readers, so commits
// wait too: a reader that takes longer (a long report, a backup) makes it give up until a
// later round, never stall the probes for the connections' usual five seconds.
constexpr int k_restart_wait_ms = 100;

Database open_for_checkpoints(const std::string& path) {
  Database db(path);
  // Only a restart waits (a passive checkpoint never calls the busy handler).
  sqlite3_busy_timeout(db.handle(), k_restart_wait_ms);
  return db;
}

}  // namespace

Checkpointer::Checkpointer(const std::string& path, Duration every, std::mutex* writers)
    : m_db(open_for_checkpoints(path)), m_every(every), m_writers(writers), m_thread([this] { loop(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  m_thread.join();
}

void Checkpointer::loop() {
  std::unique_lock lock(m_mutex);
  while (!m_cv.wait_for(lock, m_every, [&] { return m_stop; })) {
    lock.unlock();
    try {
      checkpoint();
    } catch (const DatabaseError&) {
      // Busy or out of space: the next round tries again, and the writer's own
      // (raised) auto-checkpoint limit still bounds the log.
    }
    lock.lock();
  }
}

void Checkpointer::checkpoint() {
  sqlite3* db = m_db.handle();
  auto run = [&](int mode, const char* what, int& copied) {
    int log = 0;
    if (const int rc = sqlite3_wal_checkpoint_v2(db, nullptr, mode, &log, &copied); rc != SQLITE_OK) {
      throw DatabaseError(std::string(what) + " failed: " + sqlite3_errmsg(db), rc & 0xff);
    }
    return log;
  };
  int copied = 0;
  const int log = run(SQLITE_CHECKPOINT_PASSIVE, "checkpoint", copied);
  ++m_runs;
  // A reader of an older snapshot held the copy back: a restart would wait for it.
  if (log < k_restart_frames || copied < log) return;
  // What was committed since the passive round, under the write lock (free: our writers
  // are paused); then it waits (busy timeout) for other processes' readers of the old log
  // to finish, so the next commit starts it over.
  std::unique_lock<std::mutex> paused;
  if (m_writers) paused = std::unique_lock(*m_writers);
  run(SQLITE_CHECKPOINT_RESTART, "checkpoint (restart)", copied);
  ++m_restarts;
}

}  // namespace creditwatch::storage
