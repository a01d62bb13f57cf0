// The PostgreSQL test fixture itself: a real server that psql reaches through url(), databases
// that start empty and apart, roles that must give their password, data kept across stop/start
// and recovered after a SIGKILL, and nothing left behind when the test process dies.
#include "fakes/postgres_server.hpp"
#include "fakes/process.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

ProcessResult psql_at(const std::string& url, const std::string& sql) {
  return run_process({PostgresServer::binary("psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql},
                     {{"PGCONNECT_TIMEOUT", "5"}});
}

// What psql printed for a query that must succeed.
std::string answer(const std::string& url, const std::string& sql) {
  const ProcessResult result = psql_at(url, sql);
  REQUIRE_MESSAGE(result.exit_code == 0, sql << ": " << result.err);
  return result.out;
}

}  // namespace

TEST_SUITE("postgres_server") {
  TEST_CASE("psql reaches the shared server through its url" * doctest::skip(PostgresServer::skipped())) {
    PostgresServer& server = PostgresServer::shared();
    CHECK(server.url() == "postgresql://postgres@127.0.0.1:" + std::to_string(server.port()) + "/creditwatch");
    CHECK(answer(server.url(), "select 1") == "1\n");
    CHECK(&PostgresServer::shared() == &server);
  }

  TEST_CASE("each created database starts empty and apart from the others" * doctest::skip(PostgresServer::skipped())) {
    PostgresServer& server = PostgresServer::shared();
    const std::string first = server.create_database("fixture_first");
    const std::string second = server.create_database("fixture_second");
    CHECK(first == server.url("fixture_first"));
    answer(first, "create table t (i int); insert into t values (1), (2)");
    const std::string tables = "select count(*) from pg_tables where tablename = 't'";
    CHECK(answer(first, tables) == "1\n");
    CHECK(answer(second, tables) == "0\n");

    // Created again (a re-run SUBCASE does that), even with a session still open on it.
    BackgroundProcess idle({PostgresServer::binary("psql"), "-X", "-d", first, "-c", "select pg_sleep(60)"}, {},
                           server.directory() + "/idle.log");
    REQUIRE(eventually(
        [&] {
          return answer(first,
                        "select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> "
                        "pg_backend_pid()") == "1\n";
        },
        10s));
    server.create_database("fixture_first");
    CHECK(answer(first, tables) == "0\n");
  }

  TEST_CASE("a role with a password is refused without it" * doctest::skip(PostgresServer::skipped())) {
    PostgresServer& server = PostgresServer::shared();
    const PostgresRole role = server.create_role("fixture_role", "p@ss:w/rd 'x'");
    server.create_database("fixture_owned", role.name);
    const std::string url = server.url(role, "fixture_owned");
    CHECK(url == "postgresql://fixture_role:p%40ss%3Aw%2Frd%20%27x%27@127.0.0.1:" + std::to_string(server.port()) +
                     "/fixture_owned");
    CHECK(answer(url, "select current_user") == "fixture_role\n");
    answer(url, "create table mine (i int)");  // the owner may create in its database

    const ProcessResult wrong = psql_at(server.url({role.name, "not it"}, "fixture_owned"), "select 1");
    CHECK(wrong.exit_code != 0);
    CHECK(wrong.err.find("password authentication failed") != std::string::npos);
    const ProcessResult none =
        psql_at("postgresql://fixture_role@127.0.0.1:" + std::to_string(server.port()) + "/fixture_owned", "select 1");
    CHECK(none.exit_code != 0);
  }

  TEST_CASE("stop then start keeps the data on the same port" * doctest::skip(PostgresServer::skipped())) {
    PostgresServer server;
    const int port = server.port();
    answer(server.url(), "create table t (i int); insert into t select generate_series(1, 100)");

    server.stop();
    CHECK_FALSE(server.running());
    const ProcessResult refused = psql_at(server.url(), "select 1");
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("Connection refused") != std::string::npos);

    const std::size_t log_before = server.log().size();
    server.start();
    CHECK(server.running());
    CHECK(server.port() == port);
    CHECK(answer(server.url(), "select count(*) from t") == "100\n");
    // A clean shutdown: no crash recovery.
    const std::string restart_log = server.log().substr(log_before);
    CHECK(restart_log.find("database system was shut down at") != std::string::npos);
    CHECK(restart_log.find("database system was interrupted") == std::string::npos);
  }

  TEST_CASE("kill then start recovers every committed row" * doctest::skip(PostgresServer::skipped())) {
    PostgresServer server;
    answer(server.url(), "create table t (i int)");
    for (int commit = 0; commit < 20; ++commit) answer(server.url(), "insert into t select generate_series(1, 50)");

    server.kill();
    CHECK_FALSE(server.running());
    CHECK(psql_at(server.url(), "select 1").err.find("Connection refused") != std::string::npos);

    server.start();
    CHECK(answer(server.url(), "select count(*) from t") == "1000\n");
    // Crash recovery ran: the kill was no clean shutdown.
    CHECK(server.log().find("database system was interrupted") != std::string::npos);
    CHECK(server.log().find("redo done") != std::string::npos);
  }

  TEST_CASE("a test process that dies leaves no server and no files behind" *
            doctest::skip(PostgresServer::skipped())) {
    int report[2];
    REQUIRE(pipe(report) == 0);
    const pid_t child = fork();
    if (child == 0) {
      // No destructors run after _exit(): only the reaper can clean up.
      close(report[0]);
      try {
        PostgresServer server;
        const std::string line = std::to_string(server.port()) + " " + server.directory() + "\n";
        _exit(write(report[1], line.data(), line.size()) < 0 ? 2 : 0);
      } catch (...) {
        _exit(3);
      }
    }
    close(report[1]);
    // Until the child exits, closing its end.
    std::string line;
    char buffer[512];
    for (ssize_t n; (n = read(report[0], buffer, sizeof buffer)) > 0;) line.append(buffer, static_cast<std::size_t>(n));
    close(report[0]);
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    const int port = std::stoi(line);
    const std::string directory = line.substr(line.find(' ') + 1, line.find('\n') - line.find(' ') - 1);

    CHECK(eventually([&] { return !std::filesystem::exists(directory); }, 15s));
    const std::string url = "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/creditwatch";
    CHECK(psql_at(url, "select 1").err.find("Connection refused") != std::string::npos);
  }
}
