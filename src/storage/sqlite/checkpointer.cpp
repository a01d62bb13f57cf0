#include "creditwatch/storage/sqlite/checkpointer.hpp"

namespace creditwatch::storage {

Checkpointer::Checkpointer(const std::string& path, Duration every)
    : m_db(path), m_every(every), m_thread([this] { loop(); }) {}

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
      m_db.exec("PRAGMA wal_checkpoint(PASSIVE)");
      ++m_runs;
    } catch (const DatabaseError&) {
      // Busy or out of space: the next round tries again, and the writer's own
      // (raised) auto-checkpoint limit still bounds the log.
    }
    lock.lock();
  }
}

}  // namespace creditwatch::storage
