// Schema 3 -> 4 on SQLite: a database made by the schema-3 store (tests/data/schema_v3, see
// make_fixture.cpp beside it for what it holds) upgrades in place, every value kept: samples
// compacted into runs by the writer's rule, probes into counters and failures.
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::storage::Database;
using creditwatch::storage::OutboxState;
using creditwatch::storage::SampleRow;
using creditwatch::storage::SqliteStore;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

const TimePoint k_fixture_t0 = from_unix_ms(1'796'000'000'000);
const std::string k_ds_details = R"({"granted":"10.00","topped_up":"100.00"})";

TimePoint at(int seconds) { return k_fixture_t0 + std::chrono::seconds(seconds); }

std::string copy_fixture(const TempDir& dir) {
  const std::string to = dir.file("creditwatch.db");
  std::filesystem::copy_file(std::string(CREDITWATCH_SOURCE_DIR) + "/tests/data/schema_v3/creditwatch.db", to);
  return to;
}

std::int64_t count(Database& db, const std::string& sql) {
  auto s = db.prepare(sql);
  REQUIRE(s.step());
  return s.int64(0);
}

}  // namespace

TEST_SUITE("storage_sqlite_migration") {
  TEST_CASE("a schema 3 database upgrades to schema 4 in place with every reading, probe, alert and notification") {
    TempDir dir;
    const auto path = copy_fixture(dir);
    {
      Database before(path);
      REQUIRE(count(before, "PRAGMA user_version") == 3);
      REQUIRE(count(before, "SELECT COUNT(*) FROM samples") == 40 + 24 + 1);
    }
    SqliteStore store(path);
    CHECK(store.schema_version() == SqliteStore::k_schema_version);

    SUBCASE("samples become runs, values and details kept") {
      const auto ds = store.samples("ds-main", at(0) - 1h);
      // 110.00 held for ten minutes, twenty falling readings, then 155.00 after the top-up.
      REQUIRE(ds.size() == 22);
      CHECK(ds[0].at == at(0));
      CHECK(ds[0].seen_until == at(9 * 60));
      CHECK(ds[0].balance == Decimal::from_micros(110'000'000));
      for (int i = 10; i < 30; ++i) {
        const auto& run = ds[static_cast<std::size_t>(i - 9)];
        CAPTURE(i);
        CHECK(run.at == at(i * 60));
        CHECK(run.seen_until == run.at);
        CHECK(run.balance == Decimal::from_micros(110'000'000 - (i - 9) * 250'000));
      }
      CHECK(ds[21].at == at(30 * 60));
      CHECK(ds[21].seen_until == at(39 * 60));
      CHECK(ds[21].balance == Decimal::from_micros(155'000'000));
      for (const auto& run : ds) {
        CHECK(run.account == "ds-main");
        CHECK(run.currency == "CNY");
        CHECK_FALSE(run.spend_total.has_value());
        CHECK(run.details_json == k_ds_details);  // stored once per hour, read back on every run
      }
      // Read from the middle: the first run's details come from before `since`.
      const auto tail = store.samples("ds-main", at(20 * 60));
      REQUIRE(tail.size() == 11);
      CHECK(tail[0].details_json == k_ds_details);

      const auto usd = store.samples("or-counter", at(0), "USD");
      REQUIRE(usd.size() == 12);
      for (int i = 0; i < 12; ++i) {
        const auto& run = usd[static_cast<std::size_t>(i)];
        CAPTURE(i);
        CHECK(run.at == at(i * 300));
        CHECK(run.balance == Decimal::from_micros(20'000'000 - i * 100'000));
        REQUIRE(run.spend_total.has_value());
        CHECK(run.spend_total->micros() == 5'000'000 + i * 100'000);
        CHECK(run.details_json == "{}");
      }
      const auto credits = store.samples("or-counter", at(0), "credits");
      REQUIRE(credits.size() == 1);
      CHECK(credits[0].at == at(0));
      CHECK(credits[0].seen_until == at(11 * 300));
      CHECK(credits[0].balance == Decimal::from_micros(1'000'000'000));
      const auto both = store.samples("or-counter", at(0));
      REQUIRE(both.size() == 13);
      CHECK(both[0].currency == "USD");  // one instant: in the order the currencies were first written
      CHECK(both[1].currency == "credits");
      const auto newest = store.samples("or-counter", at(0), "", 2);
      REQUIRE(newest.size() == 2);
      CHECK(newest[0].at == at(10 * 300));
      CHECK(newest[1].at == at(11 * 300));

      const auto flaky = store.samples("flaky", at(0));
      REQUIRE(flaky.size() == 1);
      CHECK(flaky[0].at == at(200));
      CHECK(flaky[0].balance == Decimal::from_micros(3'000'000));
      CHECK(store.samples("revoked", at(0)).empty());
      CHECK(store.latest_sample("ds-main")->seen_until == at(39 * 60));
      CHECK(store.latest_sample("or-counter", "USD")->balance == Decimal::from_micros(18'900'000));
    }

    SUBCASE("probes become counters, the latest success and the failures in full") {
      CHECK(store.probe_counts("ds-main").ok == 40);
      CHECK(store.probe_counts("ds-main").failed == 0);
      CHECK(store.probe_counts("or-counter").ok == 12);
      CHECK(store.probe_counts("flaky").ok == 1);
      CHECK(store.probe_counts("flaky").failed == 2);
      CHECK(store.probe_counts("revoked").ok == 0);
      CHECK(store.probe_counts("revoked").failed == 1);
      CHECK(store.last_success("ds-main") == at(39 * 60));
      CHECK(store.last_success("flaky") == at(200));
      CHECK_FALSE(store.last_success("revoked").has_value());
      const auto ds = store.latest_probe("ds-main");
      REQUIRE(ds.has_value());
      CHECK(ds->outcome == "ok");
      CHECK(ds->at == at(39 * 60));
      CHECK(ds->latency_seconds == 0.05);
      const auto flaky = store.latest_probe("flaky");
      REQUIRE(flaky.has_value());
      CHECK(flaky->at == at(300));
      CHECK(flaky->outcome == "http");
      CHECK(flaky->http_status == 503);
      CHECK(flaky->latency_seconds == 0.3);
      CHECK(flaky->message == "HTTP 503: upstream überlastet — réessayez");
      const auto revoked = store.latest_probe("revoked");
      REQUIRE(revoked.has_value());
      CHECK(revoked->at == at(50));
      CHECK(revoked->outcome == "key_invalid");
      CHECK(revoked->http_status == 401);
      CHECK(revoked->latency_seconds == 0.1);
      CHECK(revoked->message == "Authentication Fails (no such user)");
      Database db(path);
      CHECK(count(db, "SELECT COUNT(*) FROM failures WHERE outcome = 'timeout' AND ts_ms = 1796000100000 AND "
                      "latency_seconds = 10.0 AND message = 'timed out after 10 s'") == 1);
    }

    SUBCASE("alerts, the outbox, replicas and leases are untouched") {
      const auto alerts = store.alerts();
      REQUIRE(alerts.size() == 4);
      CHECK(alerts[0].account == "ds-main");
      CHECK(alerts[0].rule == "runway");
      CHECK(alerts[0].state == "firing");
      CHECK(alerts[0].severity == "warning");
      CHECK(alerts[0].since == at(600));
      CHECK(alerts[0].context_json == R"({"runway_days":3.5})");
      CHECK(alerts[1].account == "flaky");
      CHECK(alerts[1].state == "resolved");
      CHECK(alerts[1].last_notified == at(200));
      CHECK(alerts[2].account == "or-counter");
      CHECK(alerts[2].since == at(900));
      CHECK(alerts[3].account == "revoked");
      CHECK(alerts[3].severity == "critical");

      const auto rows = store.notifications();
      REQUIRE(rows.size() == 4);
      CHECK(rows[0].notifier == "slack");
      CHECK(rows[0].state == OutboxState::pending);
      CHECK(rows[0].dedup_key == "creditwatch-ds-main-runway");
      CHECK(rows[0].payload_json == R"({"state":"firing"})");
      CHECK(rows[1].notifier == "pagerduty");
      CHECK(rows[1].state == OutboxState::pending);
      CHECK(rows[1].attempts == 1);
      CHECK(rows[1].next_attempt == at(120));
      CHECK(rows[1].last_error == "HTTP 429");
      CHECK(rows[2].notifier == "webhook");
      CHECK(rows[2].state == OutboxState::delivered);
      CHECK(rows[3].notifier == "email");
      CHECK(rows[3].state == OutboxState::dead);
      CHECK(rows[3].last_error == "550 mailbox unavailable");
      CHECK(store.due_notifications(at(120), 10).size() == 1);  // pagerduty's retry; slack's is due at 600
      CHECK(store.due_notifications(at(600), 10).size() == 2);

      const auto replicas = store.replicas(at(2400));
      REQUIRE(replicas.size() == 1);
      CHECK(replicas[0].id == "host-a-1");
      CHECK(replicas[0].started == at(0));
      CHECK(replicas[0].accounts == 2);
      const auto leases = store.leases();
      REQUIRE(leases.size() == 2);
      CHECK(leases[0].account == "ds-main");
      CHECK(leases[0].owner == "host-a-1");
      CHECK(leases[0].expires == at(2415));
      CHECK(leases[1].account == "flaky");
    }

    SUBCASE("the old tables are gone and the writer carries on from the migrated runs") {
      Database db(path);
      CHECK(count(db, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('samples', 'probes')") == 0);
      CHECK(count(db, "SELECT COUNT(*) FROM readings") == 22 + 12 + 1 + 1);
      store.add_samples({SampleRow{"ds-main", at(40 * 60), "CNY", Decimal::from_micros(155'000'000), std::nullopt,
                                   k_ds_details}},
                        {"ds-main", at(40 * 60), "ok", 200, 0.05, ""});
      const auto ds = store.samples("ds-main", at(30 * 60));
      REQUIRE(ds.size() == 1);
      CHECK(ds[0].seen_until == at(40 * 60));
      CHECK(store.probe_counts("ds-main").ok == 41);
    }
  }

  TEST_CASE("a schema 4 database upgrades to schema 5 in place: alerts kept, silences and acks added") {
    TempDir dir;
    const auto path = dir.file("creditwatch.db");
    {
      SqliteStore store(path);
      store.save_alert({"ds-main", "runway", "firing", "critical", at(0), at(60), R"({"summary":"runway 1 day"})"}, {});
    }
    {
      // What schema 4 was: schema 5 without its two tables.
      Database db(path);
      db.exec("DROP TABLE silences; DROP TABLE acks; PRAGMA user_version = 4");
    }
    SqliteStore store(path);
    CHECK(store.schema_version() == 5);
    const auto alerts = store.alerts();
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].state == "firing");
    CHECK(alerts[0].since == at(0));
    CHECK(alerts[0].context_json == R"({"summary":"runway 1 day"})");
    CHECK(store.silences().empty());
    store.add_silence({"00112233445566778899aabbccddeeff", R"({"account":"ds-*"})", at(0), at(7200), "", "", at(0)});
    store.save_ack({"ds-main", "runway", "ana", at(120), "on it", "critical"});
    CHECK(store.silences().size() == 1);
    CHECK(store.acks().size() == 1);
  }
}
