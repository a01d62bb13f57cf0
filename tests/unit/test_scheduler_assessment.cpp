// The Assessor's forecast ledgers across a restart: save_ledgers() leaves a snapshot in the
// store, and a new Assessor (a restarted daemon) resumes from it plus the readings stored
// after it, ending up with the ledger the old one built live; without a snapshot it falls
// back to the readings of the forecast window. Preloaded at start (Assessor::preload), the
// ledgers forecast as those loaded at the first probe. Real SQLite (and real PostgreSQL for
// the preload), a fake clock, a provider whose balance the test sets.
#include "creditwatch/scheduler/assessment.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/store_fixtures.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace creditwatch;
using creditwatch::testing::FakeClock;
using creditwatch::testing::PostgresBackend;
using creditwatch::testing::SqliteBackend;
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

template <typename Backend>
struct FleetOn {
  Backend backend;
  std::unique_ptr<storage::Store> owner = backend.open();
  storage::Store& store = *owner;
  FakeClock clock;
  SetBalance provider;
  NoNetwork client;
  config::AccountConfig account;
  std::int64_t balance = 900'000'000;
  int step = 0;

  FleetOn() {
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
using Fleet = FleetOn<SqliteBackend>;

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
  TEST_CASE_TEMPLATE("preloaded ledgers forecast as those loaded at the first probe", Backend, SqliteBackend,
                     PostgresBackend) {
    if constexpr (Backend::k_shared) {
      if (creditwatch::testing::PostgresServer::skipped()) return;
    }
    FleetOn<Backend> fleet;
    scheduler::Assessor live(fleet.store, fleet.clock);
    fleet.run(live, 24h * 6 + 3h);
    REQUIRE(live.save_ledgers() == 1);
    const auto snapshot = fleet.store.ledger("acct", "USD");
    REQUIRE(snapshot.has_value());
    // Then two days of readings after the snapshot (a kill -9 before the next save).
    const auto kept_live = fleet.run(live, 24h * 2 + 10min);
    REQUIRE(kept_live.has_value());
    REQUIRE(kept_live->burn_per_day.has_value());
    // A second account with readings and no snapshot: loaded one by one.
    config::AccountConfig fresh = fleet.account;
    fresh.name = "fresh";
    for (int i = 0; i < 30; ++i) {
      const auto at = fleet.clock.now() - 300min + i * 10min;
      const auto balance = Decimal::from_micros(500'000'000 - i * 1'000'000);
      fleet.store.add_samples({{"fresh", at, "USD", balance, std::nullopt, ""}}, {"fresh", at, "ok", 200, 0.1, ""});
    }
    const std::vector<const config::AccountConfig*> accounts{&fleet.account, &fresh};
    const auto never = [] { return false; };
    scheduler::Assessor lazy(fleet.store, fleet.clock);
    const auto fresh_lazy = lazy.from_store(fresh).forecast;
    REQUIRE(fresh_lazy.has_value());

    SUBCASE("from the snapshot and the runs after it, then a probe adds its reading once") {
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      CHECK(restarted.preload(accounts, never) == 2);
      // From here the store's snapshot is unreadable: a ledger loaded now would be rebuilt
      // from the window's readings and forecast differently (the case above), so the
      // forecasts below come from what preload() put in the cache.
      fleet.store.save_ledger("acct", "USD", storage::LedgerSnapshot{snapshot->at, "not a ledger"});
      const auto resumed = restarted.from_store(fleet.account).forecast;
      REQUIRE(resumed.has_value());
      check_same(*resumed, *kept_live);
      const auto fresh_preloaded = restarted.from_store(fresh).forecast;
      REQUIRE(fresh_preloaded.has_value());
      check_same(*fresh_preloaded, *fresh_lazy);
      // The next reading, taken by the live assessor, then by the restarted one at the same
      // instant (stored once, added to its preloaded ledger once): the same forecast.
      fleet.clock.advance(k_interval);
      fleet.balance -= 5'000;
      fleet.provider.set(fleet.balance);
      const auto next_live = live.probe(fleet.account, fleet.provider, fleet.client, {}).forecast;
      const auto next_restarted = restarted.probe(fleet.account, fleet.provider, fleet.client, {}).forecast;
      REQUIRE(next_live.has_value());
      REQUIRE(next_restarted.has_value());
      check_same(*next_restarted, *next_live);
      // And one more, new to both.
      fleet.clock.advance(k_interval);
      fleet.balance -= 7'000;
      fleet.provider.set(fleet.balance);
      const auto again_live = live.probe(fleet.account, fleet.provider, fleet.client, {}).forecast;
      const auto again_restarted = restarted.probe(fleet.account, fleet.provider, fleet.client, {}).forecast;
      REQUIRE(again_live.has_value());
      REQUIRE(again_restarted.has_value());
      check_same(*again_restarted, *again_live);
    }
    SUBCASE("an unreadable snapshot (another version) is rebuilt from the window, as a lazy load does") {
      fleet.store.save_ledger("acct", "USD", storage::LedgerSnapshot{snapshot->at, "not a ledger"});
      const auto rebuilt_lazy = scheduler::Assessor(fleet.store, fleet.clock).from_store(fleet.account).forecast;
      REQUIRE(rebuilt_lazy.has_value());
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      CHECK(restarted.preload(accounts, never) == 2);
      const auto rebuilt = restarted.from_store(fleet.account).forecast;
      REQUIRE(rebuilt.has_value());
      check_same(*rebuilt, *rebuilt_lazy);
    }
    SUBCASE("a probe that got there first keeps the ledger it loaded") {
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      fleet.clock.advance(k_interval);
      fleet.provider.set(fleet.balance - 5'000);
      const auto probed = restarted.probe(fleet.account, fleet.provider, fleet.client, {}).forecast;
      CHECK(restarted.preload(accounts, never) == 1);  // "fresh" only
      const auto after = restarted.from_store(fleet.account).forecast;
      REQUIRE(probed.has_value());
      REQUIRE(after.has_value());
      check_same(*after, *probed);
    }
    SUBCASE("an account forgotten while the preload runs is not added") {
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      bool forgot = false;
      // Asked between accounts: the first time, the account's ownership moves away.
      const auto forget_once = [&] {
        if (!forgot) restarted.forget("acct");
        forgot = true;
        return false;
      };
      CHECK(restarted.preload(accounts, forget_once) == 1);
      CHECK(forgot);
      CHECK(restarted.save_ledgers() == 1);  // only "fresh" is cached
    }
    SUBCASE("an account forgotten after the preload began, before it ran, is not added") {
      // The Monitor begins the preload, then chooses the owned accounts; a renewal on another
      // thread may forget one before the preload thread gets going.
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      restarted.begin_preload();
      restarted.forget("acct");
      CHECK(restarted.preload(accounts, never) == 1);
      CHECK(restarted.save_ledgers() == 1);  // only "fresh" is cached
      // That preload is over: the next one adds it ("fresh" is cached already).
      CHECK(restarted.preload(accounts, never) == 1);
      CHECK(restarted.save_ledgers() == 1);
    }
    SUBCASE("stopped, it adds nothing more") {
      scheduler::Assessor restarted(fleet.store, fleet.clock);
      CHECK(restarted.preload(accounts, [] { return true; }) == 0);
      CHECK(restarted.save_ledgers() == 0);
    }
  }
}
