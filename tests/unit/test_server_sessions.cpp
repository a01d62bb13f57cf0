// The session table of signed-in browsers, on a fake clock: ids are random and long, a
// session ends at its lifetime (monotonic time: a wall-clock step changes nothing), on
// close and on close_all, and the table holds no more than its cap.
#include "creditwatch/server/sessions.hpp"

#include "fakes/fake_clock.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace creditwatch;
using namespace creditwatch::server;
using namespace std::chrono_literals;

TEST_SUITE("server_sessions") {
  TEST_CASE("ids are 64 hex characters, all different, and only the ids given out are valid") {
    testing::FakeClock clock;
    SessionTable sessions(clock);
    std::set<std::string> ids;
    for (int i = 0; i < 200; ++i) {
      const auto id = sessions.open();
      CHECK(id.size() == 64);
      CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
      ids.insert(id);
    }
    CHECK(ids.size() == 200);
    CHECK(sessions.size() == 200);
    for (const auto& id : ids) CHECK(sessions.valid(id));
    const auto some = *ids.begin();
    CHECK_FALSE(sessions.valid(""));
    CHECK_FALSE(sessions.valid(some.substr(0, 63)));
    CHECK_FALSE(sessions.valid(some + "0"));
    auto flipped = some;
    flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
    CHECK_FALSE(sessions.valid(flipped));
    CHECK_FALSE(sessions.valid(std::string(64, '0')));
  }

  TEST_CASE("a session ends at its lifetime on the monotonic clock, not when the wall clock steps") {
    testing::FakeClock clock;
    SessionTable sessions(clock, {.lifetime = 12h});
    const auto id = sessions.open();
    clock.step_wall(48h);  // NTP or an operator: no time has passed
    CHECK(sessions.valid(id));
    clock.advance(12h - 1s);
    CHECK(sessions.valid(id));
    const auto later = sessions.open();
    clock.advance(1s);
    CHECK_FALSE(sessions.valid(id));
    CHECK(sessions.valid(later));
    CHECK(sessions.size() == 1);
    clock.advance(12h);
    CHECK_FALSE(sessions.valid(later));
    CHECK(sessions.size() == 0);
  }

  TEST_CASE("close ends one session, close_all ends every one") {
    testing::FakeClock clock;
    SessionTable sessions(clock);
    const auto a = sessions.open();
    const auto b = sessions.open();
    const auto c = sessions.open();
    sessions.close(b);
    sessions.close("not-a-session");
    CHECK(sessions.valid(a));
    CHECK_FALSE(sessions.valid(b));
    CHECK(sessions.valid(c));
    sessions.close_all();
    CHECK_FALSE(sessions.valid(a));
    CHECK_FALSE(sessions.valid(c));
    CHECK(sessions.size() == 0);
  }

  TEST_CASE("at the cap a new session ends the one closest to its end") {
    testing::FakeClock clock;
    SessionTable sessions(clock, {.lifetime = 1h, .max_sessions = 3});
    const auto first = sessions.open();
    clock.advance(1min);
    const auto second = sessions.open();
    const auto third = sessions.open();
    const auto fourth = sessions.open();
    CHECK_FALSE(sessions.valid(first));
    CHECK(sessions.valid(second));
    CHECK(sessions.valid(third));
    CHECK(sessions.valid(fourth));
    CHECK(sessions.size() == 3);
  }
}
