#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/storage/store.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
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
    rows.push_back(OutboxRow{0, now, notifier, n.dedup_key, payload, 0, now, OutboxState::pending, ""});
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
  Store store{dir.file("creditwatch.db")};
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
                       {OutboxRow{0, now, "slack", "k", "{not json", 0, now, OutboxState::pending, ""}});
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
      Store store(path);
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
    Store store(path);
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
    Store store(dir.file("creditwatch.db"));
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
