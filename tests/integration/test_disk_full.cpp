// Disk full, end to end, two ways: `storage.max_size` caps the database (SQLite's
// max_page_count), and a real file system runs out of space (a small tmpfs, where the test
// may mount one). Either way the daemon's writes fail with SQLITE_FULL; it must log and count
// the failures, turn /healthz 503 with the reason, keep running and serving, and recover by
// itself once there is room again: after a reload that raises max_size, or as soon as
// space is freed on the file system, with no signal at all.
#include "http_daemon.hpp"

#include "creditwatch/storage/sqlite/database.hpp"

#include <doctest/doctest.h>

#include <sched.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>

using namespace creditwatch::testing;

namespace {

// Eight simulated accounts on 100 ms writing to `db_path`; `max_size` empty: no cap. The
// balance falls by about 12 cents every 100 ms (100,000 a day out of 10,000,000: a runway of
// 100 days, so nothing alerts), so every probe reads new figures and adds a readings row:
// an unchanged balance would only extend its run in place and never fill the database.
std::string full_config(const std::string& db_path, const std::string& max_size = "") {
  std::string accounts;
  for (int i = 0; i < 8; ++i) accounts += simulated_account("sim-" + std::to_string(i), "10000000", "100000");
  return "storage:\n  path: " + db_path + (max_size.empty() ? "" : "\n  max_size: " + max_size) +
         "\nhttp:\n  listen: 127.0.0.1:0\ndefaults:\n  interval: 100ms\nlogging:\n  level: info\naccounts:\n" +
         accounts;
}

// Waits until /healthz answers `status`; returns its body then, or nullopt after `timeout`.
std::optional<std::string> wait_for_health(const HttpDaemon& daemon, int status, std::chrono::seconds timeout) {
  std::optional<std::string> body;
  eventually(
      [&] {
        auto res = daemon.get("/healthz");
        if (res && res->status == status) body = res->body;
        return body.has_value();
      },
      timeout);
  return body;
}

bool integrity_ok(const std::string& db_path) {
  creditwatch::storage::Database db(db_path);
  auto check = db.prepare("PRAGMA integrity_check");
  return check.step() && check.text(0) == "ok";
}

double write_failures(const HttpDaemon& daemon) {
  auto res = daemon.get("/metrics");
  if (!res) return -1;
  static const std::regex line(R"(\ncreditwatch_storage_write_failures_total (\d+))");
  std::smatch match;
  return std::regex_search(res->body, match, line) ? std::stod(match[1].str()) : -1;
}

// Probes committed so far (schema 4 counts them per account instead of storing a row each).
std::int64_t probe_count(const std::string& db_path) {
  creditwatch::storage::Database db(db_path);
  auto s = db.prepare("SELECT COALESCE(SUM(ok_probes + failed_probes), 0) FROM accounts");
  s.step();
  return s.int64(0);
}

// A tmpfs of `size` mounted on a fresh directory, unmounted on destruction. The mount is
// made in a mount namespace of this thread's own (the daemon it forks inherits it), so a
// test killed halfway leaves nothing mounted on the host. Needs CAP_SYS_ADMIN (root in the
// CI container); without it `mounted()` is false.
class SmallFileSystem {
public:
  SmallFileSystem(const std::string& path, const std::string& size) : m_path(path) {
    std::filesystem::create_directories(path);
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      m_error = std::strerror(errno);
      return;
    }
    const std::string options = "size=" + size + ",mode=0755";
    m_mounted = ::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
    if (!m_mounted) m_error = std::strerror(errno);
  }
  ~SmallFileSystem() {
    if (m_mounted) ::umount2(m_path.c_str(), MNT_DETACH);
  }
  SmallFileSystem(const SmallFileSystem&) = delete;
  SmallFileSystem& operator=(const SmallFileSystem&) = delete;

  bool mounted() const { return m_mounted; }
  const std::string& error() const { return m_error; }

  // Fills what is left with one file, in 4 KiB writes until the file system refuses.
  void fill(const std::string& name) const {
    std::ofstream ballast(m_path + "/" + name, std::ios::binary);
    const std::string block(4096, 'x');
    while (ballast.write(block.data(), static_cast<std::streamsize>(block.size())) && ballast.flush()) {
    }
  }

private:
  std::string m_path;
  bool m_mounted = false;
  std::string m_error;
};

// A full database: /healthz says 503 and why, the failure is counted and logged, and the
// daemon stays up serving what it has.
void check_full_but_serving(HttpDaemon& daemon) {
  const auto reason = wait_for_health(daemon, 503, std::chrono::seconds(20));
  REQUIRE(reason);
  CHECK(reason->find("database write failed") != std::string::npos);
  CHECK(reason->find("full") != std::string::npos);
  CHECK(write_failures(daemon) > 0);
  CHECK(daemon.log().find("database or disk is full") != std::string::npos);
  CHECK(daemon.running());
  const auto accounts = daemon.get("/api/v1/accounts");
  REQUIRE(accounts);
  CHECK(accounts->status == 200);
}

}  // namespace

TEST_SUITE("disk_full") {
  TEST_CASE("a file system that runs out of space: 503 while full, recovery by itself once space is freed") {
    TempDir dir;
    SmallFileSystem fs(dir.file("fs"), "2m");
    if (!fs.mounted()) {
      // Not root here: the max_size case below covers the same code path through SQLite.
      MESSAGE("cannot mount a tmpfs (" << fs.error() << "): skipped");
      return;
    }
    const std::string db_path = dir.file("fs") + "/creditwatch.db";
    dir.write("creditwatch.yaml", full_config(db_path));
    HttpDaemon daemon(dir, {});
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(eventually([&] { return probe_count(db_path) > 16; }, std::chrono::seconds(10)));

    fs.fill("ballast");
    check_full_but_serving(daemon);

    // An operator frees space; nobody signals the daemon.
    std::filesystem::remove(dir.file("fs") + "/ballast");
    const auto before = probe_count(db_path);
    REQUIRE(wait_for_health(daemon, 200, std::chrono::seconds(10)));
    CHECK(eventually([&] { return probe_count(db_path) > before + 8; }, std::chrono::seconds(10)));
    CHECK(daemon.running());
    CHECK(daemon.terminate() == 0);
    CHECK(integrity_ok(db_path));
  }

  TEST_CASE("a full database turns healthz 503 and the daemon recovers when max_size is raised") {
    TempDir dir;
    dir.write("creditwatch.yaml", full_config(dir.file("creditwatch.db"), "64KiB"));
    HttpDaemon daemon(dir, {});
    daemon.start();
    INFO("daemon log:\n" << daemon.log());

    check_full_but_serving(daemon);
    const auto stuck = probe_count(daemon.db_path());

    dir.write("creditwatch.yaml", full_config(dir.file("creditwatch.db"), "64MiB"));
    daemon.signal(SIGHUP);
    REQUIRE(wait_for_health(daemon, 200, std::chrono::seconds(10)));
    CHECK(eventually([&] { return probe_count(daemon.db_path()) > stuck + 8; }, std::chrono::seconds(10)));
    CHECK(daemon.running());
    CHECK(daemon.terminate() == 0);
    CHECK(integrity_ok(daemon.db_path()));
  }

  TEST_CASE("storage.max_size rejects sizes it cannot honour") {
    TempDir dir;
    for (const auto& [value, message] :
         std::vector<std::pair<std::string, std::string>>{{"12 parsecs", "max_size: invalid size \"12 parsecs\""},
                                                          {"1KiB", "max_size must be at least 64KiB"},
                                                          {"99999999999GiB", "max_size: invalid size"}}) {
      CAPTURE(value);
      auto config =
          dir.write("c.yaml", "storage:\n  max_size: " + value + "\naccounts:\n  - name: a\n    provider: simulated\n");
      auto r = run_creditwatch({"validate", "-c", config});
      CHECK(r.exit_code == 1);
      CHECK((r.out + r.err).find(config + ":2:13: " + message) != std::string::npos);
    }
  }
}
