// What only the shared backend has to get right, beyond the conformance suite that both
// pass (test_storage_conformance.cpp): replicas racing on one database, the server going away
// and coming back, passwords kept out of errors, and the connection string a URL becomes.
#include "fakes/postgres_server.hpp"
#include "fakes/process.hpp"
#include "fakes/store_fixtures.hpp"

// conninfo_for is the pool's own business; tested here through its private header.
#include "../../src/storage/postgres/connection.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

using creditwatch::TimePoint;
using creditwatch::storage::Claim;
using creditwatch::storage::DatabaseError;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using creditwatch::storage::PostgresStore;
using creditwatch::storage::postgres::conninfo_for;
using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

const TimePoint k_t0 = k_store_t0;

// Starts every thread's `work(index)` at once (after all are spawned) and joins them.
template <typename Work>
void race(int threads, Work work) {
  std::atomic<int> ready{0};
  std::vector<std::thread> running;
  for (int i = 0; i < threads; ++i) {
    running.emplace_back([&, i] {
      ++ready;
      while (ready < threads) std::this_thread::yield();
      work(i);
    });
  }
  for (auto& thread : running) thread.join();
}

std::string what_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const DatabaseError& e) {
    return e.what();
  }
  return "(no DatabaseError)";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Server processes serving `database` (the pool's connections).
int sessions(PostgresServer& server, const std::string& database) {
  const auto result = server.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database + "'", "postgres");
  REQUIRE(result.exit_code == 0);
  return std::stoi(result.out);
}

}  // namespace

TEST_SUITE("storage_postgres_store") {
  TEST_CASE("postgres store: replicas racing to claim the same notifications get each one exactly once" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresBackend backend;
    const auto first = backend.open();
    const auto second = backend.open();
    constexpr int k_rows = 200;
    constexpr int k_senders = 8;  // four threads on each store, each a sender of its own
    std::vector<OutboxRow> rows;
    for (int i = 0; i < k_rows; ++i) rows.push_back(outbox_row("pd", k_t0, k_t0, "acct-" + std::to_string(i)));
    first->save_alert(alert_row("a", "runway", "firing", k_t0), rows);
    std::vector<std::int64_t> ids;
    for (const auto& row : first->notifications()) ids.push_back(row.id);
    REQUIRE(ids.size() == k_rows);

    // Round 1: nobody holds any; round 2: every claim has expired and all race again.
    for (const auto& [now, until] : {std::pair{k_t0, k_t0 + 60s}, std::pair{k_t0 + 61s, k_t0 + 120s}}) {
      CAPTURE(creditwatch::to_unix_ms(now));
      std::vector<std::vector<Claim>> outcomes(k_senders, std::vector<Claim>(k_rows, Claim::refused));
      std::atomic<int> errors{0};
      race(k_senders, [&](int sender) {
        auto& store = sender % 2 == 0 ? *first : *second;
        for (int i = 0; i < k_rows; ++i) {
          try {
            outcomes[sender][i] = store.claim_notification(ids[i], "replica-" + std::to_string(sender), now, until);
          } catch (const DatabaseError&) {
            ++errors;
          }
        }
      });
      CHECK(errors == 0);
      const auto after = first->notifications();
      for (int i = 0; i < k_rows; ++i) {
        int winners = 0;
        int winner = -1;
        for (int s = 0; s < k_senders; ++s) {
          if (outcomes[s][i] != Claim::refused) {
            ++winners;
            winner = s;
          }
        }
        CAPTURE(i);
        REQUIRE(winners == 1);
        CHECK(after[i].claimed_by == "replica-" + std::to_string(winner));
        CHECK(after[i].claim_until == until);
      }
    }
  }

  TEST_CASE("postgres store: replicas racing for overlapping accounts hold each one exactly once" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresBackend backend;
    const auto first = backend.open();
    const auto second = backend.open();
    constexpr int k_accounts = 100;
    constexpr int k_replicas = 6;
    constexpr int k_window = 50;  // each replica wants half of the accounts, overlapping its neighbours
    std::vector<std::vector<std::string>> wanted(k_replicas);
    for (int r = 0; r < k_replicas; ++r) {
      for (int i = 0; i < k_window; ++i) {
        wanted[r].push_back("acct-" + std::to_string(100 + (r * 17 + i) % k_accounts));
      }
      if (r % 2 == 1) std::reverse(wanted[r].begin(), wanted[r].end());  // opposite orders must not deadlock
    }

    // Round 1: all free; round 2: every lease has expired and all race again.
    for (const auto& [now, expires] : {std::pair{k_t0, k_t0 + 15s}, std::pair{k_t0 + 16s, k_t0 + 31s}}) {
      CAPTURE(creditwatch::to_unix_ms(now));
      std::vector<std::vector<std::string>> held(k_replicas);
      std::vector<std::string> errors(k_replicas);
      race(k_replicas, [&](int r) {
        auto& store = r % 2 == 0 ? *first : *second;
        try {
          held[r] = store.claim_leases("replica-" + std::to_string(r), wanted[r], now, expires);
        } catch (const DatabaseError& e) {
          errors[r] = e.what();
        }
      });
      for (const auto& error : errors) CHECK(error == "");
      std::map<std::string, std::string> owner_of;
      for (int r = 0; r < k_replicas; ++r) {
        for (const auto& account : held[r]) {
          CAPTURE(account);
          CHECK(owner_of.emplace(account, "replica-" + std::to_string(r)).second);  // held by one only
        }
      }
      std::set<std::string> wanted_by_anyone;
      for (const auto& list : wanted) wanted_by_anyone.insert(list.begin(), list.end());
      CHECK(owner_of.size() == wanted_by_anyone.size());  // and every wanted account by someone
      const auto leases = second->leases();
      CHECK(leases.size() == wanted_by_anyone.size());
      for (const auto& lease : leases) {
        CAPTURE(lease.account);
        CHECK(lease.owner == owner_of[lease.account]);
        CHECK(lease.expires == expires);
      }
    }
  }

  TEST_CASE("postgres store: two stores opening a new database at once both find it migrated" *
            doctest::skip(PostgresServer::skipped())) {
    // Replicas starting together against an empty database.
    for (int round = 0; round < 10; ++round) {
      CAPTURE(round);
      PostgresBackend backend;
      std::string errors[2];
      race(2, [&](int who) {
        try {
          PostgresStore store(backend.url());
          if (store.schema_version() != PostgresStore::k_schema_version) {
            errors[who] = "schema version " + std::to_string(store.schema_version());
          }
        } catch (const DatabaseError& e) {
          errors[who] = e.what();
        }
      });
      CHECK(errors[0] == "");
      CHECK(errors[1] == "");
      const auto meta = PostgresServer::shared().psql("SELECT key FROM meta ORDER BY key", backend.database());
      CHECK(meta.out == "heartbeat\nschema_version\n");
    }
  }

  TEST_CASE("postgres store: while the server is down writes fail fast, and resume when it is back" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresServer server;  // its own: this test stops it
    const std::string url = server.create_database("outage");
    PostgresStore store(url);
    for (int i = 0; i < 20; ++i) {
      store.add_samples({sample_row("a", k_t0 + i * 1s, "10")}, ok_probe_row("a", k_t0 + i * 1s));
    }
    store.save_alert(alert_row("a", "runway", "firing", k_t0), {outbox_row("pd", k_t0, k_t0)});
    store.claim_leases("r1", {"a", "b"}, k_t0, k_t0 + 15s);

    server.stop();
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(store.add_probe(ok_probe_row("a", k_t0 + 30s)), DatabaseError);
    REQUIRE(store.write_error().has_value());
    CHECK_FALSE(store.write_error()->empty());
    CHECK(store.write_failures() >= 1);
    CHECK_FALSE(store.writable());
    CHECK_THROWS_AS(store.samples("a", k_t0), DatabaseError);  // reads fail too, and nothing crashes
    CHECK_THROWS_AS(store.save_alert(alert_row("a", "runway", "resolved", k_t0 + 30s), {outbox_row("pd", k_t0, k_t0)}),
                    DatabaseError);
    std::atomic<int> thrown{0};
    race(8, [&](int t) {
      for (int i = 0; i < 5; ++i) {
        try {
          store.add_probe(ok_probe_row("t" + std::to_string(t), k_t0 + 40s));
        } catch (const DatabaseError&) {
          ++thrown;
        }
      }
    });
    CHECK(thrown == 40);
    // Failing fast: nobody waited for a connect timeout.
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    const auto failures = store.write_failures();
    CHECK(failures == 42);  // one per failed call

    server.start();
    const auto back = std::chrono::steady_clock::now();
    // The pool waits out its backoff (0.5 s, doubling) before it connects again.
    const bool resumed = eventually(
        [&] {
          try {
            store.add_probe(ok_probe_row("a", k_t0 + 60s));
            return true;
          } catch (const DatabaseError&) {
            return false;
          }
        },
        30s);
    REQUIRE(resumed);
    MESSAGE("writes resumed " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - back)
                                     .count()
                              << " ms after the server was back");
    CHECK_FALSE(store.write_error().has_value());
    CHECK(store.writable());
    CHECK(store.write_failures() >= failures);
    // Everything committed before the outage is there.
    CHECK(store.samples("a", k_t0).size() == 20);
    CHECK(store.latest_probe("a")->at == k_t0 + 60s);
    CHECK(store.alerts("a").at(0).state == "firing");
    CHECK(store.notifications(OutboxState::pending).size() == 1);
    CHECK(store.leases().size() == 2);
  }

  TEST_CASE("postgres store: connections the server dropped while the store was idle are replaced for a read" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresServer server;  // its own: this test restarts it
    const std::string url = server.create_database("idle");
    PostgresStore store(url);
    store.add_samples({sample_row("a", k_t0, "10")}, ok_probe_row("a", k_t0));
    // Readers at once, so that the pool holds several idle connections.
    for (int attempt = 0; attempt < 20 && sessions(server, "idle") < 3; ++attempt) {
      race(8, [&](int) {
        for (int i = 0; i < 50; ++i) store.samples("a", k_t0);
      });
    }
    REQUIRE(sessions(server, "idle") >= 3);

    server.stop();
    server.start();  // every pooled connection is now dead, and the store has not noticed

    std::vector<creditwatch::storage::SampleRow> rows;
    CHECK_NOTHROW(rows = store.samples("a", k_t0));
    CHECK(rows.size() == 1);
    CHECK_NOTHROW(store.add_probe(ok_probe_row("a", k_t0 + 1s)));
    CHECK_FALSE(store.write_error().has_value());
    CHECK(store.write_failures() == 0);
  }

  TEST_CASE("postgres store: a password never appears in an error" * doctest::skip(PostgresServer::skipped())) {
    PostgresServer& server = PostgresServer::shared();
    const PostgresRole role = server.create_role("conformance_role", "right-Pa55word");
    server.create_database("conformance_owned", role.name);
    const std::string port = std::to_string(server.port());

    SUBCASE("a wrong password") {
      const std::string secret = "wr0ng-Secret/Pa55";
      const PostgresRole wrong{role.name, secret};
      const auto error = what_of([&] { PostgresStore store(server.url(wrong, "conformance_owned")); });
      CHECK(contains(error, "password authentication failed"));
      CHECK_FALSE(contains(error, "Secret"));
    }
    SUBCASE("a wrong password= parameter") {
      const auto error = what_of([&] {
        PostgresStore store("postgresql://conformance_role@127.0.0.1:" + port + "/conformance_owned?password=Secret-1");
      });
      CHECK(contains(error, "password authentication failed"));
      CHECK_FALSE(contains(error, "Secret"));
    }
    SUBCASE("a password libpq cannot decode") {
      const auto error = what_of([&] {
        PostgresStore store("postgresql://conformance_role:Secret%zz@127.0.0.1:" + port + "/conformance_owned");
      });
      CHECK(error != "(no DatabaseError)");
      CHECK_FALSE(contains(error, "Secret"));
    }
    SUBCASE("a URL libpq cannot parse") {
      const auto error =
          what_of([&] { PostgresStore store("postgresql://conformance_role:Secret-2@[::1/conformance_owned"); });
      CHECK(error != "(no DatabaseError)");
      CHECK_FALSE(contains(error, "Secret"));
    }
    SUBCASE("the right password opens it") {
      PostgresStore store(server.url(role, "conformance_owned"));
      CHECK(store.schema_version() == PostgresStore::k_schema_version);
    }
  }

  TEST_CASE("postgres conninfo_for: certificates are verified for remote servers unless the URL says otherwise") {
    const std::string ca = "sslrootcert=/etc/ssl/certs/ca-certificates.crt";
    SUBCASE("a remote host without sslmode gets verify-full against the system's CAs") {
      const auto conninfo = conninfo_for("postgresql://cw:pw@db.example.com:5432/cw");
      CHECK(conninfo.rfind("postgresql://cw:pw@db.example.com:5432/cw?", 0) == 0);
      CHECK(contains(conninfo, "sslmode=verify-full"));
      CHECK(contains(conninfo, ca));
      CHECK(contains(conninfo, "connect_timeout="));
      CHECK(contains(conninfo_for("postgres://cw@[2001:db8::1]:5432/cw"), "sslmode=verify-full"));
      CHECK(contains(conninfo_for("postgresql://cw@db.example.com/cw"), "sslmode=verify-full"));
      CHECK(contains(conninfo_for("postgresql:///cw?host=db.example.com"), "sslmode=verify-full"));
    }
    SUBCASE("other parameters are kept and the additions appended") {
      const auto conninfo = conninfo_for("postgresql://cw@db.example.com/cw?target_session_attrs=read-write");
      CHECK(conninfo.rfind("postgresql://cw@db.example.com/cw?target_session_attrs=read-write&", 0) == 0);
      CHECK(contains(conninfo, "&sslmode=verify-full"));
    }
    SUBCASE("a list of hosts is verified when any of them is remote") {
      CHECK(contains(conninfo_for("postgresql://cw@127.0.0.1:5432,db.example.com:5432/cw"), "sslmode=verify-full"));
      CHECK(contains(conninfo_for("postgresql://cw@db.example.com,localhost/cw"), "sslmode=verify-full"));
      CHECK_FALSE(contains(conninfo_for("postgresql://cw@127.0.0.1:5432,localhost:5433/cw"), "sslmode"));
    }
    SUBCASE("a loopback host or a unix socket gets no sslmode") {
      for (const char* url : {"postgresql://cw@127.0.0.1:5432/cw", "postgresql://cw@localhost/cw",
                              "postgresql://cw@[::1]:5432/cw", "postgresql:///cw", "postgresql:///cw?host=/run/postgresql"}) {
        CAPTURE(url);
        const auto conninfo = conninfo_for(url);
        CHECK_FALSE(contains(conninfo, "sslmode"));
        CHECK_FALSE(contains(conninfo, "sslrootcert"));
        CHECK(contains(conninfo, "connect_timeout="));
      }
    }
    SUBCASE("an explicit sslmode is kept, whatever it is") {
      for (const char* mode : {"disable", "require", "verify-ca", "verify-full"}) {
        CAPTURE(mode);
        const auto conninfo = conninfo_for(std::string("postgresql://cw@db.example.com/cw?sslmode=") + mode);
        CHECK(contains(conninfo, std::string("?sslmode=") + mode));
        CHECK(count_occurrences(conninfo, "sslmode=") == 1);
        CHECK_FALSE(contains(conninfo, "sslrootcert"));
      }
      const auto own_ca = conninfo_for("postgresql://cw@db.example.com/cw?sslrootcert=/etc/cw/ca.pem");
      CHECK(contains(own_ca, "sslmode=verify-full"));
      CHECK(count_occurrences(own_ca, "sslrootcert=") == 1);
    }
    SUBCASE("an explicit connect_timeout is kept") {
      const auto conninfo = conninfo_for("postgresql://cw@localhost/cw?connect_timeout=20");
      CHECK(contains(conninfo, "connect_timeout=20"));
      CHECK(count_occurrences(conninfo, "connect_timeout=") == 1);
    }
  }
}
