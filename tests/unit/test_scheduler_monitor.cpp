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
#include <filesystem>
#include <string>
#include <thread>

using namespace creditwatch;
using creditwatch::testing::FakeHttpServer;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

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

// Runs a monitor over `accounts` accounts until `done(monitor, threads added so far)` holds
// (or `limit` passes) and returns how many threads it added to the process at most.
template <typename Done>
std::size_t threads_added(int accounts, std::chrono::milliseconds delay, scheduler::MonitorOptions options, Done done,
                          std::chrono::seconds limit = 10s) {
  TempDir dir;
  FakeHttpServer fake;
  serve_balance(fake, delay);
  SystemClock clock;
  const auto runtime = scheduler::load_runtime(dir.write("creditwatch.yaml", config_yaml(dir, fake, accounts)), clock);
  storage::Store store(dir.file("cw.db"));
  notify::Outbox outbox(store, clock, notify::RetryPolicy{});
  const std::size_t before = thread_count();
  std::size_t most = 0;
  {
    scheduler::Monitor monitor(store, clock, outbox, options);
    monitor.set_runtime(runtime);
    monitor.start();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done(monitor, most) && std::chrono::steady_clock::now() < deadline) {
      most = std::max(most, thread_count() - before);
      std::this_thread::sleep_for(20ms);
    }
    most = std::max(most, thread_count() - before);
    REQUIRE(done(monitor, most));
    monitor.stop(1s);
  }
  return most;
}

}  // namespace

TEST_SUITE("scheduler.monitor") {
  TEST_CASE("a few accounts keep a few probe threads, not a fixed pool") {
    // Two rounds of three quick probes: at most one thread per account plus the loop.
    const auto added =
        threads_added(3, 0ms, {}, [](const scheduler::Monitor& m, std::size_t) { return m.probes_done() >= 6; });
    CHECK(added >= 2);  // the loop and at least one probe thread
    CHECK(added <= 4);
  }

  TEST_CASE("slow answers grow the pool past sixteen so many accounts stay in flight") {
    // 40 accounts on 1 s against a provider taking 1.5 s: all of them become due before the
    // first answer, so each needs its own thread (the old fixed pool had sixteen).
    const auto added =
        threads_added(40, 1500ms, {}, [](const scheduler::Monitor&, std::size_t most) { return most >= 41; });
    CHECK(added > 17);  // more than sixteen probe threads and the loop
    CHECK(added <= 41);
  }

  TEST_CASE("the pool never exceeds max_in_flight") {
    scheduler::MonitorOptions options;
    options.max_in_flight = 4;
    const auto added = threads_added(40, 300ms, options,
                                     [](const scheduler::Monitor& m, std::size_t) { return m.probes_done() >= 12; });
    CHECK(added <= 5);  // four probe threads and the loop
  }
}
