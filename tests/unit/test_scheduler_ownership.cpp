#include "creditwatch/scheduler/ownership.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using creditwatch::scheduler::Ownership;
using creditwatch::storage::SqliteStore;
using creditwatch::testing::FakeClock;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> accounts(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("acct-" + std::to_string(i));
  return out;
}

// Every account held by exactly one of `replicas`; returns how many each holds.
std::map<std::string, std::size_t> check_partition(const std::vector<Ownership*>& replicas,
                                                   const std::vector<std::string>& names) {
  std::map<std::string, std::size_t> held;
  for (const auto& name : names) {
    int owners = 0;
    for (auto* r : replicas) {
      if (r->owns(name)) {
        ++owners;
        ++held[r->replica_id()];
      }
    }
    CAPTURE(name);
    CHECK(owners == 1);
  }
  return held;
}

}  // namespace

TEST_SUITE("scheduler_ownership") {
  TEST_CASE("rendezvous hashing spreads accounts evenly and moves only the leaver's share") {
    const auto names = accounts(3000);
    const std::vector<std::string> three = {"a", "b", "c"};
    std::map<std::string, std::string> before;
    std::map<std::string, int> counts;
    for (const auto& n : names) {
      before[n] = Ownership::owner_of(n, three);
      ++counts[before[n]];
    }
    for (const auto& [replica, count] : counts) {
      CAPTURE(replica);
      CHECK(count > 850);  // 1000 each, give or take
      CHECK(count < 1150);
    }
    const std::vector<std::string> two = {"a", "c"};
    for (const auto& n : names) {
      if (before[n] != "b") CHECK(Ownership::owner_of(n, two) == before[n]);
    }
  }

  TEST_CASE("two replicas split the accounts, and one takes all when the other stops renewing") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    FakeClock clock;
    const auto names = accounts(40);
    Ownership a(store, clock, "replica-a", 15s);
    Ownership b(store, clock, "replica-b", 15s);

    a.renew(names);  // alone so far: takes everything
    CHECK(a.owned().size() == names.size());
    b.renew(names);  // sees a, wants half, but a's leases are live
    CHECK(b.owned().empty());
    clock.advance(5s);
    const auto handed = a.renew(names);  // sees b, lets b's half go
    CHECK_FALSE(handed.lost.empty());
    const auto taken = b.renew(names);
    CHECK(taken.gained.size() == handed.lost.size());
    auto held = check_partition({&a, &b}, names);
    CHECK(held["replica-a"] > 10);
    CHECK(held["replica-b"] > 10);

    // b dies (stops renewing). Before the lease runs out a keeps its own share only.
    clock.advance(10s);
    a.renew(names);
    CHECK(a.owned().size() == held["replica-a"]);
    // After the lease, b is not live and its leases have expired: a takes them over.
    clock.advance(6s);
    const auto takeover = a.renew(names);
    CHECK(takeover.gained.size() == held["replica-b"]);
    CHECK(a.owned().size() == names.size());
  }

  TEST_CASE("a replica that leaves hands its accounts over at the next renewal, not after the lease") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    FakeClock clock;
    const auto names = accounts(30);
    Ownership a(store, clock, "replica-a", 15s);
    Ownership b(store, clock, "replica-b", 15s);
    a.renew(names);
    b.renew(names);
    clock.advance(5s);
    a.renew(names);
    b.renew(names);
    check_partition({&a, &b}, names);
    b.leave();
    CHECK(b.owned().empty());
    clock.advance(1s);
    a.renew(names);
    CHECK(a.owned().size() == names.size());
  }

  TEST_CASE("leases cannot be taken while their owner renews them") {
    TempDir dir;
    SqliteStore store(dir.file("cw.db"));
    FakeClock clock;
    const auto names = accounts(10);
    Ownership a(store, clock, "replica-a", 15s);
    a.renew(names);
    for (int round = 0; round < 10; ++round) {
      clock.advance(5s);
      a.renew(names);
      // An intruder that claims every account directly gets none of them.
      CHECK(store.claim_leases("intruder", names, clock.now(), clock.now() + 15s).empty());
    }
    CHECK(a.owned().size() == names.size());
  }

  TEST_CASE("a renewal that cannot reach the database keeps what is held and counts the failure") {
    TempDir dir;
    const auto path = dir.file("cw.db");
    SqliteStore store(path);
    FakeClock clock;
    const auto names = accounts(5);
    Ownership a(store, clock, "replica-a", 15s);
    a.renew(names);
    REQUIRE(a.owned().size() == 5);
    const auto renewed = a.last_renewal();
    // Another connection holds the write lock longer than the busy timeout.
    creditwatch::storage::Database blocker(path);
    blocker.exec("BEGIN IMMEDIATE");
    clock.advance(5s);
    const auto change = a.renew(names);
    blocker.exec("ROLLBACK");
    CHECK(change.gained.empty());
    CHECK(change.lost.empty());
    CHECK(a.owned().size() == 5);
    CHECK(a.renewal_failures() == 1);
    CHECK(a.last_renewal() == renewed);
    // Still within the lease of the last renewal: it may judge its accounts.
    CHECK(a.holds("acct-0"));
    // Past it, another replica may have taken them: it keeps them (probing goes on) but may
    // no longer act as their owner until a renewal succeeds.
    clock.advance(11s);
    CHECK(a.owns("acct-0"));
    CHECK_FALSE(a.holds("acct-0"));
    a.renew(names);
    CHECK(a.holds("acct-0"));
  }
}
