#include "creditwatch/scheduler/alert_engine.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::TimePoint;
using creditwatch::alerts::Finding;
using creditwatch::alerts::Rule;
using creditwatch::alerts::Severity;
using creditwatch::config::AccountConfig;
using creditwatch::config::NotifierConfig;
using creditwatch::scheduler::AlertEngine;
using creditwatch::scheduler::Assessment;
using creditwatch::scheduler::Runtime;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using creditwatch::storage::SqliteStore;
using creditwatch::storage::Store;
using creditwatch::testing::FakeClock;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

NotifierConfig notifier(const std::string& name, const std::string& min_severity = "info") {
  NotifierConfig n;
  n.name = name;
  n.type = "console";
  n.min_severity = min_severity;
  return n;
}

AccountConfig account(const std::string& name, std::vector<std::string> notify = {}) {
  AccountConfig a;
  a.name = name;
  a.provider = "simulated";
  a.labels = {{"team", "bots"}};
  a.notify = std::move(notify);
  return a;
}

// slack takes everything, mail warnings and up, pd only critical. The engine routes by name
// only, so the notifier objects themselves may be absent.
Runtime make_runtime(std::vector<AccountConfig> accounts) {
  Runtime r;
  r.config.accounts = std::move(accounts);
  r.config.notifiers = {notifier("slack"), notifier("mail", "warning"), notifier("pd", "critical")};
  for (const auto& n : r.config.notifiers) r.notifiers[n.name] = nullptr;
  r.config.alerting.repeat_interval = 1h;
  r.config.alerting.send_resolved = true;
  return r;
}

Assessment assessment(const std::string& name, TimePoint now, std::vector<Finding> findings) {
  Assessment a;
  a.account = name;
  a.provider = "simulated";
  a.currency = "USD";
  creditwatch::forecast::Forecast f;
  f.balance = *Decimal::parse("12.50");
  f.at = now;
  f.burn_per_day = 5.0;
  f.runway_days = 2.5;
  f.runway_p10_days = 2.0;
  f.exhausted_at = now + 60h;
  f.recommended_topup = *Decimal::parse("160");
  a.forecast = f;
  a.findings = std::move(findings);
  return a;
}

Finding runway(Severity severity) { return Finding{Rule::runway, true, severity, "runway 2 days"}; }
Finding runway_clear() { return Finding{Rule::runway, false, Severity::warning, "runway 20 days"}; }

std::vector<std::string> notifiers_of(const std::vector<OutboxRow>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row.notifier);
  std::sort(out.begin(), out.end());
  return out;
}

// Rows queued since `seen` rows were already there.
std::vector<OutboxRow> new_rows(Store& store, std::size_t& seen) {
  auto all = store.notifications();
  std::vector<OutboxRow> out(all.begin() + static_cast<std::ptrdiff_t>(seen), all.end());
  seen = all.size();
  return out;
}

using Names = std::vector<std::string>;

struct Fixture {
  TempDir dir;
  FakeClock clock;
  std::string path = dir.file("creditwatch.db");
  SqliteStore store{path};
  std::size_t seen = 0;
};

}  // namespace

TEST_SUITE("scheduler.alert_engine") {
  TEST_CASE("a critical runway finding writes the alert and one outbox row per routed notifier") {
    Fixture f;
    AlertEngine engine(f.store, f.clock);
    const auto runtime = make_runtime({account("acct")});
    const TimePoint now = f.clock.now();

    CHECK(engine.apply(runtime.config.accounts[0], assessment("acct", now, {runway(Severity::critical)}), runtime) ==
          3);
    auto alerts = f.store.alerts("acct");
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].rule == "runway");
    CHECK(alerts[0].state == "firing");
    CHECK(alerts[0].severity == "critical");
    CHECK(alerts[0].since == now);
    CHECK(alerts[0].last_notified == now);

    auto rows = new_rows(f.store, f.seen);
    CHECK(notifiers_of(rows) == Names{"mail", "pd", "slack"});
    for (const auto& row : rows) {
      CHECK(row.state == OutboxState::pending);
      CHECK(row.next_attempt == now);  // due at once
      CHECK(row.dedup_key == "creditwatch-acct-runway");
      auto payload = nlohmann::json::parse(row.payload_json);
      CHECK(payload["status"] == "firing");
      CHECK(payload["reason"] == "started");
      CHECK(payload["severity"] == "critical");
      CHECK(payload["account"] == "acct");
      CHECK(payload["rule"] == "runway");
      CHECK(payload["balance"] == "12.50");
      CHECK(payload["currency"] == "USD");
      CHECK(payload["labels"]["team"] == "bots");
      CHECK(payload["recommended_topup"] == "160.00");
    }
    CHECK(engine.firing("acct") == std::map<Rule, Severity>{{Rule::runway, Severity::critical}});
    CHECK(engine.firing("other").empty());

    SUBCASE("the same finding again queues nothing") {
      f.clock.advance(5min);
      CHECK(engine.apply(runtime.config.accounts[0],
                         assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime) == 0);
      CHECK(new_rows(f.store, f.seen).empty());
    }
  }

  TEST_CASE("routing honours account.notify and each notifier's min_severity") {
    Fixture f;
    AlertEngine engine(f.store, f.clock);
    auto runtime = make_runtime({account("acct", {"slack", "pd"})});
    const auto& acct = runtime.config.accounts[0];

    SUBCASE("warning: only the listed notifiers that take warnings") {
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime) == 1);
      CHECK(notifiers_of(new_rows(f.store, f.seen)) == Names{"slack"});

      f.clock.advance(5min);
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime) == 2);
      auto rows = new_rows(f.store, f.seen);
      CHECK(notifiers_of(rows) == Names{"pd", "slack"});
      CHECK(nlohmann::json::parse(rows[0].payload_json)["reason"] == "severity_changed");
    }
    SUBCASE("info (topped_up) goes to slack alone and leaves nothing firing") {
      Finding deposit{Rule::topped_up, true, Severity::info, "balance rose to 112.50"};
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {deposit}), runtime) == 1);
      CHECK(notifiers_of(new_rows(f.store, f.seen)) == Names{"slack"});
      CHECK(engine.firing("acct").empty());
    }
    SUBCASE("an empty notify list means every notifier") {
      auto everyone = make_runtime({account("acct")});
      CHECK(engine.apply(everyone.config.accounts[0], assessment("acct", f.clock.now(), {runway(Severity::warning)}),
                         everyone) == 2);
      CHECK(notifiers_of(new_rows(f.store, f.seen)) == Names{"mail", "slack"});
    }
    SUBCASE("a finding that never fired writes nothing") {
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway_clear()}), runtime) == 0);
      CHECK(f.store.alerts().empty());
      CHECK(f.store.notifications().empty());
    }
  }

  TEST_CASE("a resolve goes to the notifiers that heard about the alert") {
    Fixture f;
    AlertEngine engine(f.store, f.clock);
    auto runtime = make_runtime({account("acct")});
    const auto& acct = runtime.config.accounts[0];

    SUBCASE("critical then resolved") {
      engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime);
      new_rows(f.store, f.seen);
      f.clock.advance(1h + 5min);  // past repeat_interval, but the alert clears
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway_clear()}), runtime) == 3);
      auto rows = new_rows(f.store, f.seen);
      CHECK(notifiers_of(rows) == Names{"mail", "pd", "slack"});
      for (const auto& row : rows) {
        auto payload = nlohmann::json::parse(row.payload_json);
        CHECK(payload["status"] == "resolved");
        CHECK(payload["dedup_key"] == "creditwatch-acct-runway");
      }
      CHECK(f.store.alerts("acct")[0].state == "resolved");
      CHECK(engine.firing("acct").empty());
    }
    SUBCASE("critical, down to warning, then resolved: pd still hears the resolve") {
      engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime);
      f.clock.advance(5min);
      engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime);
      new_rows(f.store, f.seen);
      f.clock.advance(5min);
      engine.apply(acct, assessment("acct", f.clock.now(), {runway_clear()}), runtime);
      CHECK(notifiers_of(new_rows(f.store, f.seen)) == Names{"mail", "pd", "slack"});
    }
    SUBCASE("warning then resolved: pd never heard of it and hears nothing") {
      engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime);
      new_rows(f.store, f.seen);
      f.clock.advance(5min);
      engine.apply(acct, assessment("acct", f.clock.now(), {runway_clear()}), runtime);
      CHECK(notifiers_of(new_rows(f.store, f.seen)) == Names{"mail", "slack"});
    }
    SUBCASE("without send_resolved the state is saved but nobody is told") {
      runtime.config.alerting.send_resolved = false;
      engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime);
      new_rows(f.store, f.seen);
      f.clock.advance(5min);
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway_clear()}), runtime) == 0);
      CHECK(new_rows(f.store, f.seen).empty());
      CHECK(f.store.alerts("acct")[0].state == "resolved");
    }
  }

  TEST_CASE("a still-firing alert repeats every repeat_interval") {
    Fixture f;
    AlertEngine engine(f.store, f.clock);
    auto runtime = make_runtime({account("acct", {"slack"})});
    const auto& acct = runtime.config.accounts[0];
    engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime);
    new_rows(f.store, f.seen);

    f.clock.advance(59min);
    CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime) == 0);
    f.clock.advance(1min);
    CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime) == 1);
    auto rows = new_rows(f.store, f.seen);
    REQUIRE(rows.size() == 1);
    CHECK(nlohmann::json::parse(rows[0].payload_json)["reason"] == "repeat");
    CHECK(f.store.alerts("acct")[0].last_notified == f.clock.now());
  }

  TEST_CASE("a wall-clock step neither brings reminders forward nor holds them back") {
    Fixture f;
    AlertEngine engine(f.store, f.clock);
    auto runtime = make_runtime({account("acct", {"slack"})});
    const auto& acct = runtime.config.accounts[0];
    auto again = [&] { return engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime); };
    REQUIRE(again() == 1);

    f.clock.step_wall(24h);  // NTP or an operator: no time has passed
    CHECK(again() == 0);
    f.clock.advance(1h);  // repeat_interval of real time
    CHECK(again() == 1);
    CHECK(f.store.alerts("acct")[0].last_notified == f.clock.now());  // stored as wall time

    f.clock.step_wall(-2h);
    f.clock.advance(59min);
    CHECK(again() == 0);
    f.clock.advance(1min);
    CHECK(again() == 1);

    SUBCASE("after a restart the reminder counts from the stored notification's age") {
      new_rows(f.store, f.seen);
      f.clock.advance(30min);
      AlertEngine restarted(f.store, f.clock);
      CHECK(restarted.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime) == 0);
      f.clock.advance(30min);
      CHECK(restarted.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::warning)}), runtime) == 1);
    }
  }

  TEST_CASE("state survives a new engine on the same database") {
    Fixture f;
    auto runtime = make_runtime({account("acct", {"slack"}), account("other", {"slack"})});
    const auto& acct = runtime.config.accounts[0];
    const TimePoint start = f.clock.now();
    {
      AlertEngine engine(f.store, f.clock);
      engine.apply(acct, assessment("acct", start, {runway(Severity::critical)}), runtime);
      engine.apply(runtime.config.accounts[1], assessment("other", start, {runway(Severity::warning)}), runtime);
      f.clock.advance(1min);
      engine.apply(runtime.config.accounts[1], assessment("other", f.clock.now(), {runway_clear()}), runtime);
    }
    new_rows(f.store, f.seen);

    f.clock.advance(10min);
    SqliteStore reopened(f.path);
    AlertEngine engine(reopened, f.clock);
    CHECK(engine.firing("acct") == std::map<Rule, Severity>{{Rule::runway, Severity::critical}});
    CHECK(engine.firing("other").empty());

    SUBCASE("an unchanged firing alert is not notified again") {
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime) == 0);
      CHECK(new_rows(reopened, f.seen).empty());
    }
    SUBCASE("the repeat timer counts from the notification before the restart") {
      f.clock.set(start + 1h);
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime) == 1);
      CHECK(nlohmann::json::parse(new_rows(reopened, f.seen)[0].payload_json)["reason"] == "repeat");
    }
    SUBCASE("it can still resolve") {
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway_clear()}), runtime) == 1);
      CHECK(reopened.alerts("acct")[0].since == f.clock.now());
    }
    SUBCASE("an episode's highest severity survives too, so the resolve still reaches pd") {
      auto everyone = make_runtime({account("acct")});
      const auto& all = everyone.config.accounts[0];
      {
        AlertEngine before(reopened, f.clock);
        before.apply(all, assessment("acct", f.clock.now(), {runway(Severity::warning)}), everyone);
      }
      new_rows(reopened, f.seen);
      f.clock.advance(1min);
      AlertEngine after(reopened, f.clock);
      CHECK(after.firing("acct") == std::map<Rule, Severity>{{Rule::runway, Severity::warning}});
      CHECK(after.apply(all, assessment("acct", f.clock.now(), {runway_clear()}), everyone) == 3);
      CHECK(notifiers_of(new_rows(reopened, f.seen)) == Names{"mail", "pd", "slack"});
    }
    SUBCASE("a resolved alert stays quiet") {
      CHECK(engine.apply(runtime.config.accounts[1], assessment("other", f.clock.now(), {runway_clear()}), runtime) ==
            0);
    }
  }
}

namespace {

// A state-keeping sink like Alertmanager: asks to hear firing alerts every minute.
class RefreshingSink final : public creditwatch::notify::Notifier {
public:
  creditwatch::notify::DeliveryResult deliver(const creditwatch::notify::Notification&,
                                              creditwatch::http::Client&) override {
    return {};
  }
  std::optional<creditwatch::Duration> refresh_interval() const override { return 1min; }
};

std::vector<OutboxRow> rows_of(Store& store, const std::string& notifier, std::optional<OutboxState> state = {}) {
  std::vector<OutboxRow> out;
  for (const auto& row : store.notifications(state)) {
    if (row.notifier == notifier) out.push_back(row);
  }
  return out;
}

}  // namespace

TEST_SUITE("scheduler.alert_engine") {
  TEST_CASE("firing alerts are re-queued every refresh_interval for a refreshing notifier and nowhere else") {
    Fixture f;
    AlertEngine engine(f.store, f.clock);
    auto runtime = make_runtime({account("acct")});
    runtime.config.notifiers.push_back(notifier("am"));
    runtime.notifiers["am"] = std::make_shared<RefreshingSink>();
    const auto& acct = runtime.config.accounts[0];

    CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime) == 4);
    REQUIRE(rows_of(f.store, "am").size() == 1);
    CHECK(engine.refresh(runtime) == 0);  // the start itself counts as the first post
    f.store.mark_delivered(rows_of(f.store, "am")[0].id, f.clock.now());

    f.clock.advance(59s);
    CHECK(engine.refresh(runtime) == 0);
    f.clock.advance(2s);
    CHECK(engine.refresh(runtime) == 1);
    auto pending = rows_of(f.store, "am", OutboxState::pending);
    REQUIRE(pending.size() == 1);
    auto payload = nlohmann::json::parse(pending[0].payload_json);
    CHECK(payload["status"] == "firing");
    CHECK(payload["reason"] == "repeat");
    CHECK(payload["severity"] == "critical");
    CHECK(payload["ts_ms"] == creditwatch::to_unix_ms(f.clock.now()));
    CHECK(pending[0].dedup_key == "creditwatch-acct-runway");
    CHECK(rows_of(f.store, "slack").size() == 1);  // the others hear nothing more
    CHECK(rows_of(f.store, "pd").size() == 1);

    SUBCASE("a wall clock stepped back an hour does not hold refreshes back") {
      f.store.mark_delivered(pending[0].id, f.clock.now());
      f.clock.step_wall(-1h);
      f.clock.advance(61s);
      CHECK(engine.refresh(runtime) == 1);
      f.store.mark_delivered(rows_of(f.store, "am", OutboxState::pending).at(0).id, f.clock.now());
      f.clock.step_wall(24h);
      CHECK(engine.refresh(runtime) == 0);  // nor does one a day forward bring one early
    }
    SUBCASE("a sink that is down collects one pending refresh, not one per interval") {
      f.clock.advance(61s);
      CHECK(engine.refresh(runtime) == 0);
      CHECK(rows_of(f.store, "am", OutboxState::pending).size() == 1);
    }
    SUBCASE("the refresh carries the latest figures seen while firing") {
      f.store.mark_delivered(pending[0].id, f.clock.now());
      auto later = assessment("acct", f.clock.now(), {runway(Severity::critical)});
      later.forecast->balance = *Decimal::parse("7.25");
      CHECK(engine.apply(acct, later, runtime) == 0);
      f.clock.advance(61s);
      CHECK(engine.refresh(runtime) == 1);
      auto rows = rows_of(f.store, "am", OutboxState::pending);
      REQUIRE(rows.size() == 1);
      CHECK(nlohmann::json::parse(rows[0].payload_json)["balance"] == "7.25");
    }
    SUBCASE("a resolve replaces the pending refresh and ends the refreshes") {
      f.clock.advance(10s);
      CHECK(engine.apply(acct, assessment("acct", f.clock.now(), {runway_clear()}), runtime) == 4);
      auto rows = rows_of(f.store, "am", OutboxState::pending);
      REQUIRE(rows.size() == 1);
      CHECK(nlohmann::json::parse(rows[0].payload_json)["status"] == "resolved");
      // Sinks without refresh keep every notification.
      CHECK(rows_of(f.store, "slack").size() == 2);
      f.clock.advance(5min);
      CHECK(engine.refresh(runtime) == 0);
    }
    SUBCASE("after a restart the first refresh goes out at once") {
      f.store.mark_delivered(pending[0].id, f.clock.now());
      AlertEngine restarted(f.store, f.clock);
      CHECK(restarted.refresh(runtime) == 0);  // no figures yet: nothing to say
      CHECK(restarted.apply(acct, assessment("acct", f.clock.now(), {runway(Severity::critical)}), runtime) == 0);
      CHECK(restarted.refresh(runtime) == 1);
    }
  }
}
