// Failed sign-ins per client on a fake clock: a few a minute, then a wait until the oldest
// failure leaves the window; clients are counted apart (an IPv6 /64 as one), and a success
// clears the count.
#include "creditwatch/server/sign_in_limiter.hpp"

#include "fakes/fake_clock.hpp"

#include <doctest/doctest.h>

using namespace creditwatch;
using namespace creditwatch::server;
using namespace std::chrono_literals;

TEST_SUITE("server_sign_in_limiter") {
  TEST_CASE("five failures a minute, then a wait until the oldest one is a minute old") {
    testing::FakeClock clock;
    SignInLimiter limiter(clock, {.max_failures = 5, .window = 1min});
    for (std::size_t i = 1; i <= 4; ++i) {
      CHECK(limiter.wait("192.0.2.1") == Duration::zero());
      CHECK(limiter.fail("192.0.2.1") == i);
      clock.advance(1s);
    }
    CHECK(limiter.wait("192.0.2.1") == Duration::zero());
    CHECK(limiter.fail("192.0.2.1") == 5);
    // The first failure was at 0 s, now is 4 s: 56 s to wait.
    CHECK(limiter.wait("192.0.2.1") == 56s);
    CHECK(limiter.wait("192.0.2.2") == Duration::zero());  // another client is not held up
    clock.advance(55s);
    CHECK(limiter.wait("192.0.2.1") == 1s);
    clock.advance(1s);
    CHECK(limiter.wait("192.0.2.1") == Duration::zero());
    // One more failure right away fills the window again: wait for the next oldest (at 1 s).
    CHECK(limiter.fail("192.0.2.1") == 5);
    CHECK(limiter.wait("192.0.2.1") == 1s);
  }

  TEST_CASE("a success clears the count, and old failures age out") {
    testing::FakeClock clock;
    SignInLimiter limiter(clock, {.max_failures = 3, .window = 1min});
    limiter.fail("198.51.100.7");
    limiter.fail("198.51.100.7");
    limiter.forget("198.51.100.7");
    CHECK(limiter.fail("198.51.100.7") == 1);
    clock.advance(61s);
    CHECK(limiter.fail("198.51.100.7") == 1);
  }

  TEST_CASE("IPv6 clients in one /64 share a count, other /64s do not") {
    testing::FakeClock clock;
    SignInLimiter limiter(clock, {.max_failures = 2, .window = 1min});
    limiter.fail("2001:db8:1:2::1");
    limiter.fail("2001:db8:1:2:ffff:ffff:ffff:fffe");
    CHECK(limiter.wait("2001:db8:1:2::abcd") > Duration::zero());
    CHECK(limiter.wait("2001:db8:1:3::1") == Duration::zero());
  }

  TEST_CASE("past max_clients the idle ones are forgotten, memory stays bounded") {
    testing::FakeClock clock;
    SignInLimiter limiter(clock, {.max_failures = 1, .window = 1min, .max_clients = 2});
    limiter.fail("10.0.0.1");
    clock.advance(1s);
    limiter.fail("10.0.0.2");
    clock.advance(1s);
    limiter.fail("10.0.0.3");  // forgets 10.0.0.1, the one idle longest
    CHECK(limiter.wait("10.0.0.1") == Duration::zero());
    CHECK(limiter.wait("10.0.0.2") > Duration::zero());
    CHECK(limiter.wait("10.0.0.3") > Duration::zero());
  }
}
