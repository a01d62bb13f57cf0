// The Assessor's forecast ledgers across a restart: save_ledgers() leaves a snapshot in the
// store, and a new Assessor (a restarted daemon) resumes from it plus the readings stored
// after it, ending up with the ledger the old one built live; without a snapshot it falls
// back to the readings of the forecast window. Real SQLite, a fake clock, a provider whose
// balance the test sets.
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

using namespace creditwatch;
using creditwatch::testing::FakeClock;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// Answers with whatever balance the test last set.
class SetBalance final : public providers::Provider {
public:
  void set(std::int64_t micros) { m_micros = micros; }
  providers::ProbeResult probe(http::Client&) override {
    return providers::Reading{{{"USD", Decimal::from_micros(m_micros), std::nullopt, nlohmann::json::object()}}, true, ""};
  }

private:
  std::int64_t m_micros = 0;
};

// Never called: SetBalance does not use the network.
class NoNetwork final : public http::Client {
public:
  http::Outcome send(const http::Request&) override {
    return http::Failure{http::FailureKind::connect, "no network in this test", Duration{0}};
  }
};

constexpr auto k_interval = 10min;

struct Fleet {
  TempDir dir;
  FakeClock clock;
  storage::SqliteStore store{dir.file("cw.db")};
  SetBalance provider;
  NoNetwork client;
  config::AccountConfig account;
  std::int64_t balance = 900'000'000;
  int step = 0;

  Fleet() {
    account.name = "acct";
    account.provider = "scripted";
    account.tuning.interval = k_interval;
    // A window (2 x burn window + 1 day = 5 days) shorter than the history, so a ledger
    // rebuilt from it differs from the one kept live.
    account.tuning.burn_window = 48h;
  }

  // One reading per interval over `span`, spending more in the afternoons and more on some
  // days than others, with the balance unchanged for two hours every day (longer than the
  // ledger holds a repeated balance, so the store starts a second run) and a top-up on the
  // fifth day.
  std::optional<forecast::Forecast> run(scheduler::Assessor& assessor, Duration span) {
    std::optional<forecast::Forecast> latest;
    for (auto t = Duration{0}; t < span; t += k_interval, ++step) {
      clock.advance(k_interval);
      const int minute_of_day = (step * 10) % 1440;
      if (minute_of_day >= 120 && minute_of_day < 240) {
        // held: no spend
      } else {
        const std::int64_t day_factor = 10 + (step / 144 * 37) % 11;  // days differ: 1.0x to 2.0x
        balance -= (minute_of_day >= 720 && minute_of_day < 1080 ? 3'100 : 900) * day_factor;
      }
      if (step == 5 * 144 + 7) balance += 400'000'000;
      provider.set(balance);
      latest = assessor.probe(account, provider, client, {}).forecast;
    }
    return latest;
  }
};

// Every figure of a forecast but samples_used (a replayed run counts as its two ends).
void check_same(const forecast::Forecast& a, const forecast::Forecast& b) {
  CHECK(a.balance == b.balance);
  CHECK(a.at == b.at);
  CHECK(a.burn_per_day == b.burn_per_day);
  CHECK(a.runway_days == b.runway_days);
  CHECK(a.runway_p10_days == b.runway_p10_days);
  CHECK(a.settled_runway_days == b.settled_runway_days);
  CHECK(a.settled_runway_p10_days == b.settled_runway_p10_days);
  CHECK(a.exhausted_at == b.exhausted_at);
  CHECK(a.recommended_topup == b.recommended_topup);
  CHECK(a.deposits == b.deposits);
  CHECK(a.surge_hours == b.surge_hours);
  CHECK(a.spike_short_rate == b.spike_short_rate);
  CHECK(a.spike_long_rate == b.spike_long_rate);
  CHECK(a.baseline_rate == b.baseline_rate);
  CHECK(a.usual_rate_this_hour == b.usual_rate_this_hour);
  CHECK(a.note == b.note);
}

}  // namespace

TEST_SUITE("scheduler.assessment") {
  TEST_CASE("a restarted assessor resumes from the saved ledger and the readings after it") {
    Fleet fleet;
    scheduler::Assessor live(fleet.store, fleet.clock);
    fleet.run(live, 24h * 6 + 3h);
    CHECK(live.save_ledgers() == 1);
    CHECK(live.save_ledgers() == 0);  // nothing new since
    const auto snapshot = fleet.store.ledger("acct", "USD");
    REQUIRE(snapshot.has_value());
    CHECK(snapshot->at == fleet.clock.now());
    // Then more readings, stored but never saved in a snapshot (a kill -9), ending 70 minutes
    // into a held balance: a run of several readings, which a restart replays as its two ends.
    const auto kept_live = fleet.run(live, 24h * 2 + 10min);
    REQUIRE(kept_live.has_value());
    REQUIRE(kept_live->burn_per_day.has_value());

    SUBCASE("snapshot and replay give the live ledger") {
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      const auto resumed = restarted.from_store(fleet.account).forecast;
      REQUIRE(resumed.has_value());
      check_same(*resumed, *kept_live);
    }
    SUBCASE("the readings before the snapshot are not read") {
      // Rolled up and deleted: only the snapshot remembers them.
      while (fleet.store.prune(snapshot->at, snapshot->at - 24h * 400) >= storage::Store::k_prune_batch) {
      }
      REQUIRE(fleet.store.samples("acct", fleet.clock.now() - 24h * 30, "USD").front().at >= snapshot->at - 2h);
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      const auto resumed = restarted.from_store(fleet.account).forecast;
      REQUIRE(resumed.has_value());
      check_same(*resumed, *kept_live);
    }
    SUBCASE("an unreadable snapshot falls back to the window's readings") {
      // What the snapshot is for: the same restart rebuilt from five days of readings
      // forecasts differently (the days before them are gone).
      fleet.store.save_ledger("acct", "USD", storage::LedgerSnapshot{snapshot->at, "not a ledger"});
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      const auto rebuilt = restarted.from_store(fleet.account).forecast;
      REQUIRE(rebuilt.has_value());
      CHECK(rebuilt->at == kept_live->at);
      const bool same = rebuilt->burn_per_day == kept_live->burn_per_day &&
                        rebuilt->runway_p10_days == kept_live->runway_p10_days &&
                        rebuilt->settled_runway_p10_days == kept_live->settled_runway_p10_days &&
                        rebuilt->usual_rate_this_hour == kept_live->usual_rate_this_hour &&
                        rebuilt->recommended_topup == kept_live->recommended_topup;
      CHECK_FALSE(same);
    }
  }
}
