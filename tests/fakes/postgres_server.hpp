#pragma once

// A real PostgreSQL 15 server (Debian's `postgresql` package) for the tests, in its own temp
// dir on a free loopback port, removed with everything in it on destruction. As root (CI) the
// server runs as the `postgres` OS user, since initdb and postgres refuse root.
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace creditwatch::testing {

// A login role that must give its password over TCP (scram-sha-256), for URLs with secrets.
struct PostgresRole {
  std::string name;
  std::string password;
};

// One cluster (initdb) and its postmaster, a child of this process. The bootstrap superuser
// `postgres` connects without a password; the database `creditwatch` exists from the start.
// Not thread-safe: drive one server from one thread at a time.
class PostgresServer {
public:
  // Runs initdb and starts the server; throws std::runtime_error, with the server log's tail,
  // when either fails, and when the binaries are missing (see skipped()).
  PostgresServer();
  // Stops the server (immediate shutdown) and removes its directory.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // One server for the whole test process, started on first use and restarted if a test left it
  // stopped: initdb costs far more than a database. Tests that stop or kill it make their own.
  static PostgresServer& shared();
  // True when the PostgreSQL binaries are missing and CREDITWATCH_TEST_PG_SKIP is set: the only
  // case in which tests may skip (TEST_CASE("..." * doctest::skip(PostgresServer::skipped()))).
  // Without the variable, missing binaries fail the tests.
  static bool skipped();
  // The path of a PostgreSQL program ("psql", "pg_dump", ...) of the version the tests run.
  static std::string binary(const std::string& name);

  int port() const { return m_port; }
  // The temp dir holding data/, the log and the unix socket.
  const std::string& directory() const { return m_dir.path(); }
  // postgresql://postgres@127.0.0.1:PORT/DATABASE (the superuser, no password needed).
  std::string url(const std::string& database = "creditwatch") const;
  // postgresql://NAME:PASSWORD@127.0.0.1:PORT/DATABASE, both percent-encoded.
  std::string url(const PostgresRole& role, const std::string& database = "creditwatch") const;

  // A new empty database (dropped first if it exists, so a re-run SUBCASE starts afresh), owned
  // by `owner`; returns url(name). Names are [a-z0-9_] only.
  std::string create_database(const std::string& name, const std::string& owner = "postgres");
  // A login role with that password (created, or its password reset if it exists).
  PostgresRole create_role(const std::string& name, const std::string& password);
  // Runs SQL through psql as the superuser (-At, stops at the first error).
  ProcessResult psql(const std::string& sql, const std::string& database = "creditwatch") const;

  // Fast shutdown (SIGINT): sessions are ended, everything committed is kept.
  void stop();
  // Starts again on the same port and data; a no-op when running. Recovers after kill().
  void start();
  // SIGKILLs the postmaster and every process it forked at once, as a host or OOM crash would;
  // nothing is shut down cleanly and start() runs crash recovery.
  void kill();
  bool running();

  // The server's own log (stderr of the postmaster) since initdb.
  std::string log() const;

private:
  enum class Launch { ready, port_taken, failed };

  void init_cluster();
  void start_reaper();
  void tell_reaper(const std::string& postmaster_pid) const;
  void start_on_a_free_port();
  Launch launch();
  bool wait_ready();
  bool wait_exit(std::chrono::milliseconds timeout);
  void run_sql(const std::vector<std::string>& statements) const;
  std::string failure(const std::string& what) const;
  void tear_down();

  TempDir m_dir;
  bool m_as_postgres_user = false;
  unsigned m_uid = 0;
  unsigned m_gid = 0;
  int m_port = 0;
  int m_postmaster = -1;
  int m_reaper = -1;
  int m_reaper_socket = -1;
};

}  // namespace creditwatch::testing
