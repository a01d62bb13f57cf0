#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace creditwatch::testing {

// While it lives, every SQLite connection opened in this process goes through a VFS that
// forwards to the real one and counts the syncs (fsync/fdatasync) of each file: proof of
// what a commit makes durable, without pulling the power. One at a time per process.
class SyncCounter {
public:
  SyncCounter();
  ~SyncCounter();
  SyncCounter(const SyncCounter&) = delete;
  SyncCounter& operator=(const SyncCounter&) = delete;

  // Syncs of the files whose path ends in `suffix` (e.g. "/cw.db-wal") since the counter
  // was created or reset.
  std::size_t syncs(const std::string& suffix) const;
  void reset();

  struct State;

private:
  std::unique_ptr<State> m_state;
};

}  // namespace creditwatch::testing
