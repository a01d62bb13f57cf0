// The Monitor's probe pool: threads are started only when a due account finds every one
// busy, up to MonitorOptions::max_in_flight. Real SQLite, real libcurl, a loopback
// DeepSeek-shaped fake whose answers can be slowed down.
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/monitor.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/storage/store.hpp"
#include "fakes/fake_http_server.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

using namespace creditwatch;
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
  storage::Store store(dir.file("cw.db"));
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
