#include "creditwatch/scheduler/schedule.hpp"

#include "fakes/fake_clock.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using creditwatch::Duration;
using creditwatch::SteadyPoint;
using creditwatch::scheduler::Schedule;
using creditwatch::testing::FakeClock;
using namespace std::chrono_literals;

namespace {

std::string name(int i) { return "account-" + std::to_string(i); }

// Due times are on the monotonic clock: time passes (both clocks move) up to `t`.
void advance_to(FakeClock& clock, SteadyPoint t) {
  REQUIRE(t >= clock.monotonic());
  clock.advance(std::chrono::duration_cast<Duration>(t - clock.monotonic()));
}

std::int64_t ms_of(SteadyPoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Steps the clock one millisecond at a time until `account` comes due; returns when it did.
SteadyPoint first_due(Schedule& schedule, FakeClock& clock, const std::string& account, Duration limit) {
  const SteadyPoint end = clock.monotonic() + limit;
  while (clock.monotonic() <= end) {
    auto due = schedule.take_due(clock.monotonic());
    if (std::find(due.begin(), due.end(), account) != due.end()) return clock.monotonic();
    clock.advance(1ms);
  }
  FAIL("account " << account << " never came due");
  return end;
}

}  // namespace

TEST_SUITE("scheduler.schedule") {
  TEST_CASE("first probes are spread within min(interval, 1s)") {
    FakeClock clock;
    const SteadyPoint t0 = clock.monotonic();

    SUBCASE("a long interval splays over the first second") {
      Schedule s;
      std::set<SteadyPoint> firsts;
      for (int i = 0; i < 50; ++i) {
        s.set(name(i), 5min, t0);
      }
      for (int i = 0; i < 50; ++i) {
        Schedule one;
        one.set(name(i), 5min, t0);
        auto due = one.next_due();
        REQUIRE(due);
        CHECK(*due >= t0);
        CHECK(*due < t0 + 1s);
        firsts.insert(*due);
      }
      // 50 names hashed over 1000 ms: practically all distinct, certainly not one slot.
      CHECK(firsts.size() > 40);
      CHECK(s.size() == 50);
    }
    SUBCASE("a short interval splays within that interval") {
      for (int i = 0; i < 50; ++i) {
        Schedule one;
        one.set(name(i), 500ms, t0);
        CHECK(*one.next_due() < t0 + 500ms);
      }
    }
    SUBCASE("two accounts get different first slots") {
      Schedule a;
      Schedule b;
      a.set("deepseek-prod", 5min, t0);
      b.set("openrouter-prod", 5min, t0);
      CHECK(*a.next_due() != *b.next_due());
    }
    SUBCASE("nothing is due before its first slot") {
      Schedule s;
      s.set("deepseek-prod", 5min, t0);
      const SteadyPoint first = *s.next_due();
      if (first > t0) CHECK(s.take_due(first - 1ms).empty());
      CHECK(s.take_due(first) == std::vector<std::string>{"deepseek-prod"});
    }
  }

  TEST_CASE("the second probe moves onto a phase spread over the whole interval") {
    FakeClock clock;
    const SteadyPoint t0 = clock.monotonic();
    std::set<std::int64_t> phases;
    for (int i = 0; i < 60; ++i) {
      Schedule s;
      s.set(name(i), 1min, t0);
      const SteadyPoint first = *s.next_due();
      REQUIRE(s.take_due(first) == std::vector<std::string>{name(i)});
      const SteadyPoint second = *s.next_due();
      CHECK(second >= first + 30s);
      CHECK(second < first + 90s);
      phases.insert(std::chrono::duration_cast<std::chrono::seconds>(second - t0).count() % 60);
      REQUIRE(s.take_due(second) == std::vector<std::string>{name(i)});
      CHECK(*s.next_due() == second + 1min);
    }
    // 60 names over a minute's 60 seconds, not all within the first second or five of it.
    CHECK(phases.size() > 25);
  }

  TEST_CASE("next due is the previous due plus the interval, without drift") {
    FakeClock clock;
    Schedule s;
    s.set("acct", 1min, clock.monotonic());
    advance_to(clock, *s.next_due());
    REQUIRE(s.take_due(clock.monotonic()) == std::vector<std::string>{"acct"});
    const SteadyPoint first = *s.next_due();  // the second probe, on the spread phase
    advance_to(clock, first);
    REQUIRE(s.take_due(clock.monotonic()) == std::vector<std::string>{"acct"});
    CHECK(*s.next_due() == first + 1min);

    SUBCASE("late by a few ms each time keeps the phase") {
      for (int i = 1; i <= 10; ++i) {
        advance_to(clock, first + i * 1min + 7ms);  // the loop woke up a little late
        CHECK(s.take_due(clock.monotonic()) == std::vector<std::string>{"acct"});
        CHECK(*s.next_due() == first + (i + 1) * 1min);
      }
    }
    SUBCASE("not due again before the next slot") {
      advance_to(clock, first + 1min - 1ms);
      CHECK(s.take_due(clock.monotonic()).empty());
      CHECK(*s.next_due() == first + 1min);
    }
  }

  TEST_CASE("falling far behind skips the missed slots instead of bursting") {
    FakeClock clock;
    Schedule s;
    s.set("acct", 1min, clock.monotonic());
    advance_to(clock, *s.next_due());
    REQUIRE(s.take_due(clock.monotonic()) == std::vector<std::string>{"acct"});
    const SteadyPoint first = *s.next_due();  // on the spread phase from here on
    advance_to(clock, first + 10min + 30s);  // asleep for ten intervals
    CHECK(s.take_due(clock.monotonic()) == std::vector<std::string>{"acct"});
    CHECK(s.take_due(clock.monotonic()).empty());
    // Still on the original phase, at the first slot after now.
    CHECK(*s.next_due() == first + 11min);

    SUBCASE("behind by exactly one interval still probes once") {
      Schedule t;
      t.set("acct", 1min, first);
      const SteadyPoint due = *t.next_due();
      CHECK(t.take_due(due + 1min) == std::vector<std::string>{"acct"});
      CHECK(t.take_due(due + 1min).empty());
      CHECK(*t.next_due() > due + 1min);
    }
  }

  TEST_CASE("set on a known account keeps its phase") {
    FakeClock clock;
    Schedule s;
    s.set("acct", 10min, clock.monotonic());
    const SteadyPoint first = *s.next_due();

    SUBCASE("a longer interval does not move the next slot") {
      s.set("acct", 1h, clock.monotonic());
      CHECK(*s.next_due() == first);
      CHECK(s.size() == 1);
      advance_to(clock, first);
      s.take_due(clock.monotonic());
      CHECK(*s.next_due() == first + 1h);
    }
    SUBCASE("a shorter interval takes effect at once") {
      advance_to(clock, first);
      s.take_due(clock.monotonic());  // next at first + 10 min
      s.set("acct", 1min, clock.monotonic());
      CHECK(*s.next_due() == first + 1min);
    }
  }

  TEST_CASE("remove, retain and next_due") {
    FakeClock clock;
    Schedule s;
    CHECK_FALSE(s.next_due());
    CHECK(s.take_due(clock.monotonic() + 1h).empty());
    for (int i = 0; i < 5; ++i) s.set(name(i), 1min, clock.monotonic());

    std::map<std::string, SteadyPoint> due_at;
    for (int i = 0; i < 5; ++i) {
      Schedule one;
      one.set(name(i), 1min, clock.monotonic());
      due_at[name(i)] = *one.next_due();
    }
    CHECK(*s.next_due() ==
          std::min_element(due_at.begin(), due_at.end(), [](auto& a, auto& b) { return a.second < b.second; })->second);

    SUBCASE("remove") {
      s.remove(name(2));
      s.remove("never-added");
      CHECK(s.size() == 4);
      auto due = s.take_due(clock.monotonic() + 10s);
      CHECK(due.size() == 4);
      CHECK(std::find(due.begin(), due.end(), name(2)) == due.end());
    }
    SUBCASE("retain") {
      s.retain({name(1), name(3), "not-scheduled"});
      CHECK(s.size() == 2);
      CHECK(*s.next_due() == std::min(due_at[name(1)], due_at[name(3)]));
      auto due = s.take_due(clock.monotonic() + 10s);
      std::sort(due.begin(), due.end());
      CHECK(due == std::vector<std::string>{name(1), name(3)});
    }
    SUBCASE("retain nothing empties it") {
      s.retain({});
      CHECK(s.size() == 0);
      CHECK_FALSE(s.next_due());
    }
  }

  TEST_CASE("1000 accounts with a 1 s interval are not all due in the same millisecond") {
    FakeClock clock;
    Schedule s;
    for (int i = 0; i < 1000; ++i) s.set(name(i), 1s, clock.monotonic());

    std::map<std::int64_t, int> per_ms;
    std::set<std::string> seen;
    const SteadyPoint start = clock.monotonic();
    while (clock.monotonic() < start + 1s) {
      auto due = s.take_due(clock.monotonic());
      if (!due.empty()) per_ms[ms_of(clock.monotonic())] = static_cast<int>(due.size());
      seen.insert(due.begin(), due.end());
      clock.advance(1ms);
    }
    CHECK(seen.size() == 1000);  // each came due once within its first interval
    int busiest = 0;
    for (const auto& [ms, n] : per_ms) busiest = std::max(busiest, n);
    CHECK(busiest < 20);         // 1000 over 1000 ms: a handful per millisecond at worst
    CHECK(per_ms.size() > 500);  // and spread across most of the second

    SUBCASE("each keeps its own phase in the next interval") {
      std::map<std::int64_t, int> second;
      while (clock.monotonic() < start + 2s) {
        auto due = s.take_due(clock.monotonic());
        if (!due.empty()) second[ms_of(clock.monotonic()) - 1000] = static_cast<int>(due.size());
        clock.advance(1ms);
      }
      CHECK(second == per_ms);
    }
  }

  TEST_CASE("take_due returns an account at its first slot, not a millisecond earlier") {
    FakeClock clock;
    Schedule s;
    s.set("acct", 3s, clock.monotonic());
    const SteadyPoint expected = *s.next_due();
    CHECK(first_due(s, clock, "acct", 3s) == expected);
  }

  TEST_CASE("take_due returns accounts earliest first") {
    FakeClock clock;
    Schedule s;
    std::map<std::string, SteadyPoint> first;
    for (int i = 0; i < 200; ++i) {
      s.set(name(i), 1min, clock.monotonic());
      Schedule one;
      one.set(name(i), 1min, clock.monotonic());
      first[name(i)] = *one.next_due();
    }
    const auto due = s.take_due(clock.monotonic() + 10s);
    REQUIRE(due.size() == 200);
    for (std::size_t i = 1; i < due.size(); ++i) CHECK(first[due[i - 1]] <= first[due[i]]);
  }

  TEST_CASE("10000 accounts on 1 s: each is due exactly once per second") {
    FakeClock clock;
    Schedule s;
    for (int i = 0; i < 10'000; ++i) s.set(name(i), 1s, clock.monotonic());
    std::map<std::string, int> times;
    const SteadyPoint start = clock.monotonic();
    // Stepping 7 ms at a time, as a loop that wakes late would.
    while (clock.monotonic() < start + 3s) {
      for (const auto& a : s.take_due(clock.monotonic())) ++times[a];
      CHECK(*s.next_due() > clock.monotonic());
      clock.advance(7ms);
    }
    // The last millisecond of the third second, which the 7 ms steps jumped over.
    for (const auto& a : s.take_due(start + 3s - 1ms)) ++times[a];
    CHECK(times.size() == 10'000);
    bool all_three = true;
    for (const auto& [account, n] : times) all_three = all_three && n == 3;
    CHECK(all_three);
  }

  TEST_CASE("removed or replaced entries never come due") {
    FakeClock clock;
    Schedule s;
    s.set("gone", 1s, clock.monotonic());
    s.set("kept", 1s, clock.monotonic());
    s.remove("gone");
    s.set("again", 10min, clock.monotonic());
    s.retain({"kept"});
    // Churn well beyond the live size: stale heap entries must not leak out or pile up.
    for (int i = 0; i < 1000; ++i) {
      s.set("churn", 1h, clock.monotonic());
      s.remove("churn");
    }
    CHECK(s.size() == 1);
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
      for (const auto& a : s.take_due(clock.monotonic())) seen.insert(a);
      clock.advance(500ms);
    }
    CHECK(seen == std::set<std::string>{"kept"});

    SUBCASE("an account removed and added again starts a fresh schedule") {
      s.set("gone", 1min, clock.monotonic());
      Schedule fresh;
      fresh.set("gone", 1min, clock.monotonic());
      s.remove("kept");
      CHECK(*s.next_due() == *fresh.next_due());
      CHECK(s.take_due(*fresh.next_due()) == std::vector<std::string>{"gone"});
    }
  }
}
