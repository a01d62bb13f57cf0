// Store's probe write path: group commit (src/storage/group_commit.cpp), with real SQLite.
#include "creditwatch/storage/group_commit.hpp"
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::storage::CommitOutcomeUnknown;
using creditwatch::storage::Database;
using creditwatch::storage::DatabaseError;
using creditwatch::storage::GroupCommit;
using creditwatch::storage::ProbeWrite;
using creditwatch::storage::ProbeRow;
using creditwatch::storage::SampleRow;
using creditwatch::storage::SqliteStore;
using creditwatch::storage::Store;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

SampleRow sample(const std::string& account, const char* balance) {
  return SampleRow{account, k_t0, "USD", *Decimal::parse(balance), std::nullopt, ""};
}

ProbeRow ok_probe(const std::string& account) { return ProbeRow{account, k_t0, "ok", 200, 0.01, ""}; }

std::int64_t count(Database& db, const std::string& sql) {
  auto s = db.prepare(sql);
  s.step();
  return s.int64(0);
}

// Waits (polling, up to 10 s) until `n` writes are queued in `store`.
bool wait_for_waiting(Store& store, std::uint64_t n) {
  for (int i = 0; i < 10'000; ++i) {
    if (store.write_stats().waiting >= n) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

}  // namespace

TEST_SUITE("storage_group_commit") {
  TEST_CASE("a write is committed when add_samples returns") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    store.add_samples({sample("a", "10")}, ok_probe("a"));
    store.add_probe(ProbeRow{"a", k_t0 + 1s, "timeout", 0, 15, "timed out"});

    // A second connection sees both at once: nothing waits in memory for a later commit.
    Database other(dir.file("cw.db"));
    CHECK(count(other, "SELECT COUNT(*) FROM readings JOIN accounts a ON a.id = account_id WHERE a.name = 'a'") == 1);
    CHECK(count(other, "SELECT ok_probes + failed_probes FROM accounts WHERE name = 'a'") == 2);
    const auto stats = store.write_stats();
    CHECK(stats.transactions == 2);
    CHECK(stats.writes == 2);
    CHECK(stats.waiting == 0);
  }

  TEST_CASE("writes queued behind a running commit share one transaction") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    Database blocker(dir.file("cw.db"));
    blocker.exec("BEGIN IMMEDIATE");  // the first commit now waits for the write lock

    constexpr int k_threads = 8;
    std::vector<std::thread> threads;
    threads.emplace_back([&] { store.add_samples({sample("acct-0", "1")}, ok_probe("acct-0")); });
    REQUIRE(wait_for_waiting(store, 1));
    for (int i = 1; i < k_threads; ++i) {
      threads.emplace_back([&, i] {
        const auto name = "acct-" + std::to_string(i);
        store.add_samples({sample(name, "1")}, ok_probe(name));
      });
    }
    REQUIRE(wait_for_waiting(store, k_threads));
    CHECK(store.write_stats().transactions == 0);
    blocker.exec("COMMIT");
    for (auto& t : threads) t.join();

    // The first write went alone; the seven that queued behind it went together.
    const auto stats = store.write_stats();
    CHECK(stats.transactions == 2);
    CHECK(stats.writes == k_threads);
    CHECK(stats.waiting == 0);
    CHECK(count(blocker, "SELECT COUNT(*) FROM readings") == k_threads);
    CHECK(count(blocker, "SELECT SUM(ok_probes) FROM accounts") == k_threads);
  }

  TEST_CASE("a failing write fails alone and its group is still committed") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    Database other(dir.file("cw.db"));
    other.exec("BEGIN IMMEDIATE");
    other.exec("CREATE TRIGGER refuse_bad BEFORE INSERT ON readings WHEN NEW.account_id = (SELECT id FROM accounts "
               "WHERE name = 'bad') "
               "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END");

    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    std::string bad_error;
    auto add = [&](const std::string& name) {
      try {
        store.add_samples({sample(name, "1")}, ok_probe(name));
      } catch (const DatabaseError& e) {
        ++failures;
        bad_error = e.what();
      }
    };
    threads.emplace_back(add, "first");
    REQUIRE(wait_for_waiting(store, 1));
    for (const char* name : {"good-1", "bad", "good-2"}) threads.emplace_back(add, name);
    REQUIRE(wait_for_waiting(store, 4));
    other.exec("COMMIT");
    for (auto& t : threads) t.join();

    CHECK(failures == 1);
    CHECK(bad_error.find("refused by test trigger") != std::string::npos);
    CHECK(count(other, "SELECT COUNT(*) FROM readings JOIN accounts a ON a.id = account_id WHERE a.name IN "
                       "('first', 'good-1', 'good-2')") == 3);
    CHECK(count(other, "SELECT SUM(ok_probes) FROM accounts WHERE name IN ('first', 'good-1', 'good-2')") == 3);
    // Atomic per write: the refused reading's probe count (and its account row) went with it.
    CHECK(count(other, "SELECT COUNT(*) FROM accounts WHERE name = 'bad'") == 0);
    CHECK(store.write_stats().waiting == 0);
  }

  TEST_CASE("a group whose commit outcome is unknown is not written again row by row") {
    // PostgreSQL lost the connection during COMMIT: the group may be stored already, so
    // writing each of its writes again would store them twice.
    std::mutex mutex;
    std::condition_variable cv;
    bool release_first = false;
    int commits = 0;
    GroupCommit group([&](const std::vector<ProbeWrite*>& writes) {
      std::unique_lock lock(mutex);
      if (++commits == 1) {
        cv.wait(lock, [&] { return release_first; });  // the others queue meanwhile
        return;
      }
      if (writes.size() > 1) throw CommitOutcomeUnknown("COMMIT failed: server closed the connection");
    });
    const std::vector<SampleRow> samples{sample("a", "1")};
    const ProbeRow probe = ok_probe("a");
    std::atomic<int> unknown{0};
    auto add = [&] {
      ProbeWrite w{&samples, &probe, nullptr};
      try {
        group.write(w);
      } catch (const CommitOutcomeUnknown&) {
        ++unknown;
      }
    };
    std::vector<std::thread> threads;
    threads.emplace_back(add);
    auto queued = [&](std::uint64_t n) {
      for (int i = 0; i < 10'000 && group.stats().waiting < n; ++i) std::this_thread::sleep_for(1ms);
      return group.stats().waiting >= n;
    };
    REQUIRE(queued(1));
    threads.emplace_back(add);
    threads.emplace_back(add);
    REQUIRE(queued(3));
    {
      std::lock_guard lock(mutex);
      release_first = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();

    CHECK(commits == 2);  // the first alone, then the two together: no retry one by one
    CHECK(unknown == 2);
    CHECK(group.stats().waiting == 0);
  }

  TEST_CASE("a commit wakes only the writers it finished and the next batch's committer") {
    // Thousands of probes a second queue behind each commit: waking every queued writer
    // after each one (notify_all on one condition) sent most of them straight back to sleep.
    std::mutex mutex;
    std::condition_variable cv;
    bool release_first = false;
    std::vector<std::size_t> sizes;
    GroupCommit group([&](const std::vector<ProbeWrite*>& writes) {
      std::unique_lock lock(mutex);
      sizes.push_back(writes.size());
      if (sizes.size() == 1) cv.wait(lock, [&] { return release_first; });  // the others queue meanwhile
    });
    const std::vector<SampleRow> samples{sample("a", "1")};
    const ProbeRow probe = ok_probe("a");
    auto add = [&] {
      ProbeWrite w{&samples, &probe, nullptr};
      group.write(w);
    };
    auto queued = [&](std::uint64_t n) {
      for (int i = 0; i < 10'000 && group.stats().waiting < n; ++i) std::this_thread::sleep_for(1ms);
      return group.stats().waiting >= n;
    };
    std::vector<std::thread> threads;
    threads.emplace_back(add);
    REQUIRE(queued(1));
    // Two full batches and part of a third wait behind the first commit.
    constexpr std::size_t k_queued = 2 * GroupCommit::k_max_batch + 20;
    for (std::size_t i = 0; i < k_queued; ++i) threads.emplace_back(add);
    REQUIRE(queued(1 + k_queued));
    {
      std::lock_guard lock(mutex);
      release_first = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();

    {
      std::lock_guard lock(mutex);
      CHECK(sizes == std::vector<std::size_t>{1, GroupCommit::k_max_batch, GroupCommit::k_max_batch, 20});
    }
    const auto stats = group.stats();
    CHECK(stats.transactions == 4);
    CHECK(stats.writes == 1 + k_queued);
    CHECK(stats.waiting == 0);
    // One condition for all (notify_all after each commit) woke every writer of the later
    // batches each time, some 800 wake-ups here; now a stray one or two at most.
    CHECK(group.idle_wakeups() <= 5);
  }

  TEST_CASE("many threads writing at once lose nothing") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    constexpr int k_threads = 8;
    constexpr int k_each = 200;
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&, t] {
        const auto name = "acct-" + std::to_string(t);
        for (int i = 0; i < k_each; ++i) {
          // A new balance each time: every reading is a run of its own.
          const SampleRow reading{name, k_t0 + i * 1s, "USD", Decimal::from_micros(1'000'000 - i), std::nullopt, ""};
          store.add_samples({reading}, ok_probe(name));
        }
      });
    }
    for (auto& t : threads) t.join();
    Database other(dir.file("cw.db"));
    CHECK(count(other, "SELECT COUNT(*) FROM readings") == k_threads * k_each);
    CHECK(count(other, "SELECT SUM(ok_probes) FROM accounts") == k_threads * k_each);
    const auto stats = store.write_stats();
    CHECK(stats.writes == k_threads * k_each);
    CHECK(stats.transactions <= stats.writes);
  }
}
