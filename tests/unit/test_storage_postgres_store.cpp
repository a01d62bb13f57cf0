// What only the shared backend has to get right, beyond the conformance suite that both
// pass (test_storage_conformance.cpp): replicas racing on one database, the server going away
// and coming back, passwords kept out of errors, and the connection string a URL becomes.
#include "fakes/postgres_server.hpp"
#include "fakes/process.hpp"
#include "fakes/store_fixtures.hpp"

// conninfo_for is the pool's own business; tested here through its private header, as is
// the migration entry point that stops at an older schema.
#include "../../src/storage/postgres/connection.hpp"
#include "../../src/storage/postgres/migrations.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
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
using creditwatch::storage::SampleRow;
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

// A schema-3 database as creditwatch at dda2edb left it (the rows of
// tests/data/schema_v3/make_fixture.cpp, written as that store wrote them), plus an account
// whose balance holds for four hours and one read twice at one instant.
void make_schema_3(const std::string& url) {
  creditwatch::storage::postgres::Connection c(conninfo_for(url));
  creditwatch::storage::postgres::apply_migrations_up_to(c, 3);
  const auto t0 = creditwatch::to_unix_ms(k_t0);
  const auto at = [&](int seconds) { return std::to_string(t0 + seconds * 1000LL); };
  std::string sql;
  const auto sample = [&](const std::string& account, int seconds, const std::string& currency, long long balance,
                          const std::string& spend, const std::string& details) {
    sql += "INSERT INTO samples (account, ts_ms, currency, balance_micros, spend_micros, details) VALUES ('" + account +
           "', " + at(seconds) + ", '" + currency + "', " + std::to_string(balance) + ", " + spend + ", '" + details +
           "');\n";
  };
  const auto probe = [&](const std::string& account, int seconds, const std::string& outcome, int status,
                         const std::string& latency, const std::string& message) {
    sql += "INSERT INTO probes (account, ts_ms, outcome, http_status, latency_seconds, message) VALUES ('" + account +
           "', " + at(seconds) + ", '" + outcome + "', " + std::to_string(status) + ", " + latency + ", '" + message +
           "');\n";
  };
  long long balance = 110'000'000;
  for (int i = 0; i < 40; ++i) {
    if (i >= 10 && i < 30) balance -= 250'000;
    if (i == 30) balance += 50'000'000;
    sample("ds-main", i * 60, "CNY", balance, "NULL", R"({"granted":"10.00","topped_up":"100.00"})");
    probe("ds-main", i * 60, "ok", 200, "0.05", "");
  }
  for (int i = 0; i < 12; ++i) {
    sample("or-counter", i * 300, "USD", 20'000'000 - i * 100'000, std::to_string(5'000'000 + i * 100'000), "{}");
    sample("or-counter", i * 300, "credits", 1'000'000'000, "NULL", "{}");
    probe("or-counter", i * 300, "ok", 200, "0.1", "");
  }
  probe("flaky", 100, "timeout", 0, "10.0", "timed out after 10 s");
  sample("flaky", 200, "USD", 3'000'000, "NULL", "{}");
  probe("flaky", 200, "ok", 200, "0.2", "");
  probe("flaky", 300, "http", 503, "0.3", "HTTP 503: upstream überlastet — réessayez");
  probe("revoked", 50, "key_invalid", 401, "0.1", "Authentication Fails (no such user)");
  // Every 10 minutes for 4 hours, always the same: runs of at most 90 minutes.
  for (int i = 0; i <= 24; ++i) {
    sample("steady", i * 600, "USD", 7'000'000, "NULL", "");
    probe("steady", i * 600, "ok", 200, "0.3", "");
  }
  // Two readings of one instant (v3 kept both).
  sample("twice", 0, "USD", 1'000'000, "NULL", "a");
  sample("twice", 60, "USD", 2'000'000, "NULL", "b");
  sample("twice", 60, "USD", 3'000'000, "NULL", "c");
  sql += "INSERT INTO alerts (account, rule, state, severity, since_ms, last_notified_ms, context) VALUES "
         "('ds-main', 'runway', 'firing', 'warning', " + at(600) + ", " + at(600) + ", '{}');\n";
  sql += "INSERT INTO outbox (created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms) VALUES (" + at(600) +
         ", 'slack', 'creditwatch-ds-main-runway', '{}', 0, " + at(600) + ");\n";
  sql += "INSERT INTO leases (account, owner, expires_ms) VALUES ('ds-main', 'host-a-1', " + at(2415) + ");\n";
  c.exec(sql);
}

// One line per run: from and until (seconds after k_t0), currency, balance, spend, details.
std::string runs_of(const std::vector<SampleRow>& rows) {
  std::string out;
  for (const auto& s : rows) {
    out += std::to_string((creditwatch::to_unix_ms(s.at) - creditwatch::to_unix_ms(k_t0)) / 1000) + "-" +
           std::to_string((creditwatch::to_unix_ms(s.seen_until) - creditwatch::to_unix_ms(k_t0)) / 1000) + " " +
           s.currency + " " + s.balance.to_string() + " " + (s.spend_total ? s.spend_total->to_string() : "-") + " " +
           s.details_json + "\n";
  }
  return out;
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

  TEST_CASE("postgres store: a schema-3 database moves to schema 4 with nothing lost" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresBackend backend;
    make_schema_3(backend.url());
    PostgresStore store(backend.url());
    CHECK(store.schema_version() == PostgresStore::k_schema_version);
    const auto tables = PostgresServer::shared().psql(
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
        backend.database());
    CHECK(tables.out ==
          "accounts,acks,alerts,currencies,failures,heads,leases,ledgers,meta,outbox,readings,replicas,rollups,"
          "silences\n");

    // Unchanged readings became runs: 10 readings, 20 changes, then 10 again after the top-up.
    const std::string granted = R"({"granted":"10.00","topped_up":"100.00"})";
    const auto ds = store.samples("ds-main", k_t0);
    REQUIRE(ds.size() == 22);
    CHECK(runs_of({ds.front()}) == "0-540 CNY 110.00 - " + granted + "\n");
    CHECK(runs_of({ds[1]}) == "600-600 CNY 109.75 - " + granted + "\n");
    CHECK(runs_of({ds.back()}) == "1800-2340 CNY 155.00 - " + granted + "\n");
    for (const auto& run : ds) CHECK(run.details_json == granted);  // stored once, read back on every run
    CHECK(PostgresServer::shared()
              .psql("SELECT count(*) FROM readings WHERE details IS NOT NULL", backend.database())
              .out == std::to_string(1 + 1 + 1 + 1 + 3 + 2) + "\n");  // the first run of each hour, and changes
    // Two currencies of one instant; the spend counter kept; a balance held for 55 minutes is one run.
    const auto counter = store.samples("or-counter", k_t0);
    REQUIRE(counter.size() == 13);
    // (in the order they were written, as before)
    CHECK(runs_of({counter[0], counter[1]}) == "0-0 USD 20.00 5.00 {}\n0-3300 credits 1000.00 - {}\n");
    CHECK(runs_of(store.samples("or-counter", k_t0 + 3300s, "USD")) == "3300-3300 USD 18.90 6.10 {}\n");
    // Held for four hours: a new run every 90 minutes, as the writer starts them.
    CHECK(runs_of(store.samples("steady", k_t0)) ==
          "0-4800 USD 7.00 - \n5400-10200 USD 7.00 - \n10800-14400 USD 7.00 - \n");
    // Two readings of one instant: the first one stands (the writer drops a late reading too).
    CHECK(runs_of(store.samples("twice", k_t0)) == "0-0 USD 1.00 - a\n60-60 USD 2.00 - b\n");

    // The latest run of each is the head, so the next unchanged reading extends it.
    const auto latest = store.latest_sample("ds-main");
    REQUIRE(latest.has_value());
    CHECK(runs_of({*latest}) == "1800-2340 CNY 155.00 - " + granted + "\n");
    CHECK(store.latest_sample("or-counter", "USD")->balance == *creditwatch::Decimal::parse("18.9"));
    store.add_samples({SampleRow{"ds-main", k_t0 + 2400s, "CNY", *creditwatch::Decimal::parse("155"), std::nullopt,
                                 granted}},
                      ok_probe_row("ds-main", k_t0 + 2400s));
    CHECK(store.samples("ds-main", k_t0).size() == 22);
    CHECK(runs_of({store.samples("ds-main", k_t0).back()}) == "1800-2400 CNY 155.00 - " + granted + "\n");

    // Successes counted, failures kept with their detail.
    CHECK(store.probe_counts("ds-main").ok == 41);
    CHECK(store.probe_counts("ds-main").failed == 0);
    CHECK(store.probe_counts("steady").ok == 25);
    CHECK(store.probe_counts("flaky").ok == 1);
    CHECK(store.probe_counts("flaky").failed == 2);
    CHECK(store.probe_counts("revoked").failed == 1);
    CHECK(store.last_success("ds-main") == k_t0 + 2400s);
    CHECK(store.last_success("or-counter") == k_t0 + 3300s);
    CHECK(store.last_success("flaky") == k_t0 + 200s);
    CHECK_FALSE(store.last_success("revoked").has_value());
    const auto flaky = store.latest_probe("flaky");
    REQUIRE(flaky.has_value());
    CHECK(flaky->at == k_t0 + 300s);
    CHECK(flaky->outcome == "http");
    CHECK(flaky->http_status == 503);
    CHECK(flaky->latency_seconds == 0.3);
    CHECK(flaky->message == "HTTP 503: upstream überlastet — réessayez");
    CHECK(store.latest_probe("revoked")->outcome == "key_invalid");
    const auto or_latest = store.latest_probe("or-counter");
    REQUIRE(or_latest.has_value());
    CHECK(or_latest->outcome == "ok");
    CHECK(or_latest->at == k_t0 + 3300s);
    CHECK(or_latest->latency_seconds == 0.1);
    CHECK(PostgresServer::shared()
              .psql("SELECT string_agg(outcome || ' ' || ts_ms, ',' ORDER BY id) FROM failures", backend.database())
              .out == "timeout " + std::to_string(creditwatch::to_unix_ms(k_t0 + 100s)) + ",http " +
                          std::to_string(creditwatch::to_unix_ms(k_t0 + 300s)) + ",key_invalid " +
                          std::to_string(creditwatch::to_unix_ms(k_t0 + 50s)) + "\n");

    // What keeps account names is untouched.
    CHECK(store.alerts("ds-main").size() == 1);
    CHECK(store.notifications().size() == 1);
    CHECK(store.leases().size() == 1);

    // Reopened: schema 4 is found current and nothing moves again.
    PostgresStore again(backend.url());
    CHECK(again.samples("ds-main", k_t0).size() == 22);
  }

  TEST_CASE("postgres store: a schema-4 database moves to schema 5 with its alerts kept and room for silences" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresBackend backend;
    {
      creditwatch::storage::postgres::Connection c(conninfo_for(backend.url()));
      creditwatch::storage::postgres::apply_migrations_up_to(c, 4);
      c.exec("INSERT INTO alerts (account, rule, state, severity, since_ms, last_notified_ms, context) VALUES "
             "('ds-main', 'runway', 'firing', 'critical', 1000, 2000, '{\"summary\":\"runway 1 day\"}')");
    }
    PostgresStore store(backend.url());
    CHECK(store.schema_version() == 5);
    const auto alerts = store.alerts();
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].account == "ds-main");
    CHECK(alerts[0].context_json == R"({"summary":"runway 1 day"})");
    CHECK(store.silences().empty());
    CHECK(store.acks().empty());
    store.add_silence({"00112233445566778899aabbccddeeff", R"({"account":"ds-*"})", k_t0, k_t0 + 2h, "top-up", "ana",
                       k_t0});
    REQUIRE(store.silences().size() == 1);
    CHECK(store.silences()[0].matchers_json == R"({"account":"ds-*"})");
  }

  TEST_CASE("postgres store: a reading is checked against the head another replica wrote, not a remembered one" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresBackend backend;
    const auto first = backend.open();
    const auto second = backend.open();
    first->add_samples({sample_row("a", k_t0, "10")}, ok_probe_row("a", k_t0));
    first->add_samples({sample_row("a", k_t0 + 1min, "10")}, ok_probe_row("a", k_t0 + 1min));
    // The account moved to the other replica, which read a new balance...
    second->add_samples({sample_row("a", k_t0 + 2min, "9")}, ok_probe_row("a", k_t0 + 2min));
    // ...and back: 10 again is a change from 9, not more of the first run.
    first->add_samples({sample_row("a", k_t0 + 3min, "10")}, ok_probe_row("a", k_t0 + 3min));
    second->add_samples({sample_row("a", k_t0 + 4min, "10")}, ok_probe_row("a", k_t0 + 4min));
    const auto runs = second->samples("a", k_t0);
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].seen_until == k_t0 + 1min);
    CHECK(runs[1].balance == *creditwatch::Decimal::parse("9"));
    CHECK(runs[2].at == k_t0 + 3min);
    CHECK(runs[2].seen_until == k_t0 + 4min);
    CHECK(first->latest_sample("a")->seen_until == k_t0 + 4min);
    CHECK(first->probe_counts("a").ok == 5);
  }

  TEST_CASE("postgres store: replicas writing the same new accounts at once share one id and one head each" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresBackend backend;
    const auto first = backend.open();
    const auto second = backend.open();
    constexpr int k_threads = 8;
    constexpr int k_writes = 40;
    constexpr int k_accounts = 10;
    std::atomic<int> clock{0};
    std::atomic<int> errors{0};
    std::array<std::atomic<int>, k_accounts> newest{};  // the latest second a sample was written at
    race(k_threads, [&](int t) {
      auto& store = t % 2 == 0 ? *first : *second;
      for (int i = 0; i < k_writes; ++i) {
        const auto account = "acct-" + std::to_string((t + i) % k_accounts);
        const auto at = k_t0 + std::chrono::seconds(++clock);
        try {
          // Half the time the balance changes, so runs start and heads move under both replicas.
          const std::string balance = std::to_string(100 - (i / 2) % 3);
          if (i % 5 == 4) {
            store.add_probe(failed_probe_row(account, at));
          } else {
            store.add_samples({sample_row(account, at, balance.c_str()), sample_row(account, at, "1", "EUR")},
                              ok_probe_row(account, at));
            auto& latest = newest[static_cast<std::size_t>((t + i) % k_accounts)];
            const int second_written = static_cast<int>((at - k_t0) / 1s);
            for (int seen = latest; seen < second_written && !latest.compare_exchange_weak(seen, second_written);) {
            }
          }
        } catch (const DatabaseError& e) {
          MESSAGE(e.what());
          ++errors;
        }
      }
    });
    CHECK(errors == 0);
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    for (int a = 0; a < k_accounts; ++a) {
      const auto account = "acct-" + std::to_string(a);
      ok += first->probe_counts(account).ok;
      failed += second->probe_counts(account).failed;
      // EUR never changed: its head was extended to the latest reading, whichever replica
      // wrote it and whatever arrived late.
      const auto eur = second->latest_sample(account, "EUR");
      REQUIRE(eur.has_value());
      CHECK(eur->seen_until == k_t0 + std::chrono::seconds(newest[static_cast<std::size_t>(a)].load()));
      for (const auto& run : first->samples(account, k_t0, "EUR")) CHECK(run.balance == *creditwatch::Decimal::parse("1"));
    }
    CHECK(ok == k_threads * k_writes * 4 / 5);
    CHECK(failed == k_threads * k_writes / 5);
    const auto counts = PostgresServer::shared().psql(
        "SELECT (SELECT count(*) FROM accounts) || ' ' || (SELECT count(*) FROM currencies) || ' ' || (SELECT "
        "count(*) FROM heads)",
        backend.database());
    CHECK(counts.out == std::to_string(k_accounts) + " 2 " + std::to_string(2 * k_accounts) + "\n");
  }

  TEST_CASE("postgres store: while the server is down writes fail fast, and resume when it is back" *
            doctest::skip(PostgresServer::skipped())) {
    PostgresServer server;  // its own: this test stops it
    const std::string url = server.create_database("outage");
    PostgresStore store(url);
    for (int i = 0; i < 20; ++i) {
      const auto balance = std::to_string(30 - i);  // a new run each time
      store.add_samples({sample_row("a", k_t0 + i * 1s, balance.c_str())}, ok_probe_row("a", k_t0 + i * 1s));
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
