#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include "fakes/sync_counter.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::storage::AlertRow;
using creditwatch::storage::Database;
using creditwatch::storage::DatabaseError;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using creditwatch::storage::ProbeRow;
using creditwatch::storage::SampleRow;
using creditwatch::storage::SqliteStore;
using creditwatch::storage::Store;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// 2026-05-01T00:00:00Z
const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

SampleRow sample(const std::string& account, TimePoint at, const char* balance, const std::string& currency = "USD") {
  return SampleRow{account, at, currency, *Decimal::parse(balance), std::nullopt, ""};
}

ProbeRow ok_probe(const std::string& account, TimePoint at) { return ProbeRow{account, at, "ok", 200, 0.25, ""}; }

ProbeRow failed_probe(const std::string& account, TimePoint at) {
  return ProbeRow{account, at, "timeout", 0, 15.0, "timed out after 15s"};
}

OutboxRow notification(const std::string& notifier, TimePoint created, TimePoint next_attempt,
                       const std::string& dedup = "sim/runway") {
  OutboxRow n;
  n.created = created;
  n.notifier = notifier;
  n.dedup_key = dedup;
  n.payload_json = R"({"rule":"runway"})";
  n.next_attempt = next_attempt;
  return n;
}

AlertRow alert(const std::string& account, const std::string& rule, const std::string& state, TimePoint since) {
  return AlertRow{account, rule, state, "warning", since, since, R"({"runway_days":4.5})"};
}

std::string pragma_text(Database& db, const char* pragma) {
  auto s = db.prepare(pragma);
  REQUIRE(s.step());
  return s.text(0);
}

}  // namespace

TEST_SUITE("storage_store") {
  TEST_CASE("a new database is migrated to the current schema") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    CHECK(store.schema_version() == SqliteStore::k_schema_version);
    CHECK(SqliteStore::k_schema_version >= 1);
    CHECK(store.writable());
  }

  TEST_CASE("reopening keeps the data and does not migrate again") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    {
      SqliteStore store(path);
      store.add_samples({sample("sim", k_t0, "12.50")}, ok_probe("sim", k_t0));
    }
    SqliteStore again(path);
    CHECK(again.schema_version() == SqliteStore::k_schema_version);
    auto rows = again.samples("sim", k_t0 - 1h);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].balance == *Decimal::parse("12.50"));
    // A second migration would have failed on CREATE TABLE or duplicated the heartbeat row.
    Database db(path);
    auto count = db.prepare("SELECT COUNT(*) FROM meta");
    REQUIRE(count.step());
    CHECK(count.int64(0) == 1);
  }

  TEST_CASE("a database from a newer creditwatch is refused") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    { SqliteStore store(path); }
    {
      Database db(path);
      db.exec("PRAGMA user_version = " + std::to_string(SqliteStore::k_schema_version + 1));
    }
    CHECK_THROWS_AS(SqliteStore{path}, DatabaseError);
    try {
      SqliteStore store(path);
    } catch (const DatabaseError& e) {
      CHECK(std::string(e.what()).find("newer") != std::string::npos);
    }
    SUBCASE("and left untouched") {
      Database db(path);
      auto s = db.prepare("PRAGMA user_version");
      REQUIRE(s.step());
      CHECK(s.int64(0) == SqliteStore::k_schema_version + 1);
    }
  }

  TEST_CASE("the database runs in WAL mode") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    SqliteStore store(path);
    Database second(path);
    CHECK(pragma_text(second, "PRAGMA journal_mode") == "wal");
  }

  TEST_CASE("samples round-trip exactly") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    SampleRow with_spend{"ds",
                         k_t0 + 1234ms,
                         "CNY",
                         Decimal::from_micros(110'000'001),
                         Decimal::from_micros(987'654'321),
                         R"({"granted":"10.00","topped_up":"100.000001"})"};
    SampleRow without_spend{"ds", k_t0 + 2h, "USD", Decimal::from_micros(-1), std::nullopt, ""};
    SampleRow zero_spend{"ds", k_t0 + 3h, "USD", Decimal(), Decimal(), "{}"};
    store.add_samples({with_spend, without_spend}, ok_probe("ds", k_t0 + 2h));
    store.add_samples({zero_spend}, ok_probe("ds", k_t0 + 3h));

    auto rows = store.samples("ds", k_t0);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].account == "ds");
    CHECK(rows[0].at == with_spend.at);
    CHECK(rows[0].currency == "CNY");
    CHECK(rows[0].balance.micros() == 110'000'001);
    REQUIRE(rows[0].spend_total.has_value());
    CHECK(rows[0].spend_total->micros() == 987'654'321);
    CHECK(rows[0].details_json == with_spend.details_json);
    CHECK(rows[1].balance.micros() == -1);
    CHECK_FALSE(rows[1].spend_total.has_value());
    CHECK(rows[1].details_json.empty());
    SUBCASE("a zero spend counter is not confused with no counter") {
      REQUIRE(rows[2].spend_total.has_value());
      CHECK(rows[2].spend_total->micros() == 0);
    }
    SUBCASE("filtered by currency") {
      auto usd = store.samples("ds", k_t0, "USD");
      REQUIRE(usd.size() == 2);
      CHECK(usd[0].at == without_spend.at);
      CHECK(store.samples("ds", k_t0, "EUR").empty());
    }
    SUBCASE("filtered by time, inclusive of `since`") {
      auto later = store.samples("ds", k_t0 + 2h);
      REQUIRE(later.size() == 2);
      CHECK(later[0].at == k_t0 + 2h);
    }
    SUBCASE("other accounts are separate") { CHECK(store.samples("other", k_t0).empty()); }
  }

  TEST_CASE("samples come back oldest first whatever the insert order") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    store.add_samples({sample("a", k_t0 + 2h, "8")}, ok_probe("a", k_t0 + 2h));
    store.add_samples({sample("a", k_t0, "10")}, ok_probe("a", k_t0));
    store.add_samples({sample("a", k_t0 + 1h, "9")}, ok_probe("a", k_t0 + 1h));
    auto rows = store.samples("a", k_t0);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].at == k_t0);
    CHECK(rows[1].at == k_t0 + 1h);
    CHECK(rows[2].at == k_t0 + 2h);
  }

  TEST_CASE("latest_sample") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    CHECK_FALSE(store.latest_sample("a").has_value());
    store.add_samples({sample("a", k_t0, "10", "USD"), sample("a", k_t0, "70", "CNY")}, ok_probe("a", k_t0));
    store.add_samples({sample("a", k_t0 + 1h, "9", "USD")}, ok_probe("a", k_t0 + 1h));
    store.add_samples({sample("b", k_t0 + 2h, "1", "USD")}, ok_probe("b", k_t0 + 2h));
    auto latest = store.latest_sample("a");
    REQUIRE(latest.has_value());
    CHECK(latest->at == k_t0 + 1h);
    CHECK(latest->balance == *Decimal::parse("9"));
    auto cny = store.latest_sample("a", "CNY");
    REQUIRE(cny.has_value());
    CHECK(cny->balance == *Decimal::parse("70"));
    CHECK_FALSE(store.latest_sample("a", "EUR").has_value());
  }

  TEST_CASE("probes and last_success") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    CHECK_FALSE(store.last_success("a").has_value());
    CHECK_FALSE(store.latest_probe("a").has_value());
    store.add_samples({sample("a", k_t0, "10")}, ok_probe("a", k_t0));
    store.add_probe(failed_probe("a", k_t0 + 5min));
    store.add_probe(failed_probe("a", k_t0 + 10min));
    CHECK(store.last_success("a") == k_t0);
    auto latest = store.latest_probe("a");
    REQUIRE(latest.has_value());
    CHECK(latest->at == k_t0 + 10min);
    CHECK(latest->outcome == "timeout");
    CHECK(latest->latency_seconds == 15.0);
    CHECK(latest->message == "timed out after 15s");
    store.add_probe(ok_probe("a", k_t0 + 15min));
    CHECK(store.last_success("a") == k_t0 + 15min);
    CHECK(store.latest_probe("a")->http_status == 200);
    SUBCASE("only this account's probes count") {
      store.add_probe(ok_probe("b", k_t0 + 1h));
      CHECK(store.last_success("a") == k_t0 + 15min);
      CHECK_FALSE(store.last_success("c").has_value());
    }
  }

  TEST_CASE("alerts are upserted by (account, rule)") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    CHECK(store.alerts().empty());
    store.save_alert(alert("a", "runway", "firing", k_t0), {});
    store.save_alert(alert("b", "stale", "firing", k_t0), {});
    auto updated = alert("a", "runway", "firing", k_t0);
    updated.severity = "critical";
    updated.last_notified = k_t0 + 1h;
    updated.context_json = R"({"runway_days":2.1})";
    store.save_alert(updated, {});

    auto rows = store.alerts("a");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].rule == "runway");
    CHECK(rows[0].state == "firing");
    CHECK(rows[0].severity == "critical");
    CHECK(rows[0].since == k_t0);
    CHECK(rows[0].last_notified == k_t0 + 1h);
    CHECK(rows[0].context_json == R"({"runway_days":2.1})");
    CHECK(store.alerts().size() == 2);

    store.save_alert(alert("a", "runway", "resolved", k_t0 + 2h), {});
    rows = store.alerts("a");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].state == "resolved");
    CHECK(rows[0].since == k_t0 + 2h);
  }

  TEST_CASE("save_alert enqueues its notifications") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    store.save_alert(alert("a", "runway", "firing", k_t0),
                     {notification("slack", k_t0, k_t0), notification("pd", k_t0, k_t0 + 1min)});
    auto all = store.notifications();
    REQUIRE(all.size() == 2);
    CHECK(all[0].id < all[1].id);
    CHECK(all[0].notifier == "slack");
    CHECK(all[0].dedup_key == "sim/runway");
    CHECK(all[0].payload_json == R"({"rule":"runway"})");
    CHECK(all[0].attempts == 0);
    CHECK(all[0].state == OutboxState::pending);
    CHECK(all[0].created == k_t0);
    CHECK(all[1].next_attempt == k_t0 + 1min);
    CHECK(store.alerts("a").size() == 1);
  }

  TEST_CASE("outbox: due, retry, delivered, dead") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    store.save_alert(alert("a", "runway", "firing", k_t0),
                     {notification("slack", k_t0, k_t0 + 2min), notification("pd", k_t0, k_t0),
                      notification("mail", k_t0, k_t0 + 1h)});

    SUBCASE("due returns pending rows whose time has come, earliest first") {
      auto due = store.due_notifications(k_t0 + 5min, 10);
      REQUIRE(due.size() == 2);
      CHECK(due[0].notifier == "pd");
      CHECK(due[1].notifier == "slack");
      CHECK(store.due_notifications(k_t0 + 5min, 1).size() == 1);
      CHECK(store.due_notifications(k_t0 - 1s, 10).empty());
      CHECK(store.due_notifications(k_t0 + 2min, 10).size() == 2);  // due exactly at next_attempt
    }
    SUBCASE("due for one notifier only") {
      auto due = store.due_notifications(k_t0 + 2h, 10, "slack");
      REQUIRE(due.size() == 1);
      CHECK(due[0].notifier == "slack");
      CHECK(store.due_notifications(k_t0 + 2h, 10, "nobody").empty());
    }
    SUBCASE("next_in_line lists a notifier's pending rows whenever due, soonest first") {
      auto mail = store.next_in_line("mail");
      REQUIRE(mail.size() == 1);
      CHECK(mail[0].next_attempt == k_t0 + 1h);
      CHECK(store.next_in_line("nobody").empty());
      store.mark_retry(mail[0].id, k_t0 + 3h, "timeout");
      CHECK(store.next_in_line("mail").at(0).next_attempt == k_t0 + 3h);
      store.mark_delivered(mail[0].id, k_t0 + 3h);
      CHECK(store.next_in_line("mail").empty());
    }
    SUBCASE("mark_retry pushes the next attempt and records the error") {
      const auto pd = store.due_notifications(k_t0, 10).at(0);
      store.mark_retry(pd.id, k_t0 + 30s, "HTTP 503");
      CHECK(store.due_notifications(k_t0 + 29s, 10).empty());
      auto due = store.due_notifications(k_t0 + 30s, 10);
      REQUIRE(due.size() == 1);
      CHECK(due[0].id == pd.id);
      CHECK(due[0].attempts == 1);
      CHECK(due[0].last_error == "HTTP 503");
      CHECK(due[0].state == OutboxState::pending);
      store.mark_retry(pd.id, k_t0 + 90s, "HTTP 429");
      CHECK(store.due_notifications(k_t0 + 90s, 10).at(0).attempts == 2);
    }
    SUBCASE("mark_delivered takes the row out of the queue") {
      const auto pd = store.due_notifications(k_t0, 10).at(0);
      store.mark_retry(pd.id, k_t0 + 30s, "HTTP 503");
      store.mark_delivered(pd.id, k_t0 + 31s);
      CHECK(store.due_notifications(k_t0 + 1h, 10).size() == 2);  // slack and mail only
      auto delivered = store.notifications(OutboxState::delivered);
      REQUIRE(delivered.size() == 1);
      CHECK(delivered[0].id == pd.id);
      CHECK(delivered[0].attempts == 2);
      CHECK(delivered[0].last_error.empty());
    }
    SUBCASE("mark_dead gives up on the row") {
      const auto pd = store.due_notifications(k_t0, 10).at(0);
      store.mark_dead(pd.id, "HTTP 400: bad routing key");
      auto dead = store.notifications(OutboxState::dead);
      REQUIRE(dead.size() == 1);
      CHECK(dead[0].id == pd.id);
      CHECK(dead[0].attempts == 1);
      CHECK(dead[0].last_error == "HTTP 400: bad routing key");
      CHECK(store.notifications(OutboxState::pending).size() == 2);
      for (const auto& row : store.due_notifications(k_t0 + 1h, 10)) CHECK(row.id != pd.id);
    }
    SUBCASE("to_string names each state") {
      CHECK(std::string(to_string(OutboxState::pending)) == "pending");
      CHECK(std::string(to_string(OutboxState::delivered)) == "delivered");
      CHECK(std::string(to_string(OutboxState::dead)) == "dead");
    }
  }

  TEST_CASE("the outbox offers only the oldest pending notification of each alert per notifier") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    // The runway alert fired, then resolved; PagerDuty's trigger was throttled for 20 s.
    store.save_alert(alert("a", "runway", "firing", k_t0),
                     {notification("pd", k_t0, k_t0), notification("slack", k_t0, k_t0)});
    const auto trigger = store.due_notifications(k_t0, 10, "pd").at(0);
    store.mark_retry(trigger.id, k_t0 + 20s, "HTTP 429");
    store.save_alert(alert("a", "runway", "resolved", k_t0 + 5s),
                     {notification("pd", k_t0 + 5s, k_t0 + 5s), notification("slack", k_t0 + 5s, k_t0 + 5s)});
    store.save_alert(alert("b", "runway", "firing", k_t0 + 5s), {notification("pd", k_t0 + 5s, k_t0 + 5s, "b/runway")});

    auto keys = [](const std::vector<OutboxRow>& rows) {
      std::vector<std::string> out;
      for (const auto& r : rows) out.push_back(r.notifier + " " + r.dedup_key + " #" + std::to_string(r.id));
      return out;
    };
    // At +5 s the resolve is due, but its trigger is still pending: only the other alert may go.
    auto due = store.due_notifications(k_t0 + 5s, 10, "pd");
    INFO("due: " << doctest::toString(keys(due)));
    REQUIRE(due.size() == 1);
    CHECK(due[0].dedup_key == "b/runway");
    // Slack's trigger went nowhere yet either: its resolve waits behind it.
    due = store.due_notifications(k_t0 + 5s, 10, "slack");
    REQUIRE(due.size() == 1);
    CHECK(due[0].created == k_t0);

    due = store.due_notifications(k_t0 + 20s, 10, "pd");
    REQUIRE(due.size() == 2);
    CHECK(due[0].dedup_key == "b/runway");  // soonest first
    CHECK(due[1].id == trigger.id);

    store.mark_delivered(trigger.id, k_t0 + 20s);
    due = store.due_notifications(k_t0 + 20s, 10, "pd");
    REQUIRE(due.size() == 2);
    CHECK(due[0].dedup_key == "sim/runway");  // now the resolve (queued before b's row)
    CHECK(due[0].created == k_t0 + 5s);
  }

  TEST_CASE("next_in_line is the oldest pending notification of each alert, due or not") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    store.save_alert(alert("a", "runway", "firing", k_t0),
                     {notification("pd", k_t0, k_t0 + 20s), notification("slack", k_t0, k_t0)});
    store.save_alert(alert("a", "runway", "resolved", k_t0 + 5s),
                     {notification("pd", k_t0 + 5s, k_t0 + 5s), notification("slack", k_t0 + 5s, k_t0 + 5s)});
    store.save_alert(alert("b", "runway", "firing", k_t0 + 5s), {notification("pd", k_t0 + 5s, k_t0 + 5s, "b/runway")});

    const auto line = store.next_in_line("pd");
    REQUIRE(line.size() == 2);
    CHECK(line[0].dedup_key == "b/runway");  // soonest next_attempt first
    CHECK(line[1].dedup_key == "sim/runway");
    CHECK(line[1].created == k_t0);  // the trigger, not its resolve

    // Rows passed over as sent (delivered, not yet marked so) put the next state in line.
    const auto slack = store.next_in_line("slack");
    REQUIRE(slack.size() == 1);
    const auto behind = store.next_in_line("slack", {slack[0].id});
    REQUIRE(behind.size() == 1);
    CHECK(behind[0].created == k_t0 + 5s);
    CHECK(store.next_in_line("slack", {slack[0].id, behind[0].id}).empty());
  }

  TEST_CASE("pending notifications of one notifier can be abandoned with a reason") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    store.save_alert(alert("a", "runway", "firing", k_t0),
                     {notification("pd", k_t0, k_t0), notification("old", k_t0, k_t0),
                      notification("old", k_t0, k_t0, "other/runway")});
    store.mark_delivered(store.notifications().at(0).id, k_t0);
    store.save_alert(alert("a", "runway", "resolved", k_t0), {notification("pd", k_t0, k_t0)});
    CHECK(store.notifiers_with_pending() == std::vector<std::string>{"old", "pd"});
    CHECK(store.abandon_pending("old", "notifier old is no longer configured") == 2);
    CHECK(store.notifiers_with_pending() == std::vector<std::string>{"pd"});
    for (const auto& row : store.notifications(OutboxState::dead)) {
      CHECK(row.notifier == "old");
      CHECK(row.last_error == "notifier old is no longer configured");
    }
    CHECK(store.notifications(OutboxState::delivered).size() == 1);
    CHECK(store.abandon_pending("nobody", "gone") == 0);
  }

  TEST_CASE("a queued notification is on disk when save_alert or enqueue_refresh returns") {
    creditwatch::testing::SyncCounter counter;
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    store.add_samples({sample("a", k_t0, "10")}, ok_probe("a", k_t0));
    counter.reset();

    // Samples and probes keep synchronous=NORMAL: their commits do not sync the WAL.
    for (int i = 1; i <= 5; ++i) store.add_samples({sample("a", k_t0 + i * 1s, "10")}, ok_probe("a", k_t0 + i * 1s));
    CHECK(counter.syncs("/cw.db-wal") == 0);

    store.save_alert(alert("a", "runway", "firing", k_t0), {notification("pd", k_t0, k_t0)});
    CHECK(counter.syncs("/cw.db-wal") >= 1);
    counter.reset();
    CHECK(store.enqueue_refresh(notification("am", k_t0, k_t0)));
    CHECK(counter.syncs("/cw.db-wal") >= 1);

    // And back to NORMAL for the writes after them.
    counter.reset();
    store.add_samples({sample("a", k_t0 + 1h, "9")}, ok_probe("a", k_t0 + 1h));
    store.mark_retry(store.notifications(OutboxState::pending).at(0).id, k_t0 + 1min, "HTTP 503");
    CHECK(counter.syncs("/cw.db-wal") == 0);
  }

  TEST_CASE("two stores opening one new database at once both find it migrated") {
    // `creditwatch check` racing the first `creditwatch run` on a fresh path.
    for (int round = 0; round < 30; ++round) {
      CAPTURE(round);
      TempDir dir;
      const auto path = dir.file("cw.db");
      std::atomic<int> ready{0};
      std::string errors[2];
      auto open = [&](int who) {
        ++ready;
        while (ready < 2) std::this_thread::yield();
        try {
          SqliteStore store(path);
          if (store.schema_version() != SqliteStore::k_schema_version) errors[who] = "schema version " + std::to_string(store.schema_version());
        } catch (const std::exception& e) {
          errors[who] = e.what();
        }
      };
      std::thread first(open, 0);
      std::thread second(open, 1);
      first.join();
      second.join();
      CHECK(errors[0] == "");
      CHECK(errors[1] == "");
      Database db(path);
      CHECK(pragma_text(db, "SELECT COUNT(*) FROM meta") == "1");
    }
  }

  TEST_CASE("a version 1 database is upgraded in place") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    { SqliteStore store(path); }
    {
      Database db(path);
      db.exec("DROP INDEX outbox_pending_by_key; PRAGMA user_version = 1");
    }
    SqliteStore store(path);
    CHECK(store.schema_version() == SqliteStore::k_schema_version);
    Database db(path);
    CHECK(pragma_text(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox_pending_by_key'") == "1");
  }

  TEST_CASE("the outbox survives a restart") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    {
      SqliteStore store(path);
      store.save_alert(alert("a", "runway", "firing", k_t0), {notification("slack", k_t0, k_t0)});
    }
    SqliteStore again(path);
    auto due = again.due_notifications(k_t0, 10);
    REQUIRE(due.size() == 1);
    CHECK(due[0].notifier == "slack");
  }

  TEST_CASE("prune removes old samples, probes and finished notifications") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    const TimePoint cutoff = k_t0 + 24h;
    store.add_samples({sample("a", k_t0, "10")}, ok_probe("a", k_t0));               // old: 1 sample, 1 probe
    store.add_samples({sample("a", cutoff, "9")}, ok_probe("a", cutoff));            // kept: exactly at cutoff
    store.add_samples({sample("a", cutoff + 1h, "8")}, ok_probe("a", cutoff + 1h));  // kept
    store.save_alert(
        alert("a", "runway", "firing", k_t0),
        {notification("old-delivered", k_t0, k_t0), notification("old-dead", k_t0, k_t0),
         notification("old-pending", k_t0, k_t0), notification("new-delivered", cutoff + 1h, cutoff + 1h)});
    auto rows = store.notifications();
    REQUIRE(rows.size() == 4);
    store.mark_delivered(rows[0].id, k_t0 + 1s);
    store.mark_dead(rows[1].id, "gave up");
    store.mark_delivered(rows[3].id, cutoff + 2h);

    CHECK(store.prune(cutoff) == 4);  // 1 sample + 1 probe + 2 finished notifications

    auto samples = store.samples("a", k_t0 - 24h);
    REQUIRE(samples.size() == 2);
    CHECK(samples[0].at == cutoff);
    CHECK(store.last_success("a") == cutoff + 1h);
    auto left = store.notifications();
    REQUIRE(left.size() == 2);
    CHECK(left[0].notifier == "old-pending");  // a pending notification is never pruned
    CHECK(left[1].notifier == "new-delivered");
    CHECK(store.alerts("a").size() == 1);  // alert state is not history
    SUBCASE("pruning again removes nothing") { CHECK(store.prune(cutoff) == 0); }
  }

  TEST_CASE("Transaction rolls back unless committed") {
    TempDir dir;
    Database db(dir.file("t.db"));
    db.exec("CREATE TABLE t (x INTEGER)");
    {
      creditwatch::storage::Transaction tx(db);
      db.exec("INSERT INTO t VALUES (1)");
    }
    {
      creditwatch::storage::Transaction tx(db);
      db.exec("INSERT INTO t VALUES (2)");
      tx.commit();
    }
    auto s = db.prepare("SELECT group_concat(x) FROM t");
    REQUIRE(s.step());
    CHECK(s.text(0) == "2");
    CHECK_THROWS_AS(db.exec("SELECT * FROM no_such_table"), DatabaseError);
  }
}
