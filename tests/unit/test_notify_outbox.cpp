#include "creditwatch/common/text.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include "creditwatch/storage/sqlite/database.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/notify_fixtures.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using creditwatch::Duration;
using creditwatch::TimePoint;
using creditwatch::http::CurlClient;
using creditwatch::notify::DeliveryResult;
using creditwatch::notify::Notification;
using creditwatch::notify::Notifier;
using creditwatch::notify::Outbox;
using creditwatch::notify::RetryPolicy;
using creditwatch::storage::AlertRow;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using creditwatch::storage::SqliteStore;
using creditwatch::storage::Store;
using creditwatch::testing::FakeClock;
using creditwatch::testing::TempDir;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using namespace std::chrono_literals;

namespace {

// A sink that answers from a script (then with its default), and records what it was sent.
class ScriptedNotifier final : public Notifier {
public:
  explicit ScriptedNotifier(Duration min_interval = Duration(0),
                            DeliveryResult fallback = {Outcome::delivered, "ok", 200, std::nullopt})
      : m_min_interval(min_interval), m_fallback(std::move(fallback)) {}

  void then(DeliveryResult result) {
    std::lock_guard lock(m_mutex);
    m_script.push_back(std::move(result));
  }

  DeliveryResult deliver(const Notification& n, creditwatch::http::Client&) override {
    std::lock_guard lock(m_mutex);
    m_sent.push_back(n.dedup_key);
    if (m_script.empty()) return m_fallback;
    auto result = m_script.front();
    m_script.pop_front();
    return result;
  }

  Duration min_interval() const override { return m_min_interval; }

  std::vector<std::string> sent() const {
    std::lock_guard lock(m_mutex);
    return m_sent;
  }

private:
  Duration m_min_interval;
  DeliveryResult m_fallback;
  mutable std::mutex m_mutex;
  std::deque<DeliveryResult> m_script;
  std::vector<std::string> m_sent;
};

DeliveryResult retry(const std::string& message = "HTTP 503: busy", std::optional<Duration> after = std::nullopt) {
  return {Outcome::retry, message, 503, after};
}

// Queues one notification per notifier the way the alert engine does: with the alert state,
// in one transaction.
void enqueue(Store& store, TimePoint now, const std::string& account, const std::vector<std::string>& notifiers) {
  Notification n;
  n.dedup_key = "creditwatch-" + account + "-runway";
  n.at = now;
  n.account = account;
  n.provider = "simulated";
  n.rule = creditwatch::alerts::Rule::runway;
  n.severity = creditwatch::alerts::Severity::critical;
  n.summary = "runway 2 days";
  const std::string payload = creditwatch::notify::to_json(n).dump();
  std::vector<OutboxRow> rows;
  for (const auto& notifier : notifiers) {
    rows.push_back(OutboxRow{0, now, notifier, n.dedup_key, payload, 0, now, OutboxState::pending, "", "", {}});
  }
  store.save_alert(AlertRow{account, "runway", "firing", "critical", now, now, "{}"}, rows);
}

std::vector<OutboxRow> rows_of(Store& store, const std::string& notifier) {
  std::vector<OutboxRow> out;
  for (auto& row : store.notifications()) {
    if (row.notifier == notifier) out.push_back(row);
  }
  return out;
}

OutboxRow only_row(Store& store) {
  auto rows = store.notifications();
  REQUIRE(rows.size() == 1);
  return rows.front();
}

struct Fixture {
  TempDir dir;
  FakeClock clock;
  SqliteStore store{dir.file("creditwatch.db")};
  CurlClient client;  // the scripted sink never uses it
};

}  // namespace

TEST_SUITE("notify.outbox") {
  TEST_CASE("a delivered notification is marked delivered") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{});
    ScriptedNotifier sink;
    enqueue(f.store, f.clock.now(), "acct", {"slack"});

    CHECK_FALSE(outbox.deliver_due("slack", sink, f.client));  // nothing left pending
    CHECK(sink.sent() == std::vector<std::string>{"creditwatch-acct-runway"});
    auto row = only_row(f.store);
    CHECK(row.state == OutboxState::delivered);
    CHECK(row.attempts == 1);
    CHECK(row.last_error.empty());

    SUBCASE("and never sent again") {
      f.clock.advance(1h);
      outbox.deliver_due("slack", sink, f.client);
      CHECK(sink.sent().size() == 1);
    }
    SUBCASE("another notifier's rows are left alone") {
      enqueue(f.store, f.clock.now(), "other", {"pagerduty"});
      outbox.deliver_due("slack", sink, f.client);
      CHECK(sink.sent().size() == 1);
      CHECK(rows_of(f.store, "pagerduty").front().state == OutboxState::pending);
    }
  }

  TEST_CASE("retries back off exponentially from retry_initial with jitter, up to retry_max") {
    Fixture f;
    const RetryPolicy policy{2s, 1min, 24h, 0.2};
    Outbox outbox(f.store, f.clock, policy);
    ScriptedNotifier sink(Duration(0), retry());
    enqueue(f.store, f.clock.now(), "acct", {"slack"});

    std::vector<double> ratios;
    Duration base = policy.initial;
    for (int attempt = 1; attempt <= 12; ++attempt) {
      const TimePoint now = f.clock.now();
      auto next = outbox.deliver_due("slack", sink, f.client);
      auto row = only_row(f.store);
      REQUIRE(row.state == OutboxState::pending);
      CHECK(row.attempts == attempt);
      CHECK(row.last_error == "HTTP 503: busy");
      REQUIRE(next);
      CHECK(*next == row.next_attempt);  // tells the worker when to come back
      const auto delay = row.next_attempt - now;
      INFO("attempt " << attempt << ", base " << base.count() << " ms");
      CHECK(delay >= base * 0.8 - 1ms);
      CHECK(delay <= base * 1.2);
      ratios.push_back(std::chrono::duration<double>(delay) / std::chrono::duration<double>(base));

      // Not retried before its time.
      f.clock.set(row.next_attempt - 1ms);
      CHECK(outbox.deliver_due("slack", sink, f.client) == row.next_attempt);
      CHECK(sink.sent().size() == static_cast<std::size_t>(attempt));
      f.clock.set(row.next_attempt);
      base = std::min<Duration>(base * 2, policy.max);
    }
    // The jitter is real: the delays are not all exactly the nominal ones.
    CHECK(std::count(ratios.begin(), ratios.end(), 1.0) < 3);
    CHECK(*std::min_element(ratios.begin(), ratios.end()) >= 0.8 - 1e-3);
    CHECK(*std::max_element(ratios.begin(), ratios.end()) <= 1.2);
    CHECK(outbox.counts()["slack"].retried == 12);
    CHECK(outbox.counts()["slack"].delivered == 0);
  }

  TEST_CASE("Retry-After from the sink is honoured") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
    ScriptedNotifier sink;
    enqueue(f.store, f.clock.now(), "acct", {"slack"});
    const TimePoint now = f.clock.now();

    SUBCASE("longer than our backoff") {
      sink.then(retry("HTTP 429: rate_limited", 30s));
      outbox.deliver_due("slack", sink, f.client);
      auto row = only_row(f.store);
      CHECK(row.next_attempt >= now + 30s);
      CHECK(row.next_attempt <= now + 36s);
      f.clock.set(now + 29s);
      outbox.deliver_due("slack", sink, f.client);
      CHECK(sink.sent().size() == 1);
      f.clock.set(row.next_attempt);
      outbox.deliver_due("slack", sink, f.client);
      CHECK(sink.sent().size() == 2);
      CHECK(only_row(f.store).state == OutboxState::delivered);
    }
    SUBCASE("shorter than our backoff: the backoff still applies") {
      sink.then(retry("HTTP 429", 1ms));
      outbox.deliver_due("slack", sink, f.client);
      CHECK(only_row(f.store).next_attempt >= now + 800ms);
    }
  }

  TEST_CASE("a permanent rejection is a dead letter with the sink's message") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{});
    ScriptedNotifier sink;
    sink.then({Outcome::permanent, "HTTP 400: invalid_payload", 400, std::nullopt});
    enqueue(f.store, f.clock.now(), "acct", {"slack"});

    CHECK_FALSE(outbox.deliver_due("slack", sink, f.client));
    auto row = only_row(f.store);
    CHECK(row.state == OutboxState::dead);
    CHECK(row.last_error == "HTTP 400: invalid_payload");
    CHECK(outbox.counts()["slack"].dead == 1);
    f.clock.advance(1h);
    outbox.deliver_due("slack", sink, f.client);
    CHECK(sink.sent().size() == 1);  // never retried
  }

  TEST_CASE("a stored payload that is not JSON is dead, not retried forever") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{});
    ScriptedNotifier sink;
    const TimePoint now = f.clock.now();
    f.store.save_alert(AlertRow{"acct", "runway", "firing", "critical", now, now, "{}"},
                       {OutboxRow{0, now, "slack", "k", "{not json", 0, now, OutboxState::pending, "", "", {}}});
    outbox.deliver_due("slack", sink, f.client);
    CHECK(sink.sent().empty());
    CHECK(only_row(f.store).state == OutboxState::dead);
  }

  TEST_CASE("retrying past dead_after makes it dead") {
    Fixture f;
    const RetryPolicy policy{1min, 10min, 1h, 0.2};
    Outbox outbox(f.store, f.clock, policy);
    ScriptedNotifier sink(Duration(0), retry("connect: refused"));
    const TimePoint created = f.clock.now();
    enqueue(f.store, created, "acct", {"slack"});

    int attempts = 0;
    while (only_row(f.store).state == OutboxState::pending && attempts < 100) {
      const TimePoint now = f.clock.now();
      outbox.deliver_due("slack", sink, f.client);
      ++attempts;
      auto row = only_row(f.store);
      if (row.state == OutboxState::pending) {
        CHECK(now - created < policy.dead_after);
        f.clock.set(row.next_attempt);
      } else {
        CHECK(now - created >= policy.dead_after);
      }
    }
    auto row = only_row(f.store);
    CHECK(row.state == OutboxState::dead);
    CHECK(row.attempts == attempts);
    CHECK(row.last_error.find("connect: refused") != std::string::npos);
    CHECK(row.last_error.find("gave up") != std::string::npos);
    CHECK(outbox.counts()["slack"].dead == 1);
    CHECK(outbox.counts()["slack"].retried == static_cast<std::uint64_t>(attempts - 1));
  }

  TEST_CASE("min_interval allows one delivery per call and says when the next is allowed") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{});
    ScriptedNotifier sink(1s);
    for (const auto* account : {"a", "b", "c"}) enqueue(f.store, f.clock.now(), account, {"slack"});
    const TimePoint t0 = f.clock.now();

    CHECK(outbox.deliver_due("slack", sink, f.client) == t0 + 1s);
    CHECK(sink.sent().size() == 1);
    CHECK(outbox.deliver_due("slack", sink, f.client) == t0 + 1s);
    f.clock.advance(999ms);
    CHECK(outbox.deliver_due("slack", sink, f.client) == t0 + 1s);
    CHECK(sink.sent().size() == 1);

    f.clock.advance(1ms);
    CHECK(outbox.deliver_due("slack", sink, f.client) == t0 + 2s);
    f.clock.advance(1s);
    outbox.deliver_due("slack", sink, f.client);
    CHECK(sink.sent() ==
          std::vector<std::string>{"creditwatch-a-runway", "creditwatch-b-runway", "creditwatch-c-runway"});
    f.clock.advance(1s);
    CHECK_FALSE(outbox.deliver_due("slack", sink, f.client));  // all delivered, nothing pending

    SUBCASE("the gap is per notifier") {
      ScriptedNotifier other(1s);
      enqueue(f.store, f.clock.now(), "d", {"slack", "discord"});
      outbox.deliver_due("slack", sink, f.client);
      outbox.deliver_due("discord", other, f.client);
      CHECK(other.sent().size() == 1);
      CHECK(sink.sent().size() == 4);
    }
  }

  TEST_CASE("a sink that asks for a pause after a success gets it before its next message") {
    // Discord answers a success with X-RateLimit-Remaining: 0 and the reset time.
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{});
    ScriptedNotifier sink;
    sink.then({Outcome::delivered, "HTTP 200", 200, 1500ms});
    for (const auto* account : {"a", "b"}) enqueue(f.store, f.clock.now(), account, {"discord"});
    const TimePoint t0 = f.clock.now();

    CHECK(outbox.deliver_due("discord", sink, f.client) == t0 + 1500ms);
    CHECK(sink.sent().size() == 1);
    f.clock.advance(1499ms);
    CHECK(outbox.deliver_due("discord", sink, f.client) == t0 + 1500ms);
    CHECK(sink.sent().size() == 1);
    f.clock.advance(1ms);
    CHECK_FALSE(outbox.deliver_due("discord", sink, f.client));  // b delivered, nothing left
    CHECK(sink.sent().size() == 2);
    for (const auto& row : rows_of(f.store, "discord")) CHECK(row.state == OutboxState::delivered);
  }

  TEST_CASE("after a restart the outbox delivers what was pending and nothing twice") {
    TempDir dir;
    FakeClock clock;
    CurlClient client;
    const std::string path = dir.file("creditwatch.db");
    {
      SqliteStore store(path);
      Outbox outbox(store, clock, RetryPolicy{});
      ScriptedNotifier slack(1s);
      ScriptedNotifier mail(Duration(0), retry("smtp: connect refused"));
      enqueue(store, clock.now(), "a", {"slack", "mail"});
      enqueue(store, clock.now(), "b", {"slack"});
      outbox.deliver_due("slack", slack, client);  // a only: min_interval
      outbox.deliver_due("mail", mail, client);    // fails, will retry
      CHECK(slack.sent() == std::vector<std::string>{"creditwatch-a-runway"});
      CHECK(mail.sent().size() == 1);
    }  // the daemon stops here

    clock.advance(10min);
    SqliteStore store(path);
    Outbox outbox(store, clock, RetryPolicy{});
    ScriptedNotifier slack(1s);
    ScriptedNotifier mail;
    outbox.deliver_due("slack", slack, client);
    outbox.deliver_due("mail", mail, client);
    CHECK(slack.sent() == std::vector<std::string>{"creditwatch-b-runway"});
    CHECK(mail.sent() == std::vector<std::string>{"creditwatch-a-runway"});
    for (const auto& row : store.notifications()) CHECK(row.state == OutboxState::delivered);
    CHECK(rows_of(store, "mail").front().attempts == 2);

    clock.advance(10min);
    outbox.deliver_due("slack", slack, client);
    outbox.deliver_due("mail", mail, client);
    CHECK(slack.sent().size() == 1);
    CHECK(mail.sent().size() == 1);
  }

  TEST_CASE("counts are kept per notifier") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{});
    ScriptedNotifier ok;
    ScriptedNotifier flaky;
    flaky.then(retry());
    flaky.then({Outcome::permanent, "HTTP 404", 404, std::nullopt});
    enqueue(f.store, f.clock.now(), "a", {"ok", "flaky"});
    enqueue(f.store, f.clock.now(), "b", {"ok", "flaky"});

    outbox.deliver_due("ok", ok, f.client);
    outbox.deliver_due("flaky", flaky, f.client);  // a: retry, b: dead
    auto counts = outbox.counts();
    CHECK(counts["ok"].delivered == 2);
    CHECK(counts["ok"].retried == 0);
    CHECK(counts["ok"].dead == 0);
    CHECK(counts["flaky"].delivered == 0);
    CHECK(counts["flaky"].retried == 1);
    CHECK(counts["flaky"].dead == 1);
    CHECK(counts.count("never-used") == 0);
  }

  TEST_CASE("the notifier threads deliver on wake and stop cleanly") {
    TempDir dir;
    creditwatch::SystemClock clock;
    SqliteStore store(dir.file("creditwatch.db"));
    Outbox outbox(store, clock, RetryPolicy{});
    auto sink = std::make_shared<ScriptedNotifier>();
    outbox.set_notifiers({{"rec", sink}}, RetryPolicy{});
    REQUIRE(outbox.counts().count("rec") == 1);  // exported at 0 before anything happens
    enqueue(store, clock.now(), "acct", {"rec"});
    outbox.wake();
    CHECK(creditwatch::testing::eventually([&] { return sink->sent().size() == 1; }, 5s));
    outbox.stop(1s);
    CHECK(rows_of(store, "rec").front().state == OutboxState::delivered);
    CHECK(outbox.counts()["rec"].delivered == 1);
  }
}

namespace {

// A sink whose health is a function of the (fake) time: answers `retry` while down, a
// success while up. It records each delivery it accepted, so a duplicate shows.
class OutageSink final : public Notifier {
public:
  OutageSink(const FakeClock& clock, std::function<bool(TimePoint)> up, DeliveryResult failure)
      : m_clock(clock), m_up(std::move(up)), m_failure(std::move(failure)) {}

  DeliveryResult deliver(const Notification& n, creditwatch::http::Client&) override {
    ++m_attempts;
    if (!m_up(m_clock.now())) return m_failure;
    m_accepted.push_back(n.dedup_key);
    return {Outcome::delivered, "ok", 200, std::nullopt};
  }

  int attempts() const { return m_attempts; }
  const std::vector<std::string>& accepted() const { return m_accepted; }

private:
  const FakeClock& m_clock;
  std::function<bool(TimePoint)> m_up;
  DeliveryResult m_failure;
  int m_attempts = 0;
  std::vector<std::string> m_accepted;
};

// Drives one notifier's deliveries the way its thread does, jumping the fake clock to
// each next due time, until nothing is pending or `until` is reached.
void drive(Outbox& outbox, const std::string& notifier, Notifier& sink, FakeClock& clock, CurlClient& client,
           TimePoint until) {
  while (clock.now() <= until) {
    const auto next = outbox.deliver_due(notifier, sink, client);
    if (!next) return;
    clock.set(std::max(*next, clock.now() + 1ms));
  }
}

}  // namespace

TEST_SUITE("notify.outbox.sink_faults") {
  TEST_CASE("a sink down for an hour loses nothing and delivers each notification once it is back") {
    Fixture f;
    const RetryPolicy policy{1s, 5min, 24h, 0.2};
    Outbox outbox(f.store, f.clock, policy);
    const TimePoint t0 = f.clock.now();
    const TimePoint back = t0 + 1h;
    OutageSink sink(
        f.clock, [&](TimePoint now) { return now >= back; }, retry("HTTP 503: upstream down"));

    // Alerts keep arriving during the outage.
    std::vector<std::string> expected;
    for (int i = 0; i < 6; ++i) {
      const std::string account = "acct" + std::to_string(i);
      enqueue(f.store, f.clock.now(), account, {"pagerduty"});
      expected.push_back("creditwatch-" + account + "-runway");
      drive(outbox, "pagerduty", sink, f.clock, f.client, t0 + (i + 1) * 10min - 1ms);
      f.clock.set(std::max(f.clock.now(), t0 + (i + 1) * 10min));
    }
    CHECK(sink.accepted().empty());
    for (const auto& row : rows_of(f.store, "pagerduty")) CHECK(row.state == OutboxState::pending);

    drive(outbox, "pagerduty", sink, f.clock, f.client, back + 10min);
    auto accepted = sink.accepted();
    std::sort(accepted.begin(), accepted.end());
    CHECK(accepted == expected);  // each exactly once
    for (const auto& row : rows_of(f.store, "pagerduty")) CHECK(row.state == OutboxState::delivered);
    // The backoff reached its 5 min ceiling: an hour down costs each row a bounded number
    // of attempts, not one per second, and the last one lands within retry_max of recovery.
    CHECK(sink.attempts() < 6 * 25);
    CHECK(f.clock.now() - back <= 5min + 5min / 5);
    CHECK(outbox.counts()["pagerduty"].delivered == 6);
    CHECK(outbox.counts()["pagerduty"].dead == 0);
  }

  TEST_CASE("a flapping sink delivers every notification exactly once") {
    Fixture f;
    const RetryPolicy policy{1s, 1min, 24h, 0.2};
    Outbox outbox(f.store, f.clock, policy);
    const TimePoint t0 = f.clock.now();
    // Up for 7 s, down for 13 s, over and over.
    OutageSink sink(
        f.clock, [&](TimePoint now) { return (now - t0) % 20s < 7s; }, retry("HTTP 502: bad gateway"));
    std::vector<std::string> expected;
    for (int i = 0; i < 20; ++i) {
      const std::string account = "flap" + std::to_string(i);
      enqueue(f.store, f.clock.now(), account, {"webhook"});
      expected.push_back("creditwatch-" + account + "-runway");
      const TimePoint next_alert = t0 + (i + 1) * 3s;
      drive(outbox, "webhook", sink, f.clock, f.client, next_alert - 1ms);
      f.clock.set(std::max(f.clock.now(), next_alert));
    }
    drive(outbox, "webhook", sink, f.clock, f.client, f.clock.now() + 1h);
    auto accepted = sink.accepted();
    std::sort(accepted.begin(), accepted.end());
    std::sort(expected.begin(), expected.end());
    CHECK(accepted == expected);
    CHECK(sink.attempts() > 20);  // it really did fail some of the time
    for (const auto& row : rows_of(f.store, "webhook")) CHECK(row.state == OutboxState::delivered);
  }

  TEST_CASE("429 answers are retried after Retry-After and a 400 dead letter stays in the database") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
    ScriptedNotifier sink;
    for (int i = 0; i < 3; ++i) sink.then({Outcome::retry, "HTTP 429: Too Many Requests", 429, 30s});
    sink.then({Outcome::permanent, "HTTP 400: invalid event: routing_key", 400, std::nullopt});
    enqueue(f.store, f.clock.now(), "limited", {"pagerduty"});
    enqueue(f.store, f.clock.now(), "broken", {"pagerduty"});
    const TimePoint t0 = f.clock.now();

    drive(outbox, "pagerduty", sink, f.clock, f.client, t0 + 1h);
    std::map<std::string, OutboxRow> by_key;
    for (const auto& row : rows_of(f.store, "pagerduty")) by_key[row.dedup_key] = row;
    REQUIRE(by_key.size() == 2);
    // The two 429s each pushed the next attempt 30 s out (not the 1 s backoff).
    CHECK(f.clock.now() - t0 >= 60s);
    const auto limited = by_key["creditwatch-limited-runway"];
    const auto broken = by_key["creditwatch-broken-runway"];
    CHECK(limited.state != OutboxState::pending);
    CHECK(broken.state != OutboxState::pending);
    // One of them took the 400 and is kept as a dead letter with the sink's answer.
    const auto& dead = limited.state == OutboxState::dead ? limited : broken;
    const auto& delivered = limited.state == OutboxState::dead ? broken : limited;
    CHECK(dead.state == OutboxState::dead);
    CHECK(dead.last_error.find("400") != std::string::npos);
    CHECK(dead.payload_json.find("runway") != std::string::npos);
    CHECK(delivered.state == OutboxState::delivered);
    CHECK(outbox.counts()["pagerduty"].dead == 1);
    CHECK(outbox.counts()["pagerduty"].delivered == 1);
  }
}

namespace {

// Queues `n` for `notifiers` as the alert engine does (the alert state and its rows in one
// transaction), at the notification's own time.
void enqueue_notification(Store& store, const Notification& n, const std::vector<std::string>& notifiers) {
  const std::string payload = creditwatch::notify::to_json(n).dump();
  std::vector<OutboxRow> rows;
  for (const auto& notifier : notifiers) {
    rows.push_back(OutboxRow{0, n.at, notifier, n.dedup_key, payload, 0, n.at, OutboxState::pending, "", "", {}});
  }
  const bool firing = n.event == creditwatch::alerts::Event::firing;
  store.save_alert(AlertRow{n.account, "runway", firing ? "firing" : "resolved", "critical", n.at, n.at, "{}"}, rows);
}

Notification firing_at(TimePoint at, const std::string& account = "deepseek-prod") {
  auto n = creditwatch::testing::critical_runway();
  n.account = account;
  n.dedup_key = "creditwatch-" + account + "-runway";
  n.at = at;
  return n;
}

Notification resolved_at(TimePoint at, const std::string& account = "deepseek-prod") {
  return creditwatch::testing::resolved(firing_at(at, account));
}

OutboxRow row_with_key(Store& store, const std::string& dedup_key) {
  for (auto& row : store.notifications()) {
    if (row.dedup_key == dedup_key) return row;
  }
  FAIL("no outbox row with dedup key " << dedup_key);
  return {};
}

// deliver_due as the notifier thread runs it: an exception that escapes is logged and the
// thread carries on (old outboxes let a bad row's exception escape every time).
std::optional<TimePoint> deliver_as_worker(Outbox& outbox, const std::string& notifier, Notifier& sink,
                                           CurlClient& client) {
  try {
    return outbox.deliver_due(notifier, sink, client);
  } catch (const std::exception& e) {
    MESSAGE("deliver_due threw: " << e.what());
    return std::nullopt;
  }
}

// A sink that throws (a bug, a JSON error on odd text) for one dedup key and accepts the rest.
class ThrowingNotifier final : public Notifier {
public:
  explicit ThrowingNotifier(std::string poisoned) : m_poisoned(std::move(poisoned)) {}
  DeliveryResult deliver(const Notification& n, creditwatch::http::Client&) override {
    ++m_attempts[n.dedup_key];
    // The text quotes the bad bytes, as a library's message may: half a character.
    if (n.dedup_key == m_poisoned) throw std::runtime_error("[json.exception.type_error.316] invalid UTF-8 byte \xE4\xB8!");
    return {Outcome::delivered, "ok", 200, std::nullopt};
  }
  int attempts(const std::string& key) { return m_attempts[key]; }

private:
  std::string m_poisoned;
  std::map<std::string, int> m_attempts;
};

}  // namespace

TEST_SUITE("notify.outbox.poison") {
  TEST_CASE("a stored notification that cannot be built is a dead letter and the rows behind it go out") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{});
    ScriptedNotifier sink;
    const TimePoint now = f.clock.now();
    // Valid JSON, but a status that is not a string: building the notification throws.
    f.store.save_alert(AlertRow{"bad", "runway", "firing", "critical", now, now, "{}"},
                       {OutboxRow{0, now, "slack", "creditwatch-bad-runway",
                                  R"({"dedup_key":"creditwatch-bad-runway","status":1})", 0, now,
                                  OutboxState::pending, "", "", {}}});
    enqueue(f.store, now, "good", {"slack"});
    enqueue_notification(f.store, resolved_at(now, "bad"), {"slack"});  // the same alert, behind it

    deliver_as_worker(outbox, "slack", sink, f.client);
    CHECK(sink.sent() == std::vector<std::string>{"creditwatch-good-runway", "creditwatch-bad-runway"});
    const auto rows = rows_of(f.store, "slack");
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].state == OutboxState::dead);
    CHECK(rows[0].last_error.find("not a notification") != std::string::npos);
    CHECK(rows[0].last_error.find("type_error") != std::string::npos);
    CHECK(rows[1].state == OutboxState::delivered);
    CHECK(rows[2].state == OutboxState::delivered);
    CHECK(outbox.counts()["slack"].dead == 1);
  }

  TEST_CASE("a sink that throws fails that attempt only: backoff, then a dead letter with the error") {
    Fixture f;
    const RetryPolicy policy{1s, 1min, 1h, 0.2};
    Outbox outbox(f.store, f.clock, policy);
    ThrowingNotifier sink("creditwatch-bad-runway");
    const TimePoint t0 = f.clock.now();
    enqueue(f.store, t0, "bad", {"slack"});
    enqueue(f.store, t0, "good", {"slack"});

    deliver_as_worker(outbox, "slack", sink, f.client);
    CHECK(sink.attempts("creditwatch-good-runway") == 1);
    CHECK(row_with_key(f.store, "creditwatch-good-runway").state == OutboxState::delivered);
    auto bad = row_with_key(f.store, "creditwatch-bad-runway");
    CHECK(bad.state == OutboxState::pending);
    CHECK(bad.attempts == 1);
    CHECK(bad.last_error.find("invalid UTF-8 byte") != std::string::npos);
    CHECK(creditwatch::valid_utf8(bad.last_error));  // the error text is stored as safe text
    CHECK(bad.next_attempt >= t0 + 800ms);  // backed off, not retried at once
    CHECK(sink.attempts("creditwatch-bad-runway") == 1);

    // A good notification queued later is not held up by the failing one either.
    f.clock.advance(100ms);
    enqueue(f.store, f.clock.now(), "later", {"slack"});
    deliver_as_worker(outbox, "slack", sink, f.client);
    CHECK(row_with_key(f.store, "creditwatch-later-runway").state == OutboxState::delivered);

    drive(outbox, "slack", sink, f.clock, f.client, t0 + 3h);
    bad = row_with_key(f.store, "creditwatch-bad-runway");
    CHECK(bad.state == OutboxState::dead);
    CHECK(bad.last_error.find("gave up") != std::string::npos);
    CHECK(bad.last_error.find("invalid UTF-8 byte") != std::string::npos);
    CHECK(sink.attempts("creditwatch-bad-runway") > 3);
    CHECK(sink.attempts("creditwatch-bad-runway") < 200);  // backed off all along
  }
}

TEST_SUITE("notify.outbox.order") {
  TEST_CASE("a resolve never overtakes its trigger while the trigger waits for a retry") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
    ScriptedNotifier sink(500ms);  // PagerDuty's gap, so the delivery times tell the order
    sink.then(retry("HTTP 429: Too Many Requests", 20s));
    const TimePoint t0 = f.clock.now();
    enqueue_notification(f.store, firing_at(t0), {"pd"});
    outbox.deliver_due("pd", sink, f.client);
    CHECK(sink.sent().size() == 1);

    f.clock.advance(5s);
    enqueue_notification(f.store, resolved_at(f.clock.now()), {"pd"});
    enqueue(f.store, f.clock.now(), "other", {"pd"});  // another alert: not held up by this one's order
    outbox.deliver_due("pd", sink, f.client);
    CHECK(sink.sent().size() == 1);  // the 429 paused the notifier

    f.clock.set(t0 + 19s);
    outbox.deliver_due("pd", sink, f.client);
    CHECK(sink.sent().size() == 1);
    drive(outbox, "pd", sink, f.clock, f.client, t0 + 2min);
    const auto sent = sink.sent();
    REQUIRE(sent.size() == 4);
    // The other alert may go before or after; the runway alert's trigger goes before its resolve.
    std::vector<OutboxRow> runway;
    for (const auto& row : rows_of(f.store, "pd")) {
      CHECK(row.state == OutboxState::delivered);
      if (row.dedup_key == "creditwatch-deepseek-prod-runway") runway.push_back(row);
    }
    REQUIRE(runway.size() == 2);
    CHECK(runway[0].payload_json.find(R"("status":"firing")") != std::string::npos);
    CHECK(runway[1].payload_json.find(R"("status":"resolved")") != std::string::npos);
    // Delivered in that order: the trigger's delivery time is not after the resolve's.
    auto delivered_at = [&](std::int64_t id) {
      creditwatch::storage::Database db(f.dir.file("creditwatch.db"));
      auto s = db.prepare("SELECT delivered_ms FROM outbox WHERE id = " + std::to_string(id));
      REQUIRE(s.step());
      return s.int64(0);
    };
    CHECK(delivered_at(runway[0].id) < delivered_at(runway[1].id));
    CHECK(delivered_at(runway[0].id) >= creditwatch::to_unix_ms(t0 + 20s));
  }

  TEST_CASE("a severity change never overtakes the start of its alert") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
    ScriptedNotifier sink;
    sink.then(retry("connect: refused"));  // no Retry-After: only this row backs off
    const TimePoint t0 = f.clock.now();
    auto start = firing_at(t0);
    start.severity = creditwatch::alerts::Severity::warning;
    enqueue_notification(f.store, start, {"mail"});
    outbox.deliver_due("mail", sink, f.client);
    auto change = firing_at(t0 + 100ms);
    change.reason = creditwatch::alerts::Reason::severity_changed;
    f.clock.advance(100ms);
    enqueue_notification(f.store, change, {"mail"});
    outbox.deliver_due("mail", sink, f.client);
    CHECK(sink.sent().size() == 1);
    drive(outbox, "mail", sink, f.clock, f.client, t0 + 1min);
    const auto rows = rows_of(f.store, "mail");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].payload_json.find(R"("severity":"warning")") != std::string::npos);
    CHECK(rows[0].attempts == 2);
    CHECK(rows[1].attempts == 1);
    for (const auto& row : rows) CHECK(row.state == OutboxState::delivered);
  }
}

namespace {

// What a receiver did with one request: the (fake) time, the answer and the body.
struct Received {
  TimePoint at;
  int status = 0;
  std::string path;
  nlohmann::json body;
};

// A loopback sink that answers the first `throttled` requests with `busy` (a 429 in the
// sink's documented shape) and every later one with `ok`, stamping each with the fake time.
class ThrottlingReceiver {
public:
  struct Answer {
    int status;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string content_type = "application/json";
  };

  ThrottlingReceiver(const FakeClock& clock, const std::string& pattern, Answer busy, Answer ok, int throttled = 1)
      : m_clock(clock), m_busy(std::move(busy)), m_ok(std::move(ok)), m_throttled(throttled) {
    m_server.post(pattern, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      const Answer& answer = static_cast<int>(m_received.size()) < m_throttled ? m_busy : m_ok;
      for (const auto& [name, value] : answer.headers) res.set_header(name, value);
      res.status = answer.status;
      res.set_content(answer.body, answer.content_type);
      m_received.push_back({m_clock.now(), answer.status, req.path, nlohmann::json::parse(req.body, nullptr, false)});
    });
    m_server.start();
  }

  std::string url() const { return m_server.url(); }
  std::vector<Received> received() const {
    std::lock_guard lock(m_mutex);
    return m_received;
  }
  std::vector<Received> accepted() const {
    std::vector<Received> out;
    for (const auto& r : received()) {
      if (r.status < 300) out.push_back(r);
    }
    return out;
  }

private:
  const FakeClock& m_clock;
  Answer m_busy;
  Answer m_ok;
  int m_throttled;
  mutable std::mutex m_mutex;
  std::vector<Received> m_received;
  creditwatch::testing::FakeHttpServer m_server;  // last: stops before the state its handler uses
};

using creditwatch::testing::build_notifier;
using creditwatch::testing::notifier_config;
using creditwatch::testing::scalar_setting;
using creditwatch::testing::secret_setting;

constexpr const char* k_routing_key = "e93facc04764012d7bfb002500d5d1a6";

// sinks.md 1.2: 202 with the success body; a 429 is "Too many API calls at a time".
ThrottlingReceiver::Answer pagerduty_throttled(int seconds) {
  return {429, R"({"status":"throttle event","message":"Requests for this service are arriving too quickly"})",
          {{"Retry-After", std::to_string(seconds)}}};
}
const ThrottlingReceiver::Answer k_pagerduty_ok{
    202, R"({"status":"success","message":"Event processed","dedup_key":"creditwatch-deepseek-prod-runway"})", {}};
// sinks.md 1.8: 202 "Request will be processed"; 429 on rate limiting.
const ThrottlingReceiver::Answer k_opsgenie_ok{
    202, R"({"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"})", {}};
// sinks.md 1.1: 200 "ok"; 429 with Retry-After and {"retry_after":1,"ok":false,"error":"rate_limited"}.
const ThrottlingReceiver::Answer k_slack_ok{200, "ok", {}, "text/plain"};

std::unique_ptr<Notifier> pagerduty_sink(const std::string& url) {
  return build_notifier(notifier_config(
      "pagerduty", {{"routing_key", secret_setting(k_routing_key, 21)}, {"url", scalar_setting(url + "/v2/enqueue", 22)}}));
}
std::unique_ptr<Notifier> opsgenie_sink(const std::string& url) {
  return build_notifier(notifier_config(
      "opsgenie", {{"api_key", secret_setting("eb243592-faa2-4ba2-a551q-1afdf565c889", 21)}, {"url", scalar_setting(url, 22)}}));
}
std::unique_ptr<Notifier> slack_sink(const std::string& url) {
  return build_notifier(
      notifier_config("slack", {{"webhook_url", secret_setting(url + "/services/T0001/B0002/XyZsEcReT", 21)}}));
}

// The alert's lifecycle as a receiver applied it: "trigger"/"resolve" for each accepted request.
using EventOf = std::function<std::string(const Received&)>;

std::vector<std::string> events(const std::vector<Received>& received, const EventOf& event_of) {
  std::vector<std::string> out;
  for (const auto& r : received) out.push_back(event_of(r));
  return out;
}

// PagerDuty (sinks.md 1.2): a trigger opens the incident; a resolve closes an open one and is
// dropped when none is open. Whether the incident is open at the end.
bool pagerduty_incident_open(const std::vector<std::string>& accepted) {
  bool open = false;
  for (const auto& e : accepted) open = e == "trigger" ? true : (e == "resolve" ? false : open);
  return open;
}

// The throttled-first-send scenario: the trigger meets a 429 with Retry-After 20 s, the
// account recovers 5 s later, and the outbox is driven until nothing is pending. The
// receiver must have accepted the trigger, then the resolve, after the 20 s.
void throttled_trigger_then_resolve(FakeClock& clock, const std::string& notifier, Notifier& sink,
                                    const ThrottlingReceiver& receiver, const EventOf& event_of) {
  TempDir dir;
  SqliteStore store(dir.file("creditwatch.db"));
  CurlClient client;
  Outbox outbox(store, clock, RetryPolicy{1s, 5min, 24h, 0.2});
  const TimePoint t0 = clock.now();
  enqueue_notification(store, firing_at(t0), {notifier});
  outbox.deliver_due(notifier, sink, client);
  REQUIRE(receiver.received().size() == 1);
  CHECK(receiver.received().front().status == 429);

  clock.advance(5s);  // the account is topped up
  enqueue_notification(store, resolved_at(clock.now()), {notifier});
  drive(outbox, notifier, sink, clock, client, t0 + 5min);

  INFO("received: " << nlohmann::json(events(receiver.received(), event_of)).dump());
  const auto accepted = receiver.accepted();
  CHECK(events(accepted, event_of) == std::vector<std::string>{"trigger", "resolve"});
  REQUIRE_FALSE(accepted.empty());
  CHECK(accepted.front().at >= t0 + 20s);  // Retry-After honoured
  for (const auto& row : store.notifications()) CHECK(row.state == OutboxState::delivered);
}

}  // namespace

TEST_SUITE("notify.outbox.order_at_sinks") {
  TEST_CASE("PagerDuty throttling the first trigger ends with the incident resolved") {
    FakeClock clock;
    ThrottlingReceiver pd(clock, "/v2/enqueue", pagerduty_throttled(20), k_pagerduty_ok);
    auto sink = pagerduty_sink(pd.url());
    const EventOf event_of = [](const Received& r) { return r.body.value("event_action", std::string("?")); };
    throttled_trigger_then_resolve(clock, "pd", *sink, pd, event_of);
    CHECK_FALSE(pagerduty_incident_open(events(pd.accepted(), event_of)));
  }

  TEST_CASE("Opsgenie throttling the first create ends with the alert closed") {
    FakeClock clock;
    ThrottlingReceiver opsgenie(
        clock, "/v2/alerts.*",
        {429, R"({"message":"Rate limit exceeded","took":0.001,"requestId":"r-1"})", {{"Retry-After", "20"}}},
        k_opsgenie_ok);
    auto sink = opsgenie_sink(opsgenie.url());
    // Create is POST /v2/alerts, close POST /v2/alerts/{alias}/close (sinks.md 1.8). A close
    // before the create fails in Opsgenie, and the alert created after it would stay open.
    const EventOf event_of = [](const Received& r) {
      if (r.path == "/v2/alerts") return std::string("trigger");
      return r.path.find("/close") != std::string::npos ? std::string("resolve") : r.path;
    };
    throttled_trigger_then_resolve(clock, "og", *sink, opsgenie, event_of);
  }

  TEST_CASE("Slack throttling the first message shows the alert firing then resolved") {
    FakeClock clock;
    ThrottlingReceiver slack(clock, "/services/.*",
                             {429, R"({"retry_after":20,"ok":false,"error":"rate_limited"})", {{"Retry-After", "20"}}},
                             k_slack_ok);
    auto sink = slack_sink(slack.url());
    const std::string firing_title = firing_at(TimePoint{}).title();
    const std::string resolved_title = resolved_at(TimePoint{}).title();
    REQUIRE(firing_title != resolved_title);
    // The channel's last word on the alert must be that it resolved.
    const EventOf event_of = [&](const Received& r) {
      const auto text = r.body.value("text", std::string());
      if (text.rfind(resolved_title, 0) == 0) return std::string("resolve");
      return text.rfind(firing_title, 0) == 0 ? std::string("trigger") : text;
    };
    throttled_trigger_then_resolve(clock, "slack", *sink, slack, event_of);
  }
}

TEST_SUITE("notify.outbox.throttle") {
  TEST_CASE("a Retry-After pauses every notification of that notifier, and no other notifier") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
    ScriptedNotifier limited;
    limited.then(retry("HTTP 429: Too Many Requests", 30s));
    ScriptedNotifier other;
    const TimePoint t0 = f.clock.now();
    for (const auto* account : {"a", "b", "c"}) enqueue(f.store, t0, account, {"limited", "other"});

    const auto next = outbox.deliver_due("limited", limited, f.client);
    CHECK(limited.sent() == std::vector<std::string>{"creditwatch-a-runway"});  // b and c wait too
    CHECK(next == t0 + 30s);
    outbox.deliver_due("other", other, f.client);
    CHECK(other.sent().size() == 3);

    f.clock.set(t0 + 29s);
    CHECK(outbox.deliver_due("limited", limited, f.client) == t0 + 30s);
    CHECK(limited.sent().size() == 1);
    drive(outbox, "limited", limited, f.clock, f.client, t0 + 5min);
    CHECK(limited.sent().size() == 4);
    for (const auto& row : rows_of(f.store, "limited")) CHECK(row.state == OutboxState::delivered);
  }

  // Each sink's 429 in its documented shape (sinks.md), with its own field for the wait.
  struct Throttle {
    const char* name;
    const char* pattern;
    ThrottlingReceiver::Answer busy;
    ThrottlingReceiver::Answer ok;
    std::function<std::unique_ptr<Notifier>(const std::string&)> make;
    Duration wait;
  };

  TEST_CASE("each sink's rate-limit answer pauses the whole notifier for the time it asks") {
    const std::vector<Throttle> sinks = {
        {"pagerduty Retry-After header", "/v2/enqueue", pagerduty_throttled(7), k_pagerduty_ok, pagerduty_sink, 7s},
        {"slack retry_after in the body", "/services/.*",
         {429, R"({"retry_after":7,"ok":false,"error":"rate_limited"})", {}}, k_slack_ok, slack_sink, 7s},
        {"discord retry_after in the body (float seconds)", "/api/webhooks/.*",
         {429, R"({"message":"You are being rate limited.","retry_after":6.5,"global":false})", {}},
         {200, R"({"id":"1180000000000000000","type":0,"channel_id":"1100000000000000000"})", {}},
         [](const std::string& url) {
           return build_notifier(notifier_config(
               "discord", {{"webhook_url", secret_setting(url + "/api/webhooks/1234567890/wHtOkEn-abcdef", 21)}}));
         },
         6500ms},
        {"telegram parameters.retry_after", "/bot.*/sendMessage",
         {429, R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}})", {}},
         {200, R"({"ok":true,"result":{"message_id":42,"date":1777593600,"chat":{"id":-1001234567890,"type":"supergroup"}}})", {}},
         [](const std::string& url) {
           return build_notifier(notifier_config("telegram",
                                                 {{"bot_token", secret_setting("7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", 21)},
                                                  {"chat_id", scalar_setting("-1001234567890", 22)},
                                                  {"api_url", scalar_setting(url, 23)}}));
         },
         7s},
    };
    for (const auto& throttle : sinks) {
      CAPTURE(throttle.name);
      FakeClock clock;
      ThrottlingReceiver receiver(clock, throttle.pattern, throttle.busy, throttle.ok);
      auto sink = throttle.make(receiver.url());
      TempDir dir;
      SqliteStore store(dir.file("creditwatch.db"));
      CurlClient client;
      Outbox outbox(store, clock, RetryPolicy{1s, 5min, 24h, 0.2});
      const TimePoint t0 = clock.now();
      enqueue(store, t0, "a", {"sink"});
      enqueue(store, t0, "b", {"sink"});

      outbox.deliver_due("sink", *sink, client);
      CHECK(receiver.received().size() == 1);
      clock.set(t0 + throttle.wait - 1ms);
      outbox.deliver_due("sink", *sink, client);
      CHECK(receiver.received().size() == 1);  // b waited as well
      drive(outbox, "sink", *sink, clock, client, t0 + 5min);
      const auto received = receiver.received();
      CHECK(received.size() == 3);
      for (std::size_t i = 1; i < received.size(); ++i) CHECK(received[i].at >= t0 + throttle.wait);
      for (const auto& row : store.notifications()) CHECK(row.state == OutboxState::delivered);
    }
  }
}

TEST_SUITE("notify.outbox.lifecycle") {
  TEST_CASE("pending notifications of a notifier removed from the config are dead letters, never sent") {
    for (const bool on_reload : {false, true}) {
      CAPTURE(on_reload);
      Fixture f;
      Outbox outbox(f.store, f.clock, RetryPolicy{});
      auto kept = std::make_shared<ScriptedNotifier>();
      auto removed = std::make_shared<ScriptedNotifier>(Duration(0), retry("connect: refused"));
      enqueue(f.store, f.clock.now(), "a", {"kept", "removed"});
      if (on_reload) {
        outbox.set_notifiers({{"kept", kept}, {"removed", removed}}, RetryPolicy{});
        REQUIRE(creditwatch::testing::eventually([&] { return removed->sent().size() == 1; }, 5s));
        enqueue(f.store, f.clock.now(), "b", {"removed"});
      }
      outbox.set_notifiers({{"kept", kept}}, RetryPolicy{});
      outbox.wake();
      CHECK(creditwatch::testing::eventually(
          [&] { return rows_of(f.store, "kept").front().state == OutboxState::delivered; }, 5s));
      outbox.stop(1s);
      const auto rows = rows_of(f.store, "removed");
      REQUIRE(rows.size() == (on_reload ? 2U : 1U));
      for (const auto& row : rows) {
        CHECK(row.state == OutboxState::dead);
        CHECK(row.last_error == "notifier removed is no longer configured");
      }
      CHECK(removed->sent().size() == (on_reload ? 1U : 0U));

      // A notifier of that name that comes back later does not send them as news.
      auto back = std::make_shared<ScriptedNotifier>();
      outbox.set_notifiers({{"kept", kept}, {"removed", back}}, RetryPolicy{});
      outbox.wake();
      std::this_thread::sleep_for(300ms);
      outbox.stop(1s);
      CHECK(back->sent().empty());
    }
  }

  TEST_CASE("a notification queued for a notifier a reload just removed is a dead letter at once") {
    // The alert engine may still route by the old config for a moment after a reload.
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{});
    auto kept = std::make_shared<ScriptedNotifier>();
    outbox.set_notifiers({{"kept", kept}}, RetryPolicy{});
    enqueue(f.store, f.clock.now(), "a", {"kept", "removed"});
    outbox.wake();
    const auto rows = rows_of(f.store, "removed");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].state == OutboxState::dead);
    CHECK(rows[0].last_error == "notifier removed is no longer configured");
    outbox.stop(1s);
  }

  TEST_CASE("a delivery the store fails to record is recorded later and never sent again") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
    ScriptedNotifier sink;
    enqueue(f.store, f.clock.now(), "a", {"slack"});
    enqueue(f.store, f.clock.now(), "b", {"slack"});
    // Real SQLite refusing exactly that write (as a full disk would refuse it).
    creditwatch::storage::Database admin(f.dir.file("creditwatch.db"));
    admin.exec(
        "CREATE TRIGGER refuse_delivered BEFORE UPDATE OF state ON outbox WHEN NEW.state = 'delivered' "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");

    for (int second = 0; second < 10; ++second) {
      deliver_as_worker(outbox, "slack", sink, f.client);
      f.clock.advance(1s);
    }
    CHECK(sink.sent() == std::vector<std::string>{"creditwatch-a-runway", "creditwatch-b-runway"});
    CHECK(outbox.counts()["slack"].delivered == 2);
    for (const auto& row : rows_of(f.store, "slack")) CHECK(row.state == OutboxState::pending);

    admin.exec("DROP TRIGGER refuse_delivered");  // room again
    deliver_as_worker(outbox, "slack", sink, f.client);
    for (const auto& row : rows_of(f.store, "slack")) CHECK(row.state == OutboxState::delivered);
    CHECK(sink.sent().size() == 2);

    SUBCASE("the next state of the same alert still goes out after it") {
      admin.exec(
          "CREATE TRIGGER refuse_delivered BEFORE UPDATE OF state ON outbox WHEN NEW.state = 'delivered' "
          "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
      enqueue_notification(f.store, firing_at(f.clock.now(), "c"), {"slack"});
      deliver_as_worker(outbox, "slack", sink, f.client);
      f.clock.advance(1s);
      enqueue_notification(f.store, resolved_at(f.clock.now(), "c"), {"slack"});
      deliver_as_worker(outbox, "slack", sink, f.client);
      CHECK(sink.sent().size() == 4);
      CHECK(sink.sent().back() == "creditwatch-c-runway");
    }
  }

  TEST_CASE("a stopping worker finishes the delivery in hand and attempts no more") {
    TempDir dir;
    creditwatch::SystemClock clock;
    SqliteStore store(dir.file("creditwatch.db"));
    Outbox outbox(store, clock, RetryPolicy{});

    // Holds the first delivery until released.
    class SlowSink final : public Notifier {
    public:
      DeliveryResult deliver(const Notification& n, creditwatch::http::Client&) override {
        std::unique_lock lock(m_mutex);
        m_sent.push_back(n.dedup_key);
        m_cv.notify_all();
        m_cv.wait(lock, [&] { return m_released; });
        return {Outcome::delivered, "ok", 200, std::nullopt};
      }
      void wait_for_first() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return !m_sent.empty(); });
      }
      void release() {
        std::lock_guard lock(m_mutex);
        m_released = true;
        m_cv.notify_all();
      }
      std::size_t sent() {
        std::lock_guard lock(m_mutex);
        return m_sent.size();
      }

    private:
      std::mutex m_mutex;
      std::condition_variable m_cv;
      bool m_released = false;
      std::vector<std::string> m_sent;
    };
    auto sink = std::make_shared<SlowSink>();
    for (const auto* account : {"a", "b", "c"}) enqueue(store, clock.now(), account, {"slow"});
    outbox.set_notifiers({{"slow", sink}}, RetryPolicy{});
    outbox.wake();
    sink->wait_for_first();
    std::thread stopper([&] { outbox.stop(10s); });
    std::this_thread::sleep_for(300ms);  // stop() has told the worker by now
    sink->release();
    stopper.join();
    CHECK(sink->sent() == 1);
    const auto rows = rows_of(store, "slow");
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].state == OutboxState::delivered);
    CHECK(rows[1].state == OutboxState::pending);
    CHECK(rows[2].state == OutboxState::pending);
  }
}

// Posts each notification to a loopback sink that takes `delay` to answer, through the
// worker's own client, so a stopping worker's cancel flag aborts it as it would a real sink.
class LoopbackSink final : public Notifier {
public:
  explicit LoopbackSink(std::string url) : m_url(std::move(url)) {}
  DeliveryResult deliver(const Notification& n, creditwatch::http::Client& client) override {
    creditwatch::http::Request request;
    request.method = "POST";
    request.url = m_url;
    request.body = n.dedup_key;
    request.total_timeout = 10s;
    return creditwatch::notify::classify_http(client.send(request));
  }

private:
  std::string m_url;
};

TEST_SUITE("notify.outbox.reload") {
  TEST_CASE("a reload that leaves a notifier unchanged does not cut off, and then resend, its delivery on the wire") {
    TempDir dir;
    creditwatch::SystemClock clock;
    SqliteStore store(dir.file("creditwatch.db"));
    std::atomic<int> received{0};
    creditwatch::testing::FakeHttpServer server;
    server.post("/hook", [&](const httplib::Request&, httplib::Response& res) {
      ++received;
      std::this_thread::sleep_for(3s);  // longer than a reload's 2 s grace for a worker it stops
      res.set_content("ok", "text/plain");
    });
    server.start();
    const RetryPolicy policy{100ms, 1s, 1h, 0.2};
    Outbox outbox(store, clock, policy);
    auto sink = std::make_shared<LoopbackSink>(server.url() + "/hook");
    enqueue(store, clock.now(), "a", {"hook"});
    outbox.set_notifiers({{"hook", sink}}, policy);
    outbox.wake();
    for (int i = 0; i < 100 && received == 0; ++i) std::this_thread::sleep_for(20ms);
    REQUIRE(received == 1);

    // The reload builds a new sink object for the same settings, as the daemon does.
    outbox.set_notifiers({{"hook", std::make_shared<LoopbackSink>(server.url() + "/hook")}}, policy, {"hook"});
    for (int i = 0; i < 300 && only_row(store).state == OutboxState::pending; ++i) std::this_thread::sleep_for(20ms);
    std::this_thread::sleep_for(1500ms);  // room for a resend, had there been one
    CHECK(only_row(store).state == OutboxState::delivered);
    CHECK(only_row(store).attempts == 1);
    CHECK(received == 1);
    outbox.stop(1s);
  }
}

TEST_SUITE("notify.outbox.wall_clock_steps") {
  TEST_CASE("a wall clock stepped back an hour does not stall a retry") {
    Fixture f;
    Outbox outbox(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
    ScriptedNotifier sink;
    sink.then(retry());
    enqueue(f.store, f.clock.now(), "a", {"slack"});
    outbox.deliver_due("slack", sink, f.client);
    REQUIRE(only_row(f.store).state == OutboxState::pending);

    f.clock.step_wall(-1h);
    f.clock.advance(1200ms);  // the longest the first backoff can be
    const auto next = outbox.deliver_due("slack", sink, f.client);
    CHECK_FALSE(next);
    CHECK(sink.sent().size() == 2);
    CHECK(only_row(f.store).state == OutboxState::delivered);

    SUBCASE("nor does it stall what was queued before a restart") {
      Outbox restarted(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
      ScriptedNotifier slow;
      slow.then(retry("HTTP 503", 5min));
      enqueue(f.store, f.clock.now(), "b", {"mail"});
      restarted.deliver_due("mail", slow, f.client);  // retry in about 5 minutes
      Outbox after(f.store, f.clock, RetryPolicy{1s, 5min, 24h, 0.2});
      f.clock.step_wall(-2h);  // further back than any delay the outbox schedules
      after.deliver_due("mail", slow, f.client);
      CHECK(slow.sent().size() == 2);
      CHECK(rows_of(f.store, "mail").front().state == OutboxState::delivered);
    }
  }

  TEST_CASE("a wall clock stepped forward a day fires no storm and gives nothing up") {
    Fixture f;
    const RetryPolicy policy{1s, 5min, 24h, 0.2};
    Outbox outbox(f.store, f.clock, policy);
    bool up = false;
    OutageSink sink(
        f.clock, [&](TimePoint) { return up; }, retry("HTTP 503: upstream down"));
    for (int i = 0; i < 5; ++i) enqueue(f.store, f.clock.now(), "acct" + std::to_string(i), {"pagerduty"});
    drive(outbox, "pagerduty", sink, f.clock, f.client, f.clock.now() + 10min);
    outbox.deliver_due("pagerduty", sink, f.client);  // whatever is due at this instant
    const int attempts = sink.attempts();
    REQUIRE(attempts > 5);

    f.clock.step_wall(24h);
    outbox.deliver_due("pagerduty", sink, f.client);
    CHECK(sink.attempts() == attempts);  // nothing became due: no storm
    for (const auto& row : rows_of(f.store, "pagerduty")) CHECK(row.state == OutboxState::pending);

    up = true;
    drive(outbox, "pagerduty", sink, f.clock, f.client, f.clock.now() + 10min);
    CHECK(sink.accepted().size() == 5);
    for (const auto& row : rows_of(f.store, "pagerduty")) CHECK(row.state == OutboxState::delivered);
    CHECK(outbox.counts()["pagerduty"].dead == 0);
  }
}
