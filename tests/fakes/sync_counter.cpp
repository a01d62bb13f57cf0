#include "fakes/sync_counter.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace creditwatch::testing {

// The registered VFS carries no user pointer the io methods can reach, so the one live
// counter is found through this.
static SyncCounter::State* g_state = nullptr;

struct SyncCounter::State {
  sqlite3_vfs vfs{};
  sqlite3_vfs* real = nullptr;
  mutable std::mutex mutex;
  std::map<std::string, std::size_t> syncs;
};

namespace {

// Our file: SQLite allocates szOsFile bytes for it; the real VFS's file follows ours.
struct CountingFile {
  sqlite3_file base;
  const std::string* path;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

CountingFile* of(sqlite3_file* f) { return reinterpret_cast<CountingFile*>(f); }
const sqlite3_io_methods& real_methods(sqlite3_file* f) { return *of(f)->real()->pMethods; }

int x_close(sqlite3_file* f) {
  const int rc = real_methods(f).xClose(of(f)->real());
  delete of(f)->path;
  return rc;
}
int x_read(sqlite3_file* f, void* b, int n, sqlite3_int64 o) { return real_methods(f).xRead(of(f)->real(), b, n, o); }
int x_write(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
  return real_methods(f).xWrite(of(f)->real(), b, n, o);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return real_methods(f).xTruncate(of(f)->real(), size); }
int x_sync(sqlite3_file* f, int flags) {
  if (g_state) {
    std::lock_guard lock(g_state->mutex);
    ++g_state->syncs[*of(f)->path];
  }
  return real_methods(f).xSync(of(f)->real(), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return real_methods(f).xFileSize(of(f)->real(), size); }
int x_lock(sqlite3_file* f, int level) { return real_methods(f).xLock(of(f)->real(), level); }
int x_unlock(sqlite3_file* f, int level) { return real_methods(f).xUnlock(of(f)->real(), level); }
int x_check_reserved(sqlite3_file* f, int* out) { return real_methods(f).xCheckReservedLock(of(f)->real(), out); }
int x_file_control(sqlite3_file* f, int op, void* arg) { return real_methods(f).xFileControl(of(f)->real(), op, arg); }
int x_sector_size(sqlite3_file* f) { return real_methods(f).xSectorSize(of(f)->real()); }
int x_device(sqlite3_file* f) { return real_methods(f).xDeviceCharacteristics(of(f)->real()); }
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real_methods(f).xShmMap(of(f)->real(), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_methods(f).xShmLock(of(f)->real(), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real_methods(f).xShmBarrier(of(f)->real()); }
int x_shm_unmap(sqlite3_file* f, int remove) { return real_methods(f).xShmUnmap(of(f)->real(), remove); }
int x_fetch(sqlite3_file* f, sqlite3_int64 o, int n, void** out) { return real_methods(f).xFetch(of(f)->real(), o, n, out); }
int x_unfetch(sqlite3_file* f, sqlite3_int64 o, void* p) { return real_methods(f).xUnfetch(of(f)->real(), o, p); }

const sqlite3_io_methods k_methods = {3,        x_close,          x_read,         x_write,  x_truncate,
                                      x_sync,   x_file_size,      x_lock,         x_unlock, x_check_reserved,
                                      x_file_control, x_sector_size, x_device,    x_shm_map, x_shm_lock,
                                      x_shm_barrier, x_shm_unmap, x_fetch,        x_unfetch};

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* real = static_cast<sqlite3_vfs*>(vfs->pAppData);
  auto* counting = of(file);
  counting->base.pMethods = nullptr;
  const int rc = real->xOpen(real, name, counting->real(), flags, out_flags);
  if (rc != SQLITE_OK || counting->real()->pMethods == nullptr) return rc;
  counting->path = new std::string(name ? name : "");
  counting->base.pMethods = &k_methods;
  return rc;
}

}  // namespace

SyncCounter::SyncCounter() : m_state(std::make_unique<State>()) {
  if (g_state) throw std::logic_error("one SyncCounter at a time");
  sqlite3_initialize();
  m_state->real = sqlite3_vfs_find(nullptr);
  m_state->vfs = *m_state->real;
  m_state->vfs.zName = "creditwatch-sync-counter";
  m_state->vfs.szOsFile = static_cast<int>(sizeof(CountingFile)) + m_state->real->szOsFile;
  m_state->vfs.pAppData = m_state->real;
  m_state->vfs.xOpen = x_open;
  m_state->vfs.pNext = nullptr;
  g_state = m_state.get();
  sqlite3_vfs_register(&m_state->vfs, 1);
}

SyncCounter::~SyncCounter() {
  sqlite3_vfs_unregister(&m_state->vfs);
  g_state = nullptr;
}

std::size_t SyncCounter::syncs(const std::string& suffix) const {
  std::lock_guard lock(m_state->mutex);
  std::size_t total = 0;
  for (const auto& [path, count] : m_state->syncs) {
    if (path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      total += count;
    }
  }
  return total;
}

void SyncCounter::reset() {
  std::lock_guard lock(m_state->mutex);
  m_state->syncs.clear();
}

}  // namespace creditwatch::testing
