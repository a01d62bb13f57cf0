// The Store contract (include/creditwatch/storage/store.hpp), written once and run against
// both backends: every case is "store conformance: ...<sqlite>" and "...<postgresql>", the
// latter in a fresh database of a real PostgreSQL. What only a shared database can show
// (replicas racing, outages, reconnects) is in test_storage_postgres_store.cpp.
#include "fakes/store_fixtures.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using creditwatch::Decimal;
using creditwatch::TimePoint;
using creditwatch::storage::AlertRow;
using creditwatch::storage::Claim;
using creditwatch::storage::DatabaseError;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using creditwatch::storage::SampleRow;
using creditwatch::storage::SilenceRow;
using creditwatch::storage::Store;
using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

const TimePoint k_t0 = k_store_t0;

std::vector<std::string> describe(const std::vector<OutboxRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.notifier + " " + r.dedup_key + " #" + std::to_string(r.id));
  return out;
}

std::vector<std::int64_t> ids_of(const std::vector<OutboxRow>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

OutboxRow row_with_id(Store& store, std::int64_t id) {
  for (const auto& row : store.notifications()) {
    if (row.id == id) return row;
  }
  FAIL("no outbox row #" << id);
  return {};
}

}  // namespace

TEST_SUITE("storage_conformance") {
  TEST_CASE_TEMPLATE("store conformance: a new database is at the current schema and reopens with its data", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    auto store = backend.open();
    CHECK(store->backend() == Backend::k_name);
    CHECK(store->shared() == Backend::k_shared);
    CHECK(store->schema_version() == 5);
    CHECK(store->writable());
    CHECK_FALSE(store->write_error().has_value());
    CHECK(store->write_failures() == 0);
    store->add_samples({sample_row("sim", k_t0, "12.50")}, ok_probe_row("sim", k_t0));
    store->save_alert(alert_row("sim", "runway", "firing", k_t0), {outbox_row("slack", k_t0, k_t0)});
    store.reset();

    const auto again = backend.open();  // finds the schema current: no second migration
    CHECK(again->schema_version() == 5);
    REQUIRE(again->samples("sim", k_t0).size() == 1);
    CHECK(again->samples("sim", k_t0)[0].balance == *Decimal::parse("12.50"));
    CHECK(again->alerts().size() == 1);
    CHECK(again->due_notifications(k_t0, 10).size() == 1);
  }

  TEST_CASE_TEMPLATE("store conformance: samples round-trip exactly and come back oldest first", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    const SampleRow with_spend{"ds",
                               k_t0 + 1234ms,
                               "CNY",
                               Decimal::from_micros(110'000'001),
                               Decimal::from_micros(987'654'321),
                               R"({"granted":"10.00","topped_up":"100.000001"})"};
    const SampleRow without_spend{"ds", k_t0 + 2h, "USD", Decimal::from_micros(-1), std::nullopt, ""};
    const SampleRow zero_spend{"ds", k_t0 + 3h, "USD", Decimal(), Decimal(), "{}"};
    // Inserted out of order: the reading at +3 h first.
    store->add_samples({zero_spend}, ok_probe_row("ds", k_t0 + 3h));
    store->add_samples({with_spend, without_spend}, ok_probe_row("ds", k_t0 + 2h));

    const auto rows = store->samples("ds", k_t0);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].account == "ds");
    CHECK(rows[0].at == with_spend.at);
    CHECK(rows[0].currency == "CNY");
    CHECK(rows[0].balance.micros() == 110'000'001);
    REQUIRE(rows[0].spend_total.has_value());
    CHECK(rows[0].spend_total->micros() == 987'654'321);
    CHECK(rows[0].details_json == with_spend.details_json);
    CHECK(rows[1].at == without_spend.at);
    CHECK(rows[1].balance.micros() == -1);
    CHECK_FALSE(rows[1].spend_total.has_value());
    CHECK(rows[1].details_json.empty());
    CHECK(rows[2].at == zero_spend.at);
    REQUIRE(rows[2].spend_total.has_value());  // a zero counter is not "no counter"
    CHECK(rows[2].spend_total->micros() == 0);
    CHECK(store->samples("other", k_t0).empty());
  }

  TEST_CASE_TEMPLATE("store conformance: samples since a time, of one currency, the newest `limit` of them", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    for (int hour = 0; hour < 5; ++hour) {
      const auto at = k_t0 + hour * 1h;
      const std::string usd = std::to_string(10 - hour);
      const std::string cny = std::to_string(70 - hour);
      store->add_samples({sample_row("a", at, usd.c_str(), "USD"), sample_row("a", at, cny.c_str(), "CNY")},
                         ok_probe_row("a", at));
    }
    store->add_samples({sample_row("b", k_t0 + 9h, "1")}, ok_probe_row("b", k_t0 + 9h));

    SUBCASE("since is inclusive") {
      const auto rows = store->samples("a", k_t0 + 3h);
      REQUIRE(rows.size() == 4);
      CHECK(rows[0].at == k_t0 + 3h);
      CHECK(rows[3].at == k_t0 + 4h);
      CHECK(store->samples("a", k_t0 + 4h + 1ms).empty());
    }
    SUBCASE("one currency, or all when none is named") {
      const auto usd = store->samples("a", k_t0, "USD");
      REQUIRE(usd.size() == 5);
      for (const auto& row : usd) CHECK(row.currency == "USD");
      CHECK(usd[0].balance == *Decimal::parse("10"));
      CHECK(store->samples("a", k_t0, "EUR").empty());
      CHECK(store->samples("a", k_t0).size() == 10);
    }
    SUBCASE("a limit keeps the newest, still oldest first") {
      const auto rows = store->samples("a", k_t0, "USD", 2);
      REQUIRE(rows.size() == 2);
      CHECK(rows[0].at == k_t0 + 3h);
      CHECK(rows[1].at == k_t0 + 4h);
      CHECK(store->samples("a", k_t0, "USD", 100).size() == 5);
      CHECK(store->samples("a", k_t0 + 4h, "", 1).size() == 1);
      // Readings of one instant keep the order they were written in.
      const auto both = store->samples("a", k_t0 + 4h, "", 2);
      REQUIRE(both.size() == 2);
      CHECK(both[0].currency == "USD");
      CHECK(both[1].currency == "CNY");
    }
    SUBCASE("latest_sample is the newest reading, of one currency when named") {
      const auto latest = store->latest_sample("a");
      REQUIRE(latest.has_value());
      CHECK(latest->at == k_t0 + 4h);
      CHECK(latest->currency == "CNY");  // written after USD at the same instant
      const auto usd = store->latest_sample("a", "USD");
      REQUIRE(usd.has_value());
      CHECK(usd->balance == *Decimal::parse("6"));
      CHECK_FALSE(store->latest_sample("a", "EUR").has_value());
      CHECK_FALSE(store->latest_sample("nobody").has_value());
      CHECK(store->latest_sample("b")->at == k_t0 + 9h);
    }
  }

  TEST_CASE_TEMPLATE("store conformance: latest_probe and last_success", Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK_FALSE(store->last_success("a").has_value());
    CHECK_FALSE(store->latest_probe("a").has_value());
    store->add_samples({sample_row("a", k_t0, "10")}, ok_probe_row("a", k_t0));
    store->add_probe(failed_probe_row("a", k_t0 + 5min));
    store->add_probe(failed_probe_row("a", k_t0 + 10min));
    store->add_probe(ok_probe_row("b", k_t0 + 1h));
    CHECK(store->last_success("a") == k_t0);
    const auto latest = store->latest_probe("a");
    REQUIRE(latest.has_value());
    CHECK(latest->account == "a");
    CHECK(latest->at == k_t0 + 10min);
    CHECK(latest->outcome == "timeout");
    CHECK(latest->http_status == 0);
    CHECK(latest->latency_seconds == 15.0);
    CHECK(latest->message == "timed out after 15s");
    store->add_probe(ok_probe_row("a", k_t0 + 15min));
    CHECK(store->last_success("a") == k_t0 + 15min);
    CHECK(store->latest_probe("a")->http_status == 200);
    CHECK(store->latest_probe("a")->latency_seconds == 0.25);
    CHECK_FALSE(store->last_success("c").has_value());
  }

  TEST_CASE_TEMPLATE("store conformance: latest_probes reads latest_probe and last_success of many accounts at once",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->latest_probes({}).empty());
    CHECK(store->latest_probes({"a", "b"}).empty());
    // "ok": succeeded last. "failing": succeeded, then failed twice. "never": only failed.
    // "tie": a failure and a success at the same instant. "revoked": its key refused last.
    // "ledger-only": known to the store (a saved ledger) but never probed. "unasked": not asked for.
    store->add_samples({sample_row("ok", k_t0, "10")}, ok_probe_row("ok", k_t0));
    store->add_probe(ok_probe_row("ok", k_t0 + 20min));
    store->add_samples({sample_row("failing", k_t0, "10")}, ok_probe_row("failing", k_t0));
    store->add_probe(failed_probe_row("failing", k_t0 + 5min));
    store->add_probe(failed_probe_row("failing", k_t0 + 10min));
    store->add_probe(failed_probe_row("never", k_t0 + 1min));
    store->add_probe(failed_probe_row("tie", k_t0 + 3min));
    store->add_probe(ok_probe_row("tie", k_t0 + 3min));
    store->add_probe(ok_probe_row("revoked", k_t0));
    store->add_probe(creditwatch::storage::ProbeRow{"revoked", k_t0 + 7min, "key_invalid", 401, 0.5, "bad key"});
    store->save_ledger("ledger-only", "USD", {k_t0, "L"});
    store->add_probe(ok_probe_row("unasked", k_t0));

    // More names than one statement takes (SQLite 500, PostgreSQL 1,000), one of them twice.
    std::vector<std::string> asked{"ok", "failing", "never", "tie", "revoked", "ledger-only", "unknown", "ok"};
    for (int i = 0; i < 1200; ++i) asked.push_back("absent-" + std::to_string(i));
    asked.push_back("tie");
    const auto found = store->latest_probes(asked);
    std::map<std::string, creditwatch::storage::LatestProbes> by_account;
    for (const auto& row : found) CHECK(by_account.emplace(row.account, row).second);  // each once
    CHECK(by_account.size() == 6);
    CHECK(by_account.count("unknown") == 0);
    CHECK(by_account.count("unasked") == 0);
    for (const auto& [account, row] : by_account) {
      INFO(account);
      // Exactly what the one-account reads give.
      const auto single = store->latest_probe(account);
      REQUIRE(row.latest.has_value() == single.has_value());
      if (single) {
        CHECK(row.latest->account == single->account);
        CHECK(row.latest->at == single->at);
        CHECK(row.latest->outcome == single->outcome);
        CHECK(row.latest->http_status == single->http_status);
        CHECK(row.latest->latency_seconds == single->latency_seconds);
        CHECK(row.latest->message == single->message);
      }
      CHECK(row.last_success == store->last_success(account));
    }
    // And what they are.
    CHECK(by_account["ok"].latest->at == k_t0 + 20min);
    CHECK(by_account["ok"].latest->outcome == "ok");
    CHECK(by_account["failing"].latest->outcome == "timeout");
    CHECK(by_account["failing"].latest->at == k_t0 + 10min);
    CHECK(by_account["failing"].latest->message == "timed out after 15s");
    CHECK(by_account["failing"].last_success == k_t0);
    CHECK(by_account["never"].latest->outcome == "timeout");
    CHECK_FALSE(by_account["never"].last_success.has_value());
    CHECK(by_account["tie"].latest->outcome == "ok");
    CHECK(by_account["revoked"].latest->outcome == "key_invalid");
    CHECK(by_account["revoked"].latest->http_status == 401);
    CHECK(by_account["revoked"].last_success == k_t0);
    CHECK_FALSE(by_account["ledger-only"].latest.has_value());
    CHECK_FALSE(by_account["ledger-only"].last_success.has_value());
  }

  TEST_CASE_TEMPLATE("store conformance: alerts are upserted by account and rule", Backend, SqliteBackend,
                     PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->alerts().empty());
    store->save_alert(alert_row("b", "stale", "firing", k_t0), {});
    store->save_alert(alert_row("a", "runway", "firing", k_t0), {});
    store->save_alert(alert_row("a", "exhausted", "firing", k_t0), {});
    auto updated = alert_row("a", "runway", "firing", k_t0);
    updated.severity = "critical";
    updated.last_notified = k_t0 + 1h;
    updated.context_json = R"({"runway_days":2.1})";
    store->save_alert(updated, {});

    const auto all = store->alerts();
    REQUIRE(all.size() == 3);  // by account, then rule
    CHECK(all[0].account + "/" + all[0].rule == "a/exhausted");
    CHECK(all[1].account + "/" + all[1].rule == "a/runway");
    CHECK(all[2].account + "/" + all[2].rule == "b/stale");
    CHECK(all[1].state == "firing");
    CHECK(all[1].severity == "critical");
    CHECK(all[1].since == k_t0);
    CHECK(all[1].last_notified == k_t0 + 1h);
    CHECK(all[1].context_json == R"({"runway_days":2.1})");
    CHECK(store->alerts("a").size() == 2);
    CHECK(store->alerts("nobody").empty());

    store->save_alert(alert_row("a", "runway", "resolved", k_t0 + 2h), {});
    const auto runway = store->alerts("a").at(1);
    CHECK(runway.state == "resolved");
    CHECK(runway.severity == "warning");
    CHECK(runway.since == k_t0 + 2h);
    CHECK(store->alerts().size() == 3);
  }

  TEST_CASE_TEMPLATE("store conformance: silences are added, listed by start, expired early and survive a reopen",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    auto store = backend.open();
    CHECK(store->silences().empty());
    const SilenceRow later{"bbbb", R"({"rule":"runway"})", k_t0 + 1h, k_t0 + 3h, "maintenance", "bo", k_t0};
    const SilenceRow now{"aaaa", R"({"account":"ds-*","team":"billing"})", k_t0, k_t0 + 2h, "top-up under way\nsee #42",
                         "ana", k_t0 - 1min};
    store->add_silence(later);
    store->add_silence(now);
    store.reset();

    const auto again = backend.open();
    auto listed = again->silences();
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == "aaaa");  // by starts_at
    CHECK(listed[0].matchers_json == now.matchers_json);
    CHECK(listed[0].starts_at == k_t0);
    CHECK(listed[0].ends_at == k_t0 + 2h);
    CHECK(listed[0].comment == "top-up under way\nsee #42");
    CHECK(listed[0].created_by == "ana");
    CHECK(listed[0].created_at == k_t0 - 1min);
    CHECK(listed[1].id == "bbbb");

    CHECK(again->expire_silence("aaaa", k_t0 + 30min));
    CHECK(again->expire_silence("aaaa", k_t0 + 40min));  // already over: unchanged, still found
    CHECK_FALSE(again->expire_silence("nope", k_t0));
    // A pending silence expired before it starts ends (and starts) then.
    CHECK(again->expire_silence("bbbb", k_t0 + 45min));
    listed = again->silences();
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == "aaaa");
    CHECK(listed[0].ends_at == k_t0 + 30min);
    CHECK(listed[1].starts_at == k_t0 + 45min);
    CHECK(listed[1].ends_at == k_t0 + 45min);

    // The retention prune drops silences that ended before its cutoff.
    again->prune(k_t0 + 35min, k_t0 - 24h);
    listed = again->silences();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].id == "bbbb");
  }

  TEST_CASE_TEMPLATE("store conformance: acks are saved with their notifications, replaced and deleted", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    auto store = backend.open();
    CHECK(store->acks().empty());
    store->save_ack({"b", "stale", "cy", k_t0, "", "warning"});
    store->save_ack({"a", "runway", "ana", k_t0, "on it", "critical"},
                    {outbox_row("slack", k_t0, k_t0), outbox_row("pager", k_t0, k_t0)});
    CHECK(store->due_notifications(k_t0, 10).size() == 2);
    store->save_ack({"a", "runway", "bo", k_t0 + 1min, "topping up", "critical"});
    store.reset();

    const auto again = backend.open();
    const auto acks = again->acks();
    REQUIRE(acks.size() == 2);  // by account, then rule
    CHECK(acks[0].account == "a");
    CHECK(acks[0].rule == "runway");
    CHECK(acks[0].by == "bo");
    CHECK(acks[0].at == k_t0 + 1min);
    CHECK(acks[0].comment == "topping up");
    CHECK(acks[0].severity == "critical");
    CHECK(acks[1].account == "b");
    CHECK(again->delete_ack("a", "runway"));
    CHECK_FALSE(again->delete_ack("a", "runway"));
    REQUIRE(again->acks().size() == 1);
    CHECK(again->acks()[0].account == "b");
  }

  TEST_CASE_TEMPLATE("store conformance: alerts_of reads the alerts of the named accounts only, ordered as alerts", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->alerts_of({"a"}).empty());
    // Names a JSON array or a text array must quote: a quote, a backslash, a comma, braces.
    const std::string odd = "q\"u\\o,t{e}";
    for (const auto& account : {std::string("c"), std::string("a"), std::string("b"), odd}) {
      store->save_alert(alert_row(account, "stale", "firing", k_t0), {});
      store->save_alert(alert_row(account, "runway", "resolved", k_t0 + 1h), {});
    }
    const auto some = store->alerts_of({"c", odd, "a", "nobody"});
    REQUIRE(some.size() == 6);
    std::vector<std::string> keys;
    for (const auto& row : some) keys.push_back(row.account + "/" + row.rule);
    CHECK(keys == std::vector<std::string>{"a/runway", "a/stale", "c/runway", "c/stale", odd + "/runway", odd + "/stale"});
    CHECK(some[1].state == "firing");
    CHECK(some[1].since == k_t0);
    CHECK(some[0].state == "resolved");
    CHECK(store->alerts_of({}).empty());
    CHECK(store->alerts_of({"nobody"}).empty());
  }

  TEST_CASE_TEMPLATE("store conformance: save_alert enqueues, replacing older pending rows of named notifiers only",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    store->save_alert(alert_row("a", "runway", "firing", k_t0),
                      {outbox_row("am", k_t0, k_t0), outbox_row("slack", k_t0, k_t0 + 1min)});
    auto all = store->notifications();
    REQUIRE(all.size() == 2);
    CHECK(all[0].id < all[1].id);
    CHECK(all[0].notifier == "am");
    CHECK(all[0].dedup_key == "sim/runway");
    CHECK(all[0].payload_json == R"({"rule":"runway"})");
    CHECK(all[0].attempts == 0);
    CHECK(all[0].state == OutboxState::pending);
    CHECK(all[0].created == k_t0);
    CHECK(all[0].last_error.empty());
    CHECK(all[0].claimed_by.empty());
    CHECK(all[1].next_attempt == k_t0 + 1min);
    const auto first_am = all[0].id;
    const auto first_slack = all[1].id;
    store->mark_delivered(first_am, k_t0);

    store->save_alert(alert_row("a", "runway", "resolved", k_t0 + 1h),
                      {outbox_row("am", k_t0 + 1h, k_t0 + 1h), outbox_row("slack", k_t0 + 1h, k_t0 + 1h),
                       outbox_row("am", k_t0 + 1h, k_t0 + 1h, "b/runway")});
    const auto resolved_am = store->notifications().at(2).id;
    // Firing again: Alertmanager only needs the newest state, Slack gets every one.
    store->save_alert(alert_row("a", "runway", "firing", k_t0 + 2h),
                      {outbox_row("am", k_t0 + 2h, k_t0 + 2h), outbox_row("slack", k_t0 + 2h, k_t0 + 2h)}, {"am"});

    all = store->notifications();
    INFO("rows: " << doctest::toString(describe(all)));
    REQUIRE(all.size() == 6);
    for (const auto& row : all) CHECK(row.id != resolved_am);  // the one pending row of am's key went
    CHECK(all[0].id == first_am);  // delivered: history, not replaced
    CHECK(all[0].state == OutboxState::delivered);
    CHECK(all[1].id == first_slack);
    CHECK(all[2].notifier == "slack");
    CHECK(all[3].dedup_key == "b/runway");  // another key of the same notifier stays
    CHECK(all[4].notifier == "am");
    CHECK(all[4].created == k_t0 + 2h);
    CHECK(all[5].notifier == "slack");
    CHECK(store->notifications(OutboxState::pending).size() == 5);
    CHECK(store->alerts("a").at(0).state == "firing");
  }

  TEST_CASE_TEMPLATE("store conformance: save_alert does not replace a pending row a sender holds", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    store->save_alert(alert_row("a", "runway", "firing", k_t0), {outbox_row("am", k_t0, k_t0)});
    const auto on_the_wire = store->notifications().at(0).id;
    REQUIRE(store->claim_notification(on_the_wire, "replica-x#1", k_t0, k_t0 + 1min) == Claim::taken);
    // While it is being sent the alert resolves: the claimed row stays, the new state queues behind it.
    store->save_alert(alert_row("a", "runway", "resolved", k_t0 + 10s), {outbox_row("am", k_t0 + 10s, k_t0 + 10s)},
                      {"am"});
    auto all = store->notifications(OutboxState::pending);
    REQUIRE(all.size() == 2);
    CHECK(all[0].id == on_the_wire);
    // Once the claim has expired (its sender died) the row is fair game again.
    store->save_alert(alert_row("a", "runway", "firing", k_t0 + 5min), {outbox_row("am", k_t0 + 5min, k_t0 + 5min)},
                      {"am"});
    all = store->notifications(OutboxState::pending);
    REQUIRE(all.size() == 1);
    CHECK(all[0].created == k_t0 + 5min);
  }

  TEST_CASE_TEMPLATE("store conformance: enqueue_once adds a row only if its notifier never had one of its key",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->enqueue_once(outbox_row("slack", k_t0, k_t0, "digest-1")));
    CHECK_FALSE(store->enqueue_once(outbox_row("slack", k_t0 + 1min, k_t0 + 1min, "digest-1")));
    CHECK(store->enqueue_once(outbox_row("mail", k_t0, k_t0, "digest-1")));    // another notifier
    CHECK(store->enqueue_once(outbox_row("slack", k_t0, k_t0, "digest-2")));   // another key
    auto pending = store->notifications(OutboxState::pending);
    REQUIRE(pending.size() == 3);
    CHECK(pending[0].created == k_t0);
    store->mark_delivered(pending[0].id, k_t0 + 5min);  // delivered, and dead, still count
    CHECK_FALSE(store->enqueue_once(outbox_row("slack", k_t0 + 6min, k_t0 + 6min, "digest-1")));
    store->mark_dead(pending[1].id, "HTTP 400");
    CHECK_FALSE(store->enqueue_once(outbox_row("mail", k_t0 + 6min, k_t0 + 6min, "digest-1")));
    CHECK(store->notifications().size() == 3);
  }

  TEST_CASE_TEMPLATE("store conformance: enqueue_refresh adds a row only while its notifier has none of its key pending",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->enqueue_refresh(outbox_row("am", k_t0, k_t0)));
    CHECK_FALSE(store->enqueue_refresh(outbox_row("am", k_t0 + 1min, k_t0 + 1min)));
    CHECK(store->enqueue_refresh(outbox_row("slack", k_t0 + 1min, k_t0 + 1min)));        // another notifier
    CHECK(store->enqueue_refresh(outbox_row("am", k_t0 + 1min, k_t0 + 1min, "other")));  // another key
    auto pending = store->notifications(OutboxState::pending);
    REQUIRE(pending.size() == 3);
    CHECK(pending[0].created == k_t0);
    CHECK(pending[0].attempts == 0);

    store->mark_retry(pending[0].id, k_t0 + 5min, "HTTP 503");  // a failed row is still pending
    CHECK_FALSE(store->enqueue_refresh(outbox_row("am", k_t0 + 2min, k_t0 + 2min)));
    store->mark_delivered(pending[0].id, k_t0 + 5min);
    CHECK(store->enqueue_refresh(outbox_row("am", k_t0 + 6min, k_t0 + 6min)));
    store->mark_dead(store->notifications(OutboxState::pending).back().id, "HTTP 400");
    CHECK(store->enqueue_refresh(outbox_row("am", k_t0 + 7min, k_t0 + 7min)));
    CHECK(store->notifications().size() == 5);
  }

  TEST_CASE_TEMPLATE("store conformance: due_notifications offers the oldest pending row per notifier and key when due",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    store->save_alert(alert_row("a", "runway", "firing", k_t0),
                      {outbox_row("slack", k_t0, k_t0 + 2min), outbox_row("pd", k_t0, k_t0),
                       outbox_row("mail", k_t0, k_t0 + 1h)});

    SUBCASE("due at `now`, soonest first, at most `limit`") {
      auto due = store->due_notifications(k_t0 + 5min, 10);
      REQUIRE(due.size() == 2);
      CHECK(due[0].notifier == "pd");
      CHECK(due[1].notifier == "slack");
      CHECK(store->due_notifications(k_t0 + 5min, 1).at(0).notifier == "pd");
      CHECK(store->due_notifications(k_t0 + 5min, 1).size() == 1);
      CHECK(store->due_notifications(k_t0 - 1s, 10).empty());
      CHECK(store->due_notifications(k_t0 + 2min, 10).size() == 2);  // due exactly at next_attempt
      CHECK(store->due_notifications(k_t0 + 2min - 1ms, 10).size() == 1);
    }
    SUBCASE("one notifier's only when it is named") {
      const auto due = store->due_notifications(k_t0 + 2h, 10, "slack");
      REQUIRE(due.size() == 1);
      CHECK(due[0].notifier == "slack");
      CHECK(store->due_notifications(k_t0 + 2h, 10, "nobody").empty());
      CHECK(store->due_notifications(k_t0 + 2h, 10).size() == 3);
    }
    SUBCASE("mark_retry postpones the row and records the error") {
      const auto pd = store->due_notifications(k_t0, 10).at(0);
      store->mark_retry(pd.id, k_t0 + 30s, "HTTP 503");
      CHECK(store->due_notifications(k_t0 + 29s, 10).empty());
      const auto due = store->due_notifications(k_t0 + 30s, 10);
      REQUIRE(due.size() == 1);
      CHECK(due[0].id == pd.id);
      CHECK(due[0].attempts == 1);
      CHECK(due[0].last_error == "HTTP 503");
      CHECK(due[0].state == OutboxState::pending);
      store->mark_retry(pd.id, k_t0 + 90s, "HTTP 429");
      CHECK(store->due_notifications(k_t0 + 90s, 10).at(0).attempts == 2);
    }
    SUBCASE("mark_delivered takes the row out of the queue") {
      const auto pd = store->due_notifications(k_t0, 10).at(0);
      store->mark_retry(pd.id, k_t0 + 30s, "HTTP 503");
      store->mark_delivered(pd.id, k_t0 + 31s);
      CHECK(store->due_notifications(k_t0 + 1h, 10).size() == 2);  // slack and mail only
      const auto delivered = store->notifications(OutboxState::delivered);
      REQUIRE(delivered.size() == 1);
      CHECK(delivered[0].id == pd.id);
      CHECK(delivered[0].attempts == 2);
      CHECK(delivered[0].last_error.empty());
    }
    SUBCASE("mark_dead gives up on the row") {
      const auto pd = store->due_notifications(k_t0, 10).at(0);
      store->mark_dead(pd.id, "HTTP 400: bad routing key");
      const auto dead = store->notifications(OutboxState::dead);
      REQUIRE(dead.size() == 1);
      CHECK(dead[0].id == pd.id);
      CHECK(dead[0].attempts == 1);
      CHECK(dead[0].last_error == "HTTP 400: bad routing key");
      CHECK(store->notifications(OutboxState::pending).size() == 2);
      CHECK(store->notifications().size() == 3);
      for (const auto& row : store->due_notifications(k_t0 + 1h, 10)) CHECK(row.id != pd.id);
    }
  }

  TEST_CASE_TEMPLATE("store conformance: an alert's later states wait behind its oldest pending one", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    // The runway alert fired, then resolved; PagerDuty's trigger was throttled for 20 s.
    store->save_alert(alert_row("a", "runway", "firing", k_t0),
                      {outbox_row("pd", k_t0, k_t0), outbox_row("slack", k_t0, k_t0)});
    const auto trigger = store->due_notifications(k_t0, 10, "pd").at(0);
    store->mark_retry(trigger.id, k_t0 + 20s, "HTTP 429");
    store->save_alert(alert_row("a", "runway", "resolved", k_t0 + 5s),
                      {outbox_row("pd", k_t0 + 5s, k_t0 + 5s), outbox_row("slack", k_t0 + 5s, k_t0 + 5s)});
    store->save_alert(alert_row("b", "runway", "firing", k_t0 + 5s),
                      {outbox_row("pd", k_t0 + 5s, k_t0 + 5s, "b/runway")});

    // At +5 s the resolve is due, but its trigger is still pending: only the other alert may go.
    auto due = store->due_notifications(k_t0 + 5s, 10, "pd");
    INFO("due: " << doctest::toString(describe(due)));
    REQUIRE(due.size() == 1);
    CHECK(due[0].dedup_key == "b/runway");
    // Slack's trigger went nowhere yet either: its resolve waits behind it.
    due = store->due_notifications(k_t0 + 5s, 10, "slack");
    REQUIRE(due.size() == 1);
    CHECK(due[0].created == k_t0);
    CHECK(store->due_notifications(k_t0 + 5s, 10).size() == 2);  // b's and slack's trigger

    due = store->due_notifications(k_t0 + 20s, 10, "pd");
    REQUIRE(due.size() == 2);
    CHECK(due[0].dedup_key == "b/runway");  // soonest first
    CHECK(due[1].id == trigger.id);

    store->mark_delivered(trigger.id, k_t0 + 20s);
    due = store->due_notifications(k_t0 + 20s, 10, "pd");
    REQUIRE(due.size() == 2);
    CHECK(due[0].dedup_key == "sim/runway");  // now the resolve (queued before b's row)
    CHECK(due[0].created == k_t0 + 5s);
  }

  TEST_CASE_TEMPLATE("store conformance: next_in_line is the oldest pending row of each key, due or not", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    store->save_alert(alert_row("a", "runway", "firing", k_t0),
                      {outbox_row("pd", k_t0, k_t0 + 20s), outbox_row("slack", k_t0, k_t0)});
    store->save_alert(alert_row("a", "runway", "resolved", k_t0 + 5s),
                      {outbox_row("pd", k_t0 + 5s, k_t0 + 5s), outbox_row("slack", k_t0 + 5s, k_t0 + 5s)});
    store->save_alert(alert_row("b", "runway", "firing", k_t0 + 5s),
                      {outbox_row("pd", k_t0 + 5s, k_t0 + 5s, "b/runway")});

    const auto line = store->next_in_line("pd");
    INFO("pd: " << doctest::toString(describe(line)));
    REQUIRE(line.size() == 2);
    CHECK(line[0].dedup_key == "b/runway");  // soonest next_attempt first
    CHECK(line[1].dedup_key == "sim/runway");
    CHECK(line[1].created == k_t0);  // the trigger, not its resolve
    CHECK(store->next_in_line("nobody").empty());

    SUBCASE("rows passed as sent put the next state in line") {
      const auto slack = store->next_in_line("slack");
      REQUIRE(slack.size() == 1);
      const auto behind = store->next_in_line("slack", {slack[0].id});
      REQUIRE(behind.size() == 1);
      CHECK(behind[0].created == k_t0 + 5s);
      CHECK(store->next_in_line("slack", {slack[0].id, behind[0].id}).empty());
      CHECK(store->next_in_line("pd", {line[1].id}).at(1).created == k_t0 + 5s);
    }
    SUBCASE("a row claimed by another sender is in line with its claim, and the rows behind it wait") {
      REQUIRE(store->claim_notification(line[1].id, "replica-2", k_t0, k_t0 + 30s) == Claim::taken);
      const auto claimed = store->next_in_line("pd");
      REQUIRE(claimed.size() == 2);
      CHECK(claimed[1].id == line[1].id);
      CHECK(claimed[1].claimed_by == "replica-2");
      CHECK(claimed[1].claim_until == k_t0 + 30s);
      CHECK(claimed[0].claimed_by.empty());
    }
    SUBCASE("marked rows leave the line") {
      store->mark_retry(line[0].id, k_t0 + 1h, "HTTP 503");
      auto after = store->next_in_line("pd");
      REQUIRE(after.size() == 2);
      CHECK(after[0].id == line[1].id);  // b's row is now due later
      CHECK(after[1].next_attempt == k_t0 + 1h);
      store->mark_delivered(line[1].id, k_t0 + 20s);
      after = store->next_in_line("pd");
      REQUIRE(after.size() == 2);
      CHECK(after[0].created == k_t0 + 5s);  // the resolve
      store->mark_dead(line[0].id, "HTTP 400");
      CHECK(store->next_in_line("pd").size() == 1);
    }
  }

  TEST_CASE_TEMPLATE("store conformance: claim_notification takes, refuses and reclaims", Backend, SqliteBackend,
                     PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    store->save_alert(alert_row("a", "runway", "firing", k_t0), {outbox_row("pd", k_t0, k_t0)});
    const auto id = store->notifications().at(0).id;
    CHECK(row_with_id(*store, id).claimed_by.empty());
    const TimePoint until = k_t0 + 30s;
    REQUIRE(store->claim_notification(id, "r1", k_t0, until) == Claim::taken);
    auto row = row_with_id(*store, id);
    CHECK(row.claimed_by == "r1");
    CHECK(row.claim_until == until);

    SUBCASE("the holder claims again: taken, its claim extended") {
      CHECK(store->claim_notification(id, "r1", k_t0 + 10s, k_t0 + 60s) == Claim::taken);
      CHECK(row_with_id(*store, id).claim_until == k_t0 + 60s);
      CHECK(store->claim_notification(id, "r2", k_t0 + 40s, k_t0 + 70s) == Claim::refused);
    }
    SUBCASE("another sender is refused until the claim has expired") {
      CHECK(store->claim_notification(id, "r2", k_t0 + 10s, k_t0 + 40s) == Claim::refused);
      CHECK(store->claim_notification(id, "r2", until, until + 30s) == Claim::refused);  // not expired at until
      row = row_with_id(*store, id);
      CHECK(row.claimed_by == "r1");
      CHECK(row.claim_until == until);
    }
    SUBCASE("another sender reclaims it once expired, and then holds it") {
      CHECK(store->claim_notification(id, "r2", until + 1ms, until + 30s) == Claim::reclaimed);
      row = row_with_id(*store, id);
      CHECK(row.claimed_by == "r2");
      CHECK(row.claim_until == until + 30s);
      CHECK(store->claim_notification(id, "r1", until + 1s, until + 31s) == Claim::refused);
      CHECK(store->claim_notification(id, "r2", until + 1s, until + 60s) == Claim::taken);
    }
    SUBCASE("mark_retry ends the claim: the next sender takes it afresh") {
      store->mark_retry(id, k_t0 + 5s, "HTTP 503");
      CHECK(row_with_id(*store, id).claimed_by.empty());
      CHECK(store->claim_notification(id, "r2", k_t0 + 5s, k_t0 + 35s) == Claim::taken);
    }
    SUBCASE("mark_delivered ends the claim and the row can be claimed no more") {
      store->mark_delivered(id, k_t0 + 1s);
      CHECK(row_with_id(*store, id).claimed_by.empty());
      CHECK(store->claim_notification(id, "r1", k_t0 + 2s, k_t0 + 32s) == Claim::refused);
      CHECK(store->claim_notification(id, "r2", until + 1s, until + 31s) == Claim::refused);
    }
    SUBCASE("mark_dead ends the claim and the row can be claimed no more") {
      store->mark_dead(id, "HTTP 400");
      CHECK(row_with_id(*store, id).claimed_by.empty());
      CHECK(store->claim_notification(id, "r1", k_t0 + 2s, k_t0 + 32s) == Claim::refused);
    }
    SUBCASE("abandon_pending ends the claim and the row can be claimed no more") {
      CHECK(store->abandon_pending("pd", "notifier pd is no longer configured") == 1);
      CHECK(row_with_id(*store, id).claimed_by.empty());
      CHECK(store->claim_notification(id, "r1", k_t0 + 2s, k_t0 + 32s) == Claim::refused);
    }
    SUBCASE("an unknown id is refused") {
      CHECK(store->claim_notification(id + 1000, "r1", k_t0, until) == Claim::refused);
      CHECK(store->notifications().size() == 1);
    }
  }

  TEST_CASE_TEMPLATE("store conformance: abandon_pending and notifiers_with_pending", Backend, SqliteBackend,
                     PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->notifiers_with_pending().empty());
    store->save_alert(alert_row("a", "runway", "firing", k_t0),
                      {outbox_row("pd", k_t0, k_t0), outbox_row("old", k_t0, k_t0),
                       outbox_row("old", k_t0, k_t0, "other/runway")});
    store->mark_delivered(store->notifications().at(0).id, k_t0);
    store->save_alert(alert_row("a", "runway", "resolved", k_t0), {outbox_row("pd", k_t0, k_t0)});
    CHECK(store->notifiers_with_pending() == std::vector<std::string>{"old", "pd"});
    CHECK(store->abandon_pending("old", "notifier old is no longer configured") == 2);
    CHECK(store->notifiers_with_pending() == std::vector<std::string>{"pd"});
    const auto dead = store->notifications(OutboxState::dead);
    REQUIRE(dead.size() == 2);
    for (const auto& row : dead) {
      CHECK(row.notifier == "old");
      CHECK(row.last_error == "notifier old is no longer configured");
    }
    CHECK(store->notifications(OutboxState::delivered).size() == 1);
    CHECK(store->notifications(OutboxState::pending).size() == 1);
    const auto ids = ids_of(store->notifications());
    CHECK(std::is_sorted(ids.begin(), ids.end()));  // by id
    CHECK(store->abandon_pending("nobody", "gone") == 0);
    CHECK(store->abandon_pending("old", "again") == 0);  // dead rows stay as they were
    CHECK(store->notifications(OutboxState::dead).at(0).last_error == "notifier old is no longer configured");
  }

  TEST_CASE_TEMPLATE("store conformance: replicas announce themselves, count their unexpired leases and leave", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->replicas(k_t0).empty());
    store->announce_replica("b", k_t0, k_t0);
    store->announce_replica("a", k_t0 + 1s, k_t0 + 1s);
    auto replicas = store->replicas(k_t0 + 1s);
    REQUIRE(replicas.size() == 2);
    CHECK(replicas[0].id == "a");  // by id
    CHECK(replicas[0].started == k_t0 + 1s);
    CHECK(replicas[0].last_seen == k_t0 + 1s);
    CHECK(replicas[0].accounts == 0);
    CHECK(replicas[1].id == "b");

    store->announce_replica("b", k_t0, k_t0 + 5s);
    CHECK(store->replicas(k_t0 + 5s).at(1).last_seen == k_t0 + 5s);
    CHECK(store->replicas(k_t0 + 5s).at(1).started == k_t0);
    CHECK(sorted(store->claim_leases("a", {"x", "y", "z"}, k_t0 + 5s, k_t0 + 20s)) ==
          std::vector<std::string>{"x", "y", "z"});
    CHECK(store->claim_leases("b", {"w"}, k_t0 + 5s, k_t0 + 10s) == std::vector<std::string>{"w"});

    replicas = store->replicas(k_t0 + 10s);  // b's lease ends at +10 s: still b's then
    CHECK(replicas.at(0).accounts == 3);
    CHECK(replicas.at(1).accounts == 1);
    replicas = store->replicas(k_t0 + 10s + 1ms);
    CHECK(replicas.at(0).accounts == 3);
    CHECK(replicas.at(1).accounts == 0);

    SUBCASE("a restarted replica announces its new start") {
      store->announce_replica("a", k_t0 + 8s, k_t0 + 8s);
      CHECK(store->replicas(k_t0 + 8s).at(0).started == k_t0 + 8s);
      CHECK(store->replicas(k_t0 + 8s).size() == 2);
    }
    SUBCASE("leaving drops the replica and its leases, which are free at once") {
      store->leave_cluster("a");
      replicas = store->replicas(k_t0 + 6s);
      REQUIRE(replicas.size() == 1);
      CHECK(replicas[0].id == "b");
      const auto leases = store->leases();
      REQUIRE(leases.size() == 1);
      CHECK(leases[0].owner == "b");
      CHECK(sorted(store->claim_leases("b", {"x", "y"}, k_t0 + 6s, k_t0 + 21s)) == std::vector<std::string>{"x", "y"});
      CHECK(store->replicas(k_t0 + 6s).at(0).accounts == 3);
      store->leave_cluster("nobody");
      CHECK(store->replicas(k_t0 + 6s).size() == 1);
    }
  }

  TEST_CASE_TEMPLATE("store conformance: claim_leases takes free, own and expired leases, never another's", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->leases().empty());
    CHECK(store->claim_leases("a", {}, k_t0, k_t0 + 15s).empty());
    CHECK(sorted(store->claim_leases("a", {"y", "x"}, k_t0, k_t0 + 15s)) == std::vector<std::string>{"x", "y"});
    CHECK(store->claim_leases("b", {"y", "z"}, k_t0 + 1s, k_t0 + 16s) == std::vector<std::string>{"z"});
    // A renewal keeps a's own and cannot take b's.
    CHECK(sorted(store->claim_leases("a", {"x", "y", "z"}, k_t0 + 5s, k_t0 + 20s)) ==
          std::vector<std::string>{"x", "y"});
    auto leases = store->leases();
    REQUIRE(leases.size() == 3);  // by account
    CHECK(leases[0].account == "x");
    CHECK(leases[0].owner == "a");
    CHECK(leases[0].expires == k_t0 + 20s);
    CHECK(leases[1].account == "y");
    CHECK(leases[1].owner == "a");
    CHECK(leases[2].account == "z");
    CHECK(leases[2].owner == "b");
    CHECK(leases[2].expires == k_t0 + 16s);

    SUBCASE("another's lease is taken once it has expired, and its old owner cannot renew it") {
      CHECK(store->claim_leases("b", {"y"}, k_t0 + 20s, k_t0 + 40s).empty());  // not expired at its end
      CHECK(store->claim_leases("b", {"y"}, k_t0 + 20s + 1ms, k_t0 + 40s) == std::vector<std::string>{"y"});
      CHECK(store->claim_leases("a", {"x", "y"}, k_t0 + 21s, k_t0 + 41s) == std::vector<std::string>{"x"});
      CHECK(store->leases().at(1).owner == "b");
      CHECK(store->leases().at(1).expires == k_t0 + 40s);
    }
    SUBCASE("release_leases gives up only the replica's own") {
      store->release_leases("a", {"x", "z"});
      leases = store->leases();
      REQUIRE(leases.size() == 2);
      CHECK(leases[0].account == "y");
      CHECK(leases[1].account == "z");
      CHECK(leases[1].owner == "b");
      store->release_leases("b", {});
      CHECK(store->leases().size() == 2);
      CHECK(store->claim_leases("b", {"x"}, k_t0 + 6s, k_t0 + 21s) == std::vector<std::string>{"x"});  // free now
    }
    SUBCASE("an account named twice is held once") {
      CHECK(sorted(store->claim_leases("c", {"q", "q", "r"}, k_t0, k_t0 + 15s)) == std::vector<std::string>{"q", "r"});
      CHECK(store->leases().size() == 5);
    }
  }

  TEST_CASE_TEMPLATE("store conformance: prune removes old samples, probes, finished notifications and absent replicas",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    const TimePoint cutoff = k_t0 + 24h;
    store->add_samples({sample_row("a", k_t0, "10")}, ok_probe_row("a", k_t0));               // old: 1 + 1
    store->add_samples({sample_row("a", cutoff, "9")}, ok_probe_row("a", cutoff));            // kept: at cutoff
    store->add_samples({sample_row("a", cutoff + 1h, "8")}, ok_probe_row("a", cutoff + 1h));  // kept
    store->save_alert(alert_row("a", "runway", "firing", k_t0),
                      {outbox_row("old-delivered", k_t0, k_t0), outbox_row("old-dead", k_t0, k_t0),
                       outbox_row("old-pending", k_t0, k_t0), outbox_row("new-delivered", cutoff + 1h, cutoff + 1h)});
    const auto rows = store->notifications();
    REQUIRE(rows.size() == 4);
    store->mark_delivered(rows[0].id, k_t0 + 1s);
    store->mark_dead(rows[1].id, "gave up");
    store->mark_delivered(rows[3].id, cutoff + 2h);
    store->announce_replica("gone", k_t0, k_t0);
    store->announce_replica("here", k_t0, cutoff);
    store->claim_leases("gone", {"a"}, k_t0, k_t0 + 15s);

    // 1 run (rolled up) + 2 finished notifications + 1 replica not seen since the cutoff;
    // successful probes are counted, not stored
    CHECK(store->prune(cutoff, k_t0 - 24h) == 4);

    const auto samples = store->samples("a", k_t0 - 24h);
    REQUIRE(samples.size() == 2);
    CHECK(samples[0].at == cutoff);
    CHECK(store->last_success("a") == cutoff + 1h);
    const auto left = store->notifications();
    REQUIRE(left.size() == 2);
    CHECK(left[0].notifier == "old-pending");  // a pending notification is never pruned
    CHECK(left[1].notifier == "new-delivered");
    CHECK(store->alerts("a").size() == 1);  // alert state is not history
    const auto replicas = store->replicas(cutoff);
    REQUIRE(replicas.size() == 1);
    CHECK(replicas[0].id == "here");
    CHECK(store->prune(cutoff, k_t0 - 24h) == 0);
  }

  TEST_CASE_TEMPLATE("store conformance: a refused write throws, is counted once and is reported until one succeeds",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    store->add_probe(ok_probe_row("a", k_t0));
    backend.refuse_writes();
    CHECK_THROWS_AS(store->add_probe(ok_probe_row("a", k_t0 + 1s)), DatabaseError);
    REQUIRE(store->write_error().has_value());
    CHECK(store->write_error()->find("refuse") != std::string::npos);
    CHECK(store->write_failures() == 1);
    CHECK_FALSE(store->writable());
    CHECK(store->latest_probe("a")->at == k_t0);  // reads go on

    SUBCASE("each failed call counts once, however the calls were grouped") {
      constexpr int k_threads = 16;
      constexpr int k_calls = 10;
      std::atomic<int> thrown{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < k_calls; ++i) {
            try {
              store->add_probe(ok_probe_row("t" + std::to_string(t), k_t0 + i * 1s));
            } catch (const DatabaseError&) {
              ++thrown;
            }
          }
        });
      }
      for (auto& thread : threads) thread.join();
      CHECK(thrown == k_threads * k_calls);
      CHECK(store->write_failures() == 1 + k_threads * k_calls);
    }
    backend.allow_writes();
    CHECK(store->writable());
    store->add_probe(ok_probe_row("a", k_t0 + 2s));
    CHECK_FALSE(store->write_error().has_value());
    CHECK(store->latest_probe("a")->at == k_t0 + 2s);
    CHECK(store->write_failures() >= 1);  // a count since opening: it never goes down
  }

  TEST_CASE_TEMPLATE("store conformance: probe writes from many threads are all committed", Backend, SqliteBackend,
                     PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    constexpr int k_threads = 16;
    constexpr int k_writes = 200;
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&, t] {
        const std::string account = "acct-" + std::to_string(t);
        for (int i = 0; i < k_writes; ++i) {
          const auto at = k_t0 + i * 1s;
          try {
            if (i % 10 == 9) {
              store->add_probe(failed_probe_row(account, at));
            } else {
              // A new balance every time: each reading is a run of its own.
              const std::string usd = std::to_string(1000 - i);
              const std::string cny = std::to_string(7000 - i);
              store->add_samples({sample_row(account, at, usd.c_str(), "USD"), sample_row(account, at, cny.c_str(), "CNY")},
                                 ok_probe_row(account, at));
            }
          } catch (const std::exception&) {
            ++failed;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failed == 0);
    for (int t = 0; t < k_threads; ++t) {
      const std::string account = "acct-" + std::to_string(t);
      CAPTURE(account);
      const auto rows = store->samples(account, k_t0);
      CHECK(rows.size() == 2 * (k_writes - k_writes / 10));
      CHECK(rows.back().at == k_t0 + (k_writes - 2) * 1s);
      CHECK(store->last_success(account) == k_t0 + (k_writes - 2) * 1s);
      CHECK(store->latest_probe(account)->at == k_t0 + (k_writes - 1) * 1s);
    }
    const auto stats = store->write_stats();
    CHECK(stats.writes == k_threads * k_writes);
    CHECK(stats.waiting == 0);
    CHECK(stats.transactions >= 1);
    CHECK(stats.transactions <= stats.writes);
    CHECK(store->write_failures() == 0);
  }

  TEST_CASE_TEMPLATE("store conformance: an unchanged reading extends its run, a change starts the next", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    for (int minute = 0; minute <= 2; ++minute) {
      const auto at = k_t0 + minute * 1min;
      store->add_samples({sample_row("a", at, "10")}, ok_probe_row("a", at));
    }
    auto runs = store->samples("a", k_t0);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].at == k_t0);
    CHECK(runs[0].seen_until == k_t0 + 2min);
    CHECK(store->latest_sample("a")->seen_until == k_t0 + 2min);
    // The run holding at `since` is included, though it started before it.
    REQUIRE(store->samples("a", k_t0 + 1min).size() == 1);
    CHECK(store->samples("a", k_t0 + 2min + 1ms).empty());

    store->add_samples({sample_row("a", k_t0 + 3min, "9.5")}, ok_probe_row("a", k_t0 + 3min));
    runs = store->samples("a", k_t0);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].seen_until == k_t0 + 2min);
    CHECK(runs[1].at == k_t0 + 3min);
    CHECK(runs[1].seen_until == k_t0 + 3min);  // a single reading
    CHECK(runs[1].balance == *Decimal::parse("9.5"));
    // A changed spend counter or changed details are a change too.
    auto with_spend = sample_row("a", k_t0 + 4min, "9.5");
    with_spend.spend_total = Decimal::from_micros(1);
    store->add_samples({with_spend}, ok_probe_row("a", k_t0 + 4min));
    auto with_details = with_spend;
    with_details.at = k_t0 + 5min;
    with_details.details_json = R"({"granted":"1.00"})";
    store->add_samples({with_details}, ok_probe_row("a", k_t0 + 5min));
    CHECK(store->samples("a", k_t0).size() == 4);
    CHECK(store->probe_counts("a").ok == 6);
  }

  TEST_CASE_TEMPLATE("store conformance: a run is cut at k_longest_run", Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    static_assert(creditwatch::storage::k_longest_run == 90min);
    for (int minute = 0; minute <= 200; minute += 10) {
      const auto at = k_t0 + minute * 1min;
      store->add_samples({sample_row("a", at, "10")}, ok_probe_row("a", at));
    }
    const auto runs = store->samples("a", k_t0);
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].at == k_t0);
    CHECK(runs[0].seen_until == k_t0 + 80min);
    CHECK(runs[1].at == k_t0 + 90min);
    CHECK(runs[1].seen_until == k_t0 + 170min);
    CHECK(runs[2].at == k_t0 + 180min);
    CHECK(runs[2].seen_until == k_t0 + 200min);
    // Only a change of details in between: the cut stays 90 min after where the balance
    // started to hold (where the forecaster's ledger keeps its anchor), not after the new run.
    auto changed = sample_row("a", k_t0 + 210min, "10");
    changed.details_json = R"({"note":"x"})";
    store->add_samples({changed}, ok_probe_row("a", k_t0 + 210min));
    changed.at = k_t0 + 270min;
    store->add_samples({changed}, ok_probe_row("a", k_t0 + 270min));
    const auto later = store->samples("a", k_t0 + 200min);
    REQUIRE(later.size() == 3);
    CHECK(later[0].at == k_t0 + 180min);
    CHECK(later[1].at == k_t0 + 210min);
    CHECK(later[2].at == k_t0 + 270min);  // 180 + 90
  }

  TEST_CASE_TEMPLATE("store conformance: unchanged details are stored once and read back on every run", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const std::string first = R"({"granted":"10.00","topped_up":"100.00"})";
    const std::string second = R"({"granted":"0.00","topped_up":"100.00"})";
    {
      const auto store = backend.open();
      // A falling balance every 10 minutes for three hours; the details change once.
      for (int minute = 0; minute < 180; minute += 10) {
        auto row = sample_row("a", k_t0 + minute * 1min, std::to_string(100 - minute / 10).c_str());
        row.details_json = minute < 100 ? first : second;
        store->add_samples({row}, ok_probe_row("a", row.at));
      }
    }
    const auto store = backend.open();  // a new store object: nothing cached
    const auto all = store->samples("a", k_t0);
    REQUIRE(all.size() == 18);
    for (const auto& run : all) CHECK(run.details_json == (run.at < k_t0 + 100min ? first : second));
    for (const int since : {5, 35, 65, 95, 125, 155, 170}) {
      CAPTURE(since);
      const auto part = store->samples("a", k_t0 + since * 1min);
      REQUIRE_FALSE(part.empty());
      for (const auto& run : part) CHECK(run.details_json == (run.at < k_t0 + 100min ? first : second));
      const auto newest = store->samples("a", k_t0, "", 2);
      REQUIRE(newest.size() == 2);
      CHECK(newest[0].details_json == second);
    }
    CHECK(store->latest_sample("a")->details_json == second);
    {
      // DeepSeek: the topped-up figure changes with every balance, the rest of the text not.
      for (int minute = 0; minute < 180; minute += 7) {
        const auto balance = Decimal::from_micros(110'000'000 - minute * 10'000);
        auto row = sample_row("ds", k_t0 + minute * 1min, balance.to_string().c_str());
        row.details_json = R"({"granted":"10.00","topped_up":")" + (balance - *Decimal::parse("10")).to_string() + R"("})";
        store->add_samples({row}, ok_probe_row("ds", row.at));
      }
      auto expected = [](const SampleRow& run) {
        return R"({"granted":"10.00","topped_up":")" + (run.balance - *Decimal::parse("10")).to_string() + R"("})";
      };
      for (const int since : {0, 8, 50, 64, 100, 170}) {
        CAPTURE(since);
        const auto part = backend.open()->samples("ds", k_t0 + since * 1min);
        REQUIRE_FALSE(part.empty());
        for (const auto& run : part) CHECK(run.details_json == expected(run));
      }
      store->prune(k_t0 + 100min, k_t0);
      const auto kept = store->samples("ds", k_t0);
      REQUIRE_FALSE(kept.empty());
      for (const auto& run : kept) CHECK(run.details_json == expected(run));
    }
    // Pruning the older runs leaves the first one kept with its details.
    store->prune(k_t0 + 125min, k_t0);
    const auto kept = store->samples("a", k_t0);
    REQUIRE(kept.size() == 5);
    CHECK(kept[0].at == k_t0 + 130min);
    for (const auto& run : kept) CHECK(run.details_json == second);
  }

  TEST_CASE_TEMPLATE("store conformance: a reading from another writer never makes runs overlap", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto daemon = backend.open();
    const auto check = backend.open();  // `creditwatch check` beside the daemon: a second store object
    const std::string details = R"({"granted":"1.00"})";
    auto reading = [&](Store& store, std::chrono::seconds offset, const char* balance, const std::string& d) {
      auto row = sample_row("a", k_t0 + offset, balance);
      row.details_json = d;
      store.add_samples({row}, ok_probe_row("a", row.at));
    };
    reading(*daemon, 0s, "10", details);
    reading(*check, 30s, "10", details);  // between two probes, the same figures: the run goes on
    reading(*daemon, 60s, "10", details);
    auto runs = daemon->samples("a", k_t0);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].seen_until == k_t0 + 60s);
    reading(*check, 90s, "9", details);
    const std::string later_details = R"({"granted":"0.80"})";  // only a figure changed: stored as a patch
    reading(*daemon, 120s, "8", later_details);
    // Committed late, read early: inside a run it is dropped, between two it is a run of its own.
    reading(*check, 45s, "7", details);
    reading(*check, 100s, "8.5", R"({"note":"late"})");
    runs = daemon->samples("a", k_t0);
    REQUIRE(runs.size() == 4);
    CHECK(runs[0].at == k_t0);
    CHECK(runs[1].at == k_t0 + 90s);
    CHECK(runs[2].at == k_t0 + 100s);
    CHECK(runs[2].balance == *Decimal::parse("8.5"));
    CHECK(runs[3].at == k_t0 + 120s);
    CHECK(runs[2].details_json == R"({"note":"late"})");
    CHECK(runs[3].details_json == later_details);  // still its own details, not patched from the late run's
    for (std::size_t i = 1; i < runs.size(); ++i) CHECK(runs[i - 1].seen_until < runs[i].at);
    reading(*daemon, 150s, "8", later_details);  // the head is where it was
    runs = check->samples("a", k_t0 + 120s);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].seen_until == k_t0 + 150s);
    CHECK(daemon->probe_counts("a").ok == 8);
  }

  TEST_CASE_TEMPLATE("store conformance: probe_counts counts successes and failures per account", Backend,
                     SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK(store->probe_counts("a").ok == 0);
    CHECK(store->probe_counts("a").failed == 0);
    store->add_samples({sample_row("a", k_t0, "10")}, ok_probe_row("a", k_t0));
    store->add_probe(failed_probe_row("a", k_t0 + 1min));
    store->add_probe(ok_probe_row("a", k_t0 + 2min));
    store->add_probe(failed_probe_row("b", k_t0));
    CHECK(store->probe_counts("a").ok == 2);
    CHECK(store->probe_counts("a").failed == 1);
    CHECK(store->probe_counts("b").ok == 0);
    CHECK(store->probe_counts("b").failed == 1);
    CHECK(store->latest_probe("a")->at == k_t0 + 2min);
    CHECK(store->latest_probe("a")->outcome == "ok");
    CHECK(store->latest_probe("b")->outcome == "timeout");
    CHECK_FALSE(store->last_success("b").has_value());
    // A success that arrives late does not move the latest success back.
    store->add_probe(ok_probe_row("a", k_t0 + 30s));
    CHECK(store->last_success("a") == k_t0 + 2min);
    CHECK(store->probe_counts("a").ok == 3);
  }

  TEST_CASE_TEMPLATE("store conformance: runs still being read at the cutoff do not stall pruning of other accounts",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    // Each account: an old run that ended long ago, then a run that began before the cutoff
    // and was still being read after it (kept). More accounts than one batch.
    const std::vector<std::string> accounts = {"a0", "a1", "a2", "a3", "a4"};
    for (const auto& account : accounts) {
      store->add_samples({sample_row(account, k_t0, "10")}, ok_probe_row(account, k_t0));
      store->add_samples({sample_row(account, k_t0 + 270min, "9")}, ok_probe_row(account, k_t0 + 270min));
      store->add_samples({sample_row(account, k_t0 + 330min, "9")}, ok_probe_row(account, k_t0 + 330min));
    }
    std::size_t removed = 0;
    for (int call = 0; call < 10; ++call) {
      const auto step = store->prune(k_t0 + 5h, k_t0 - 24h, 2);
      removed += step;
      if (step < 2) break;
    }
    CHECK(removed == accounts.size());
    for (const auto& account : accounts) {
      CAPTURE(account);
      const auto raw = store->samples(account, k_t0 - 1h);
      REQUIRE(raw.size() == 1);
      CHECK(raw[0].at == k_t0 + 270min);
      CHECK(raw[0].seen_until == k_t0 + 330min);
      CHECK(store->rollups(account, "USD", k_t0, k_t0 + 1h).size() == 1);
    }
  }

  TEST_CASE_TEMPLATE("store conformance: prune rolls runs up into hours in batches", Backend, SqliteBackend,
                     PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    const std::vector<std::pair<std::chrono::minutes, const char*>> readings = {
        {0min, "10"},      {10min, "9"},  {20min, "9"},       // hour 0: a drop, then the same again
        {30min, "12"},     {50min, "11"},                     // a deposit of 3, a drop
        {65min, "10.5"},   {70min, "10.5"}, {80min, "11.5"},  // hour 1
        {130min, "11"},                                       // hour 2
        {200min, "10"},                                       // hour 3: kept raw
    };
    for (const auto& [offset, balance] : readings) {
      store->add_samples({sample_row("a", k_t0 + offset, balance)}, ok_probe_row("a", k_t0 + offset));
    }
    store->add_samples({sample_row("b", k_t0, "1", "EUR")}, ok_probe_row("b", k_t0));
    const TimePoint raw_cutoff = k_t0 + 3h;
    // 8 runs ended before the cutoff ("a": 7, "b": 1), two at a time.
    std::vector<std::size_t> removed;
    for (int call = 0; call < 10; ++call) {
      removed.push_back(store->prune(raw_cutoff, k_t0 - 24h, 2));
      if (removed.back() < 2) break;
    }
    CHECK(removed == std::vector<std::size_t>{2, 2, 2, 2, 0});
    const auto hours = store->rollups("a", "USD", k_t0, k_t0 + 24h);
    REQUIRE(hours.size() == 3);
    CHECK(hours[0].account == "a");
    CHECK(hours[0].currency == "USD");
    CHECK(hours[0].hour == k_t0);
    CHECK(hours[0].open == *Decimal::parse("10"));
    CHECK(hours[0].close == *Decimal::parse("11"));
    CHECK(hours[0].low == *Decimal::parse("9"));
    CHECK(hours[0].spend == *Decimal::parse("2"));
    CHECK(hours[0].deposits == *Decimal::parse("3"));
    CHECK(hours[0].readings == 4);
    CHECK(hours[1].hour == k_t0 + 1h);
    CHECK(hours[1].open == *Decimal::parse("10.5"));
    CHECK(hours[1].close == *Decimal::parse("11.5"));
    CHECK(hours[1].low == *Decimal::parse("10.5"));
    CHECK(hours[1].spend == *Decimal::parse("0.5"));  // 11 -> 10.5 across the hour boundary
    CHECK(hours[1].deposits == *Decimal::parse("1"));
    CHECK(hours[1].readings == 2);
    CHECK(hours[2].hour == k_t0 + 2h);
    CHECK(hours[2].spend == *Decimal::parse("0.5"));
    CHECK(hours[2].readings == 1);
    CHECK(store->rollups("a", "USD", k_t0 + 1h, k_t0 + 2h).size() == 1);
    CHECK(store->rollups("b", "EUR", k_t0, k_t0 + 1h).size() == 1);
    CHECK(store->rollups("a", "EUR", k_t0, k_t0 + 24h).empty());
    CHECK(store->rollups("nobody", "USD", k_t0, k_t0 + 24h).empty());
    const auto raw = store->samples("a", k_t0);
    REQUIRE(raw.size() == 1);
    CHECK(raw[0].at == k_t0 + 200min);
    // The next reading after the kept one still compacts, and the rollups age out in turn.
    store->add_samples({sample_row("a", k_t0 + 210min, "10")}, ok_probe_row("a", k_t0 + 210min));
    CHECK(store->samples("a", k_t0).size() == 1);
    CHECK(store->prune(raw_cutoff, k_t0 + 2h) == 2 + 1);  // hours 0 and 1 of "a", hour 0 of "b"
    CHECK(store->rollups("a", "USD", k_t0, k_t0 + 24h).size() == 1);
    CHECK(store->prune(raw_cutoff, k_t0 + 2h) == 0);
  }

  TEST_CASE_TEMPLATE("store conformance: ledger snapshots round-trip and are replaced", Backend, SqliteBackend,
                     PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    CHECK_FALSE(store->ledger("a", "USD").has_value());
    constexpr char k_raw[] = "CWLG\x01\x00\xff\x80 binary\x00tail";
    const std::string bytes(k_raw, sizeof k_raw - 1);
    store->save_ledger("a", "USD", {k_t0, bytes});
    auto saved = store->ledger("a", "USD");
    REQUIRE(saved.has_value());
    CHECK(saved->at == k_t0);
    CHECK(saved->state == bytes);
    CHECK_FALSE(store->ledger("a", "EUR").has_value());
    CHECK_FALSE(store->ledger("b", "USD").has_value());
    store->save_ledger("a", "USD", {k_t0 + 1h, "newer"});
    saved = backend.open()->ledger("a", "USD");
    REQUIRE(saved.has_value());
    CHECK(saved->at == k_t0 + 1h);
    CHECK(saved->state == "newer");
    // A replica that lost the account saving its older copy late does not replace it.
    store->save_ledger("a", "USD", {k_t0 + 30min, "older"});
    saved = store->ledger("a", "USD");
    REQUIRE(saved.has_value());
    CHECK(saved->state == "newer");
  }
  TEST_CASE_TEMPLATE("store conformance: saved_ledgers gives each snapshot with the runs ledger and samples give",
                     Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    if (backend.skipped()) return;
    const auto store = backend.open();
    const auto add = [&](const std::string& account, TimePoint at, const char* balance, const std::string& currency,
                         std::optional<const char*> spend = std::nullopt) {
      auto row = sample_row(account, at, balance, currency);
      if (spend) row.spend_total = *Decimal::parse(*spend);
      store->add_samples({row}, ok_probe_row(account, at));
    };
    // "a": a run holding across its snapshot (read from k_t0 to k_t0 + 30min, the snapshot at
    // k_t0 + 25min), then changes; with a spend counter.
    for (int i = 0; i < 6; ++i) add("a", k_t0 + i * 10min, i < 4 ? "90" : "80", "USD", "5");
    add("a", k_t0 + 1h + 5min, "70", "USD", "7");
    add("a", k_t0 + 1h + 15min, "60", "USD", "8");
    store->save_ledger("a", "USD", {k_t0 + 25min, std::string("A-USD\0bytes", 11)});
    // "b": readings but no snapshot.
    for (int i = 0; i < 3; ++i) add("b", k_t0 + i * 10min, "50", "USD");
    // "c": two currencies, each with a snapshot; USD has no run after its snapshot.
    add("c", k_t0, "10", "USD");
    add("c", k_t0, "20", "EUR");
    add("c", k_t0 + 50min, "19", "EUR");
    store->save_ledger("c", "USD", {k_t0 + 30min, "C-USD"});
    store->save_ledger("c", "EUR", {k_t0 + 30min, "C-EUR"});
    // "d": a snapshot older than `since`.
    add("d", k_t0 + 2h, "5", "USD");
    store->save_ledger("d", "USD", {k_t0 - 1h, "D-USD"});
    // "e": not asked for.
    add("e", k_t0 + 2h, "5", "USD");
    store->save_ledger("e", "USD", {k_t0 + 1h, "E-USD"});

    const std::vector<std::string> asked{"d", "a", "unknown", "b", "c"};
    for (const std::size_t batch : {std::size_t{1}, std::size_t{2}, Store::k_ledger_batch}) {
      CAPTURE(batch);
      std::vector<std::string> got;
      store->saved_ledgers(
          asked, k_t0,
          [&](creditwatch::storage::SavedLedger& saved) {
            got.push_back(saved.account + "/" + saved.currency);
            // What the per-account path reads: ledger() and samples() after the snapshot.
            const auto single = store->ledger(saved.account, saved.currency);
            INFO(saved.account << "/" << saved.currency);
            REQUIRE(single.has_value());
            CHECK(saved.snapshot.at == single->at);
            CHECK(saved.snapshot.state == single->state);
            const auto runs = store->samples(saved.account, single->at, saved.currency);
            REQUIRE(saved.runs.size() == runs.size());
            for (std::size_t i = 0; i < runs.size(); ++i) {
              CHECK(saved.runs[i].account == saved.account);
              CHECK(saved.runs[i].currency == saved.currency);
              CHECK(saved.runs[i].at == runs[i].at);
              CHECK(saved.runs[i].seen_until == runs[i].seen_until);
              CHECK(saved.runs[i].balance == runs[i].balance);
              CHECK(saved.runs[i].spend_total == runs[i].spend_total);
            }
            return true;
          },
          batch);
      // An account's ledgers come one after the other; which account first is not promised.
      std::vector<std::string> order = got;
      std::sort(got.begin(), got.end());
      CHECK(got == std::vector<std::string>{"a/USD", "c/EUR", "c/USD"});
      const bool adjacent = order[0][0] == order[1][0] || order[1][0] == order[2][0];
      CHECK(adjacent);
    }
    // The runs themselves, not only their agreement with samples(): "a" from the one holding
    // across its snapshot on; "c"/USD none.
    std::map<std::string, std::vector<std::string>> runs;
    store->saved_ledgers(asked, k_t0, [&](creditwatch::storage::SavedLedger& saved) {
      auto& out = runs[saved.account + "/" + saved.currency];
      for (const auto& r : saved.runs) {
        out.push_back(std::to_string(std::chrono::duration_cast<std::chrono::minutes>(r.at - k_t0).count()) + "-" +
                      std::to_string(std::chrono::duration_cast<std::chrono::minutes>(r.seen_until - k_t0).count()) +
                      " " + r.balance.to_string() + (r.spend_total ? " " + r.spend_total->to_string() : ""));
      }
      return true;
    });
    CHECK(runs["a/USD"] == std::vector<std::string>{"0-30 90.00 5.00", "40-50 80.00 5.00", "65-65 70.00 7.00",
                                                    "75-75 60.00 8.00"});
    CHECK(runs["c/USD"].empty());
    CHECK(runs["c/EUR"] == std::vector<std::string>{"50-50 19.00"});

    // `each` returning false stops it.
    int calls = 0;
    store->saved_ledgers(asked, k_t0, [&](creditwatch::storage::SavedLedger&) { return ++calls < 1; }, 1);
    CHECK(calls == 1);
    // Nothing asked, nothing known: nothing handed over.
    store->saved_ledgers({}, k_t0, [&](creditwatch::storage::SavedLedger&) { return ++calls > 0; });
    store->saved_ledgers({"unknown", "b"}, k_t0, [&](creditwatch::storage::SavedLedger&) { return ++calls > 0; });
    CHECK(calls == 1);
  }
}
