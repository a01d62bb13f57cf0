// A quota window probed through the Assessor with the injected clock and a real SQLite store:
// its refill at the announced reset is no deposit, whether the ledger is kept live or rebuilt
// from the stored readings (their details carry the reset) after a restart.
#include "creditwatch/providers/quota_window.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/store_fixtures.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace creditwatch;
using creditwatch::testing::FakeClock;
using creditwatch::testing::SqliteBackend;
using namespace std::chrono_literals;

namespace {

// A 5-hour window whose use the test sets, resetting every five hours from the clock's start.
class Window final : public providers::Provider {
public:
  Window(const Clock& clock, TimePoint start) : m_clock(clock), m_start(start) {}
  providers::ProbeResult probe(http::Client&) override {
    const auto since = m_clock.now() - m_start;
    const TimePoint resets_at = m_start + (since / 5h + 1) * 5h;
    // 2 % used every 10 minutes since the window began.
    const auto used = 2 * ((since % 5h) / 10min);
    return providers::window_reading(providers::QuotaWindow::five_hour, Decimal::from_micros((100 - used) * 1'000'000),
                                     resets_at);
  }

private:
  const Clock& m_clock;
  TimePoint m_start;
};

class NoNetwork final : public http::Client {
public:
  http::Outcome send(const http::Request&) override {
    return http::Failure{http::FailureKind::connect, "no network in this test", Duration{0}};
  }
};

}  // namespace

TEST_SUITE("scheduler.window_reset") {
  TEST_CASE("a window refilling at its reset is no deposit, live or rebuilt from the store") {
    SqliteBackend backend;
    auto store = backend.open();
    FakeClock clock;
    Window provider(clock, clock.now());
    NoNetwork client;
    config::AccountConfig account;
    account.name = "plan";
    account.provider = "scripted";
    account.tuning.interval = 10min;
    scheduler::Assessor live(*store, clock);

    std::optional<forecast::Forecast> at_reset;
    std::optional<forecast::Forecast> latest;
    for (auto t = 0min; t <= 12h; t += 10min) {
      if (t > 0min) clock.advance(10min);
      latest = live.probe(account, provider, client, {}).forecast;
      if (t == 10h) at_reset = latest;
    }
    REQUIRE(at_reset.has_value());
    CHECK(at_reset->balance == Decimal::from_micros(100'000'000));
    CHECK_FALSE(at_reset->topped_up_last);
    REQUIRE(latest.has_value());
    CHECK(latest->deposits == Decimal());
    REQUIRE(latest->window_resets_at.has_value());
    CHECK(*latest->window_resets_at == clock.now() + 3h);
    // 2 % per 10 minutes is 288 % a day, and the window (76 % left) lasts until its reset.
    REQUIRE(latest->burn_per_day.has_value());
    CHECK(*latest->burn_per_day == doctest::Approx(288).epsilon(0.05));
    CHECK_FALSE(latest->runs_out_before_reset);

    scheduler::Assessor restarted(*store, clock);
    const auto rebuilt = restarted.from_store(account);
    REQUIRE(rebuilt.forecast.has_value());
    CHECK(rebuilt.forecast->deposits == Decimal());
    CHECK(rebuilt.forecast->burn_per_day == latest->burn_per_day);
    CHECK(rebuilt.observation.window_label == "5-hour window");
  }
}
