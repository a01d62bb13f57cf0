// The Monitor's probe pool: threads are started only when a due account finds every one
// busy, up to MonitorOptions::max_in_flight. Real SQLite, real libcurl, a loopback
// DeepSeek-shaped fake whose answers can be slowed down.
// Then its clock: with a fake clock and a scripted provider, a wall-clock step neither stalls
// nor bursts probing, and `stale` is judged from the time since the last answer, whatever
// the probes do (fail, throw, never succeed).
#include "creditwatch/common/text.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/monitor.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/fake_http_server.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

using namespace creditwatch;
using creditwatch::testing::FakeClock;
using creditwatch::testing::FakeHttpServer;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// A DeepSeek balance endpoint that answers after `delay`.
void serve_balance(FakeHttpServer& fake, std::chrono::milliseconds delay) {
  fake.get("/user/balance", [delay](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(delay);
    res.set_content(R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00",)"
                    R"("granted_balance":"10.00","topped_up_balance":"100.00"}]})",
                    "application/json");
  });
  fake.start();
}

std::string config_yaml(const TempDir& dir, const FakeHttpServer& fake, int accounts) {
  std::string yaml = "storage:\n  path: " + dir.file("cw.db") +
                     "\nhttp:\n  listen: \"off\"\ndefaults:\n  interval: 1s\n  timeout: 10s\naccounts:\n";
  for (int i = 0; i < accounts; ++i) {
    yaml += "  - name: acct-" + std::to_string(i) + "\n    provider: deepseek\n    api_key: sk-test-" +
            std::to_string(i) + "\n    base_url: " + fake.url() + "\n";
  }
  return yaml;
}

// Runs a monitor over `accounts` accounts until `done(monitor)` holds (or `limit` passes)
// and returns how many probe threads it had started by then.
template <typename Done>
std::size_t probe_threads_used(int accounts, std::chrono::milliseconds delay, scheduler::MonitorOptions options,
                               Done done, std::chrono::seconds limit = 20s) {
  TempDir dir;
  FakeHttpServer fake;
  serve_balance(fake, delay);
  SystemClock clock;
  const auto runtime = scheduler::load_runtime(dir.write("creditwatch.yaml", config_yaml(dir, fake, accounts)), clock);
  storage::SqliteStore store(dir.file("cw.db"));
  notify::Outbox outbox(store, clock, notify::RetryPolicy{});
  scheduler::Monitor monitor(store, clock, outbox, options);
  monitor.set_runtime(runtime);
  monitor.start();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done(monitor) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  REQUIRE(done(monitor));
  const auto used = monitor.probe_threads();
  monitor.stop(1s);
  return used;
}

}  // namespace

TEST_SUITE("scheduler.monitor") {
  TEST_CASE("a few accounts keep a few probe threads, not a fixed pool") {
    // Three rounds of three quick probes: never more than one thread per account.
    const auto used = probe_threads_used(3, 0ms, {}, [](const scheduler::Monitor& m) { return m.probes_done() >= 9; });
    CHECK(used >= 1);
    CHECK(used <= 3);
  }

  TEST_CASE("slow answers grow the pool past sixteen so many accounts stay in flight") {
    // 40 accounts on 1 s against a provider taking 3 s: each becomes due while the others
    // still wait for their answer, so each needs its own thread (the old fixed pool had 16).
    const auto used =
        probe_threads_used(40, 3000ms, {}, [](const scheduler::Monitor& m) { return m.probe_threads() >= 40; });
    CHECK(used > 16);
    CHECK(used <= 40);  // one per account at most: an account is never probed twice at once
  }

  TEST_CASE("the pool never exceeds max_in_flight") {
    scheduler::MonitorOptions options;
    options.max_in_flight = 4;
    const auto used =
        probe_threads_used(40, 300ms, options, [](const scheduler::Monitor& m) { return m.probes_done() >= 12; });
    CHECK(used == 4);
  }
}

namespace {

// A provider whose every answer the test decides: a balance, a timeout, or an exception.
class ScriptedProvider final : public providers::Provider {
public:
  enum class Answer { balance, timeout, exception };
  void answer(Answer a) { m_answer = a; }
  int calls() const { return m_calls.load(); }

  providers::ProbeResult probe(http::Client&) override {
    ++m_calls;
    switch (m_answer.load()) {
      case Answer::balance:
        return providers::Reading{{{"USD", *Decimal::parse("100.00"), std::nullopt, nlohmann::json::object()}}, true, ""};
      case Answer::timeout:
        return providers::ProbeError{providers::ErrorKind::timeout, "timed out after 15s", 0, std::nullopt};
      case Answer::exception: throw std::runtime_error("parser bug: unexpected \xff byte");
    }
    return providers::ProbeError{};
  }

private:
  std::atomic<Answer> m_answer{Answer::balance};
  std::atomic<int> m_calls{0};
};

template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

constexpr auto k_interval = 1min;

// One account on a one-minute interval (stale after three), one notifier, a real store and
// outbox (not started: queued notifications stay pending for the test to read), a monitor
// on a fake clock.
struct Watch {
  TempDir dir;
  FakeClock clock;
  storage::SqliteStore store{dir.file("cw.db")};
  notify::Outbox outbox{store, clock, notify::RetryPolicy{}};
  std::shared_ptr<ScriptedProvider> provider = std::make_shared<ScriptedProvider>();
  scheduler::Monitor monitor{store, clock, outbox};

  // `history`: what the store holds before the monitor starts, as a restart finds it.
  explicit Watch(ScriptedProvider::Answer first = ScriptedProvider::Answer::balance,
                 const std::function<void(storage::Store&, TimePoint now)>& history = {}) {
    if (history) history(store, clock.now());
    provider->answer(first);
    auto runtime = std::make_shared<scheduler::Runtime>();
    config::AccountConfig account;
    account.name = "acct";
    account.provider = "scripted";
    account.tuning.interval = k_interval;
    runtime->config.accounts = {account};
    config::NotifierConfig slack;
    slack.name = "slack";
    slack.type = "console";
    runtime->config.notifiers = {slack};
    runtime->notifiers["slack"] = nullptr;  // the engine routes by name
    runtime->providers["acct"] = provider;
    monitor.set_runtime(runtime);
    monitor.start();
    // The first probe comes within min(interval, 5 s).
    clock.advance(5s);
    monitor.wake();
    REQUIRE(eventually([&] { return monitor.probes_done() == 1; }));
  }
  ~Watch() { monitor.stop(1s); }

  // Time passes by one interval: exactly one more probe, and the loop has judged it.
  void next_interval() {
    const auto before = monitor.probes_done();
    clock.advance(k_interval);
    monitor.wake();
    REQUIRE(eventually([&] { return monitor.probes_done() == before + 1; }));
    settle();
  }
  // Lets the loop go round once more at the current time.
  void settle() {
    monitor.wake();
    std::this_thread::sleep_for(50ms);
  }

  std::optional<storage::AlertRow> stale_alert() {
    for (auto& a : store.alerts("acct")) {
      if (a.rule == "stale") return a;
    }
    return std::nullopt;
  }
  bool stale_firing() {
    auto a = stale_alert();
    return a && a->state == "firing";
  }
  // The stale notifications queued for the notifier, by status (firing or resolved).
  std::vector<std::string> stale_events() {
    std::vector<std::string> events;
    for (const auto& row : store.notifications()) {
      if (row.dedup_key.find("stale") == std::string::npos) continue;
      CHECK(row.notifier == "slack");
      events.push_back(nlohmann::json::parse(row.payload_json).value("status", ""));
    }
    return events;
  }
};

}  // namespace

TEST_SUITE("scheduler.monitor.time") {
  TEST_CASE("before the loop starts it does not look stalled") {
    // The daemon asks for /healthz and pings its heartbeats before it starts the loop.
    TempDir dir;
    SystemClock clock;
    storage::SqliteStore store(dir.file("cw.db"));
    notify::Outbox outbox(store, clock, notify::RetryPolicy{});
    scheduler::Monitor monitor(store, clock, outbox);
    CHECK(clock.monotonic() - monitor.last_tick() < 1s);
  }

  TEST_CASE("a wall clock stepped back an hour does not stall probing") {
    Watch w;
    w.clock.step_wall(-1h);
    for (int i = 0; i < 3; ++i) w.next_interval();  // each REQUIREs its probe
    CHECK(w.provider->calls() == 4);
    CHECK(w.clock.monotonic() - w.monitor.last_tick() < 1s);  // /healthz sees the loop alive
  }

  TEST_CASE("a wall clock stepped forward a day fires no burst of probes and no stale alert") {
    Watch w;
    w.provider->answer(ScriptedProvider::Answer::timeout);
    w.clock.step_wall(24h);
    w.settle();
    w.settle();
    CHECK(w.monitor.probes_done() == 1);  // nothing fell due: no time passed
    CHECK(w.clock.monotonic() - w.monitor.last_tick() < 1s);
    // Two failed probes, two minutes after the last success: not stale, whatever the wall
    // clock says about the day in between.
    w.next_interval();
    w.next_interval();
    CHECK(w.provider->calls() == 3);
    CHECK_FALSE(w.stale_alert());
    CHECK(w.stale_events().empty());
  }

  TEST_CASE("a provider that throws goes stale after three intervals and resolves on success") {
    Watch w;
    w.provider->answer(ScriptedProvider::Answer::exception);
    w.next_interval();
    w.next_interval();
    CHECK_FALSE(w.stale_firing());
    // Each thrown probe is recorded as an `internal` outcome the status and API can show.
    const auto probe = w.store.latest_probe("acct");
    REQUIRE(probe);
    CHECK(probe->outcome == "internal");
    CHECK(probe->message.find("probe failed internally: parser bug") == 0);
    CHECK(valid_utf8(probe->message));
    const auto latest = w.monitor.latest();
    REQUIRE(latest.count("acct") == 1);
    REQUIRE(latest.at("acct").error);
    CHECK(latest.at("acct").error->kind == providers::ErrorKind::internal);

    w.next_interval();  // three intervals since the last success
    REQUIRE(eventually([&] { return w.stale_firing(); }));
    CHECK(w.stale_events() == std::vector<std::string>{"firing"});
    CHECK(w.stale_alert()->severity == "warning");
    w.next_interval();
    CHECK(w.stale_events() == std::vector<std::string>{"firing"});  // once, not per probe

    w.provider->answer(ScriptedProvider::Answer::balance);
    w.next_interval();
    REQUIRE(eventually([&] { return !w.stale_firing(); }));
    CHECK(w.stale_events() == std::vector<std::string>{"firing", "resolved"});
  }

  TEST_CASE("a restart counts an account's silence from the last answer the store holds") {
    // Answered 150 s before the restart, then failed: its first probe fails too, and one
    // interval later it has been silent 215 s, past three intervals.
    Watch w(ScriptedProvider::Answer::timeout, [](storage::Store& store, TimePoint now) {
      store.add_samples({storage::SampleRow{"acct", now - 150s, "USD", *Decimal::parse("100.00"), std::nullopt, ""}},
                        storage::ProbeRow{"acct", now - 150s, "ok", 200, 0.25, ""});
      store.add_probe(storage::ProbeRow{"acct", now - 60s, "timeout", 0, 15.0, "timed out after 15s"});
    });
    w.settle();
    CHECK_FALSE(w.stale_firing());
    w.next_interval();
    REQUIRE(eventually([&] { return w.stale_firing(); }));
    CHECK(w.stale_events() == std::vector<std::string>{"firing"});
  }

  TEST_CASE("a restart counts a refused key as the account's last answer") {
    // Succeeded 10 minutes before the restart, its key refused 100 s before: silent from the
    // refusal (an answer), so stale only two intervals after the restart, not at once.
    Watch w(ScriptedProvider::Answer::timeout, [](storage::Store& store, TimePoint now) {
      store.add_samples({storage::SampleRow{"acct", now - 10min, "USD", *Decimal::parse("100.00"), std::nullopt, ""}},
                        storage::ProbeRow{"acct", now - 10min, "ok", 200, 0.25, ""});
      store.add_probe(storage::ProbeRow{"acct", now - 100s, "key_invalid", 401, 0.5, "invalid api key"});
    });
    w.settle();
    w.next_interval();
    CHECK_FALSE(w.stale_firing());
    w.next_interval();
    REQUIRE(eventually([&] { return w.stale_firing(); }));
    CHECK(w.stale_events() == std::vector<std::string>{"firing"});
  }

  TEST_CASE("an account that never succeeded goes stale") {
    Watch w(ScriptedProvider::Answer::timeout);
    w.next_interval();
    CHECK_FALSE(w.stale_firing());
    w.next_interval();
    w.next_interval();  // three intervals of failures since watching began
    REQUIRE(eventually([&] { return w.stale_firing(); }));
    CHECK(w.stale_events() == std::vector<std::string>{"firing"});
    const auto context = nlohmann::json::parse(w.stale_alert()->context_json);
    CHECK(context["summary"].get<std::string>().find("since monitoring began") != std::string::npos);
    CHECK(context["summary"].get<std::string>().find("timed out after 15s") != std::string::npos);
  }
}
