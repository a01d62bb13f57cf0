#include "creditwatch/alerts/lifecycle.hpp"

#include "fakes/fake_clock.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using creditwatch::Duration;
using creditwatch::TimePoint;
using creditwatch::alerts::AlertState;
using creditwatch::alerts::Finding;
using creditwatch::alerts::Policy;
using creditwatch::alerts::Reason;
using creditwatch::alerts::Rule;
using creditwatch::alerts::Severity;
using creditwatch::alerts::step;
using creditwatch::alerts::Transition;
using creditwatch::testing::FakeClock;
using namespace std::chrono_literals;

namespace {

Finding firing(Severity severity, Rule rule = Rule::runway) { return Finding{rule, true, severity, "firing"}; }
Finding clear(Rule rule = Rule::runway) { return Finding{rule, false, Severity::info, "clear"}; }

// Drives one alert through step() with a fake clock and records what it said at each step,
// so a test reads as the exact transition log.
class Driver {
public:
  explicit Driver(Policy policy = {}) : m_policy(policy) {}

  std::optional<Reason> feed(const Finding& finding) {
    m_last = step(m_state, finding, m_clock.now(), m_policy);
    if (m_last.changed) m_state = m_last.next;
    m_log.push_back(m_last.notify ? std::string(to_string(*m_last.notify)) : "-");
    return m_last.notify;
  }
  void advance(Duration d) { m_clock.advance(d); }
  TimePoint now() const { return m_clock.now(); }
  const std::optional<AlertState>& state() const { return m_state; }
  const Transition& last() const { return m_last; }
  const std::vector<std::string>& log() const { return m_log; }

private:
  FakeClock m_clock;
  Policy m_policy;
  std::optional<AlertState> m_state;
  Transition m_last{};
  std::vector<std::string> m_log;
};

}  // namespace

TEST_SUITE("alerts.lifecycle") {
  TEST_CASE("a new firing finding starts the alert and notifies once") {
    Driver d;
    const TimePoint t0 = d.now();
    CHECK(d.feed(firing(Severity::warning)) == Reason::started);
    CHECK(d.last().changed);
    REQUIRE(d.state());
    CHECK(d.state()->firing);
    CHECK(d.state()->severity == Severity::warning);
    CHECK(d.state()->since == t0);
    CHECK(d.state()->last_notified == t0);

    SUBCASE("the same severity again says nothing and changes nothing") {
      d.advance(5min);
      CHECK_FALSE(d.feed(firing(Severity::warning)));
      CHECK_FALSE(d.last().changed);
      CHECK(d.state()->since == t0);
      CHECK(d.state()->last_notified == t0);
    }
    SUBCASE("a severity change notifies and keeps the start time") {
      d.advance(5min);
      CHECK(d.feed(firing(Severity::critical)) == Reason::severity_changed);
      CHECK(d.last().changed);
      CHECK(d.state()->severity == Severity::critical);
      CHECK(d.state()->since == t0);
      CHECK(d.state()->last_notified == d.now());
      d.advance(5min);
      CHECK(d.feed(firing(Severity::warning)) == Reason::severity_changed);
      CHECK(d.state()->severity == Severity::warning);
    }
  }

  TEST_CASE("a still-firing alert repeats after repeat_interval, not before") {
    Driver d(Policy{1h, true});
    d.feed(firing(Severity::critical));
    d.advance(59min);
    CHECK_FALSE(d.feed(firing(Severity::critical)));
    d.advance(59s);
    CHECK_FALSE(d.feed(firing(Severity::critical)));
    d.advance(1s);
    CHECK(d.feed(firing(Severity::critical)) == Reason::repeat);
    CHECK(d.last().changed);
    CHECK(d.state()->last_notified == d.now());

    SUBCASE("the next repeat counts from the last notification") {
      d.advance(30min);
      CHECK_FALSE(d.feed(firing(Severity::critical)));
      d.advance(30min);
      CHECK(d.feed(firing(Severity::critical)) == Reason::repeat);
    }
    SUBCASE("a severity change resets the repeat timer") {
      d.advance(40min);
      CHECK(d.feed(firing(Severity::warning)) == Reason::severity_changed);
      d.advance(30min);  // 70 min after the last repeat, 30 after the change
      CHECK_FALSE(d.feed(firing(Severity::warning)));
      d.advance(30min);
      CHECK(d.feed(firing(Severity::warning)) == Reason::repeat);
    }
  }

  TEST_CASE("resolving") {
    SUBCASE("with send_resolved it notifies resolved once") {
      Driver d(Policy{24h, true});
      d.feed(firing(Severity::warning));
      d.advance(10min);
      CHECK(d.feed(clear()) == Reason::resolved);
      CHECK(d.last().changed);
      CHECK_FALSE(d.state()->firing);
      CHECK(d.state()->severity == Severity::warning);  // what it was, for the resolve message
      CHECK(d.state()->since == d.now());
      CHECK(d.state()->last_notified == d.now());
      d.advance(10min);
      CHECK_FALSE(d.feed(clear()));
      CHECK_FALSE(d.last().changed);
    }
    SUBCASE("without send_resolved the state changes silently") {
      Driver d(Policy{24h, false});
      const TimePoint t0 = d.now();
      d.feed(firing(Severity::warning));
      d.advance(10min);
      CHECK_FALSE(d.feed(clear()));
      CHECK(d.last().changed);
      CHECK_FALSE(d.state()->firing);
      CHECK(d.state()->last_notified == t0);
    }
    SUBCASE("firing again after a resolve starts a new episode") {
      Driver d;
      d.feed(firing(Severity::warning));
      d.advance(10min);
      d.feed(clear());
      d.advance(10min);
      CHECK(d.feed(firing(Severity::warning)) == Reason::started);
      CHECK(d.state()->since == d.now());
    }
  }

  TEST_CASE("the full transition log of one episode") {
    Driver d(Policy{2h, true});
    for (auto severity : {Severity::warning, Severity::warning, Severity::critical, Severity::critical,
                          Severity::critical, Severity::critical}) {
      d.feed(firing(severity));
      d.advance(1h);
    }
    d.feed(clear());
    d.advance(1h);
    d.feed(clear());
    // warning at 0h, same at 1h, critical at 2h, same at 3h, repeat at 4h, same at 5h, resolved at 6h.
    CHECK(d.log() == std::vector<std::string>{"started", "-", "severity_changed", "-", "repeat", "-", "resolved", "-"});
  }

  TEST_CASE("a clear finding for an alert that never fired changes nothing") {
    Driver d;
    CHECK_FALSE(d.feed(clear()));
    CHECK_FALSE(d.last().changed);
    CHECK_FALSE(d.state());

    SUBCASE("nor for one stored as resolved") {
      AlertState resolved{false, Severity::critical, d.now() - 1h, d.now() - 1h};
      auto t = step(resolved, clear(), d.now(), Policy{});
      CHECK_FALSE(t.notify);
      CHECK_FALSE(t.changed);
    }
  }

  TEST_CASE("topped_up is an event: one notification per deposit, never left firing") {
    Driver d(Policy{1h, true});
    CHECK(d.feed(firing(Severity::info, Rule::topped_up)) == Reason::started);
    CHECK(d.last().changed);
    REQUIRE(d.state());
    CHECK_FALSE(d.state()->firing);
    CHECK(d.state()->last_notified == d.now());

    SUBCASE("the readings after the deposit say nothing, however long it lasts") {
      for (int i = 0; i < 5; ++i) {
        d.advance(1h);
        CHECK_FALSE(d.feed(clear(Rule::topped_up)));
        CHECK_FALSE(d.last().changed);
      }
      CHECK(d.log() == std::vector<std::string>{"started", "-", "-", "-", "-", "-"});
    }
    SUBCASE("a second deposit notifies again, with no resolve in between") {
      d.advance(10min);
      d.feed(clear(Rule::topped_up));
      d.advance(10min);
      CHECK(d.feed(firing(Severity::info, Rule::topped_up)) == Reason::started);
      CHECK_FALSE(d.state()->firing);
      CHECK(d.log() == std::vector<std::string>{"started", "-", "started"});
    }
  }
}
