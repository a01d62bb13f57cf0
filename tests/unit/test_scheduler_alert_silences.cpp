// Silences and acknowledgements in the alert engine, on real SQLite and real PostgreSQL with a
// fake clock: what is held, what is released and when, and what an ack stops.
#include "creditwatch/scheduler/alert_engine.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/store_fixtures.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::TimePoint;
using creditwatch::alerts::Finding;
using creditwatch::alerts::Rule;
using creditwatch::alerts::Severity;
using creditwatch::config::AccountConfig;
using creditwatch::config::NotifierConfig;
using creditwatch::scheduler::AckOutcome;
using creditwatch::scheduler::AlertEngine;
using creditwatch::scheduler::Assessment;
using creditwatch::scheduler::Runtime;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::SilenceRow;
using creditwatch::storage::Store;
using creditwatch::testing::FakeClock;
using creditwatch::testing::PostgresBackend;
using creditwatch::testing::SqliteBackend;
using namespace std::chrono_literals;

namespace {

NotifierConfig notifier(const std::string& name, const std::string& min_severity) {
  NotifierConfig n;
  n.name = name;
  n.type = "console";
  n.min_severity = min_severity;
  return n;
}

// slack takes everything, mail warnings and up, pd only critical.
Runtime make_runtime() {
  Runtime r;
  AccountConfig a;
  a.name = "ds-prod";
  a.provider = "deepseek";
  a.labels = {{"team", "billing"}};
  AccountConfig b = a;
  b.name = "or-prod";
  b.provider = "openrouter";
  r.config.accounts = {a, b};
  r.config.notifiers = {notifier("slack", "info"), notifier("mail", "warning"), notifier("pd", "critical")};
  for (const auto& n : r.config.notifiers) r.notifiers[n.name] = nullptr;
  r.config.alerting.repeat_interval = 1h;
  r.config.alerting.send_resolved = true;
  return r;
}

Assessment assessment(const std::string& name, TimePoint now, Finding finding) {
  Assessment a;
  a.account = name;
  a.provider = "deepseek";
  a.currency = "USD";
  creditwatch::forecast::Forecast f;
  f.balance = *Decimal::parse("12.50");
  f.at = now;
  f.burn_per_day = 5.0;
  f.runway_days = 2.5;
  a.forecast = f;
  a.findings = {std::move(finding)};
  return a;
}

Finding runway(Severity severity) { return Finding{Rule::runway, true, severity, "runway 2 days"}; }
Finding runway_clear() { return Finding{Rule::runway, false, Severity::warning, "runway 20 days"}; }

using Names = std::vector<std::string>;

// What one test drives: a store of the backend, an engine on it, the fake clock.
template <typename Backend>
struct Bench {
  Backend backend;
  FakeClock clock;
  Runtime runtime = make_runtime();
  std::unique_ptr<Store> store;
  std::unique_ptr<AlertEngine> engine;
  std::size_t seen = 0;

  Bench() {
    if (backend.skipped()) return;
    store = backend.open();
    engine = std::make_unique<AlertEngine>(*store, clock);
  }
  // A new process on the same database.
  void restart() {
    engine.reset();
    store = backend.open();
    engine = std::make_unique<AlertEngine>(*store, clock);
  }
  const AccountConfig& ds() const { return runtime.config.accounts[0]; }
  std::size_t apply(Finding finding) { return engine->apply(ds(), assessment("ds-prod", clock.now(), finding), runtime); }
  void silence(const std::string& id, const std::string& matchers, TimePoint from, TimePoint to) {
    store->add_silence(SilenceRow{id, matchers, from, to, "top-up under way", "ana", clock.now()});
    engine->sync();
  }
  // Rows queued since the last call.
  std::vector<OutboxRow> queued() {
    auto all = store->notifications();
    std::sort(all.begin(), all.end(), [](const OutboxRow& a, const OutboxRow& b) { return a.id < b.id; });
    std::vector<OutboxRow> out(all.begin() + static_cast<std::ptrdiff_t>(seen), all.end());
    seen = all.size();
    return out;
  }
  nlohmann::json context() const {
    for (const auto& row : store->alerts("ds-prod")) {
      if (row.rule == "runway") return nlohmann::json::parse(row.context_json);
    }
    FAIL("no runway alert");
    return {};
  }
  std::string state() const {
    for (const auto& row : store->alerts("ds-prod")) {
      if (row.rule == "runway") return row.state + " " + row.severity;
    }
    return "none";
  }
};

Names notifiers_of(const std::vector<OutboxRow>& rows) {
  Names out;
  for (const auto& row : rows) out.push_back(row.notifier);
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json payload(const OutboxRow& row) { return nlohmann::json::parse(row.payload_json); }

}  // namespace

TEST_SUITE("scheduler_alert_silences") {
  TEST_CASE_TEMPLATE("an alert that leaves a silence's match says started once, and nothing is released after it",
                     Backend, SqliteBackend, PostgresBackend) {
    Bench<Backend> b;
    if (b.backend.skipped()) return;
    b.silence("s1", R"({"severity":"critical"})", b.clock.now(), b.clock.now() + 1h);
    CHECK(b.apply(runway(Severity::critical)) == 0);  // held
    CHECK(b.context()["held"] == true);
    b.clock.advance(1min);
    CHECK(b.apply(runway(Severity::warning)) == 2);  // eased out of the silence: told now
    auto rows = b.queued();
    REQUIRE(rows.size() == 2);
    CHECK(payload(rows[0])["reason"] == "started");  // nobody had heard it start
    CHECK(payload(rows[0])["severity"] == "warning");
    CHECK(b.context()["held"] == false);
    CHECK(b.context()["announced"] == true);
    CHECK(b.engine->tick(b.runtime) == 0);  // nothing owed any more
    CHECK(b.queued().empty());
  }

  TEST_CASE_TEMPLATE("a maintenance window holds matching alerts like a silence and releases them when it closes",
                     Backend, SqliteBackend, PostgresBackend) {
    Bench<Backend> b;
    if (b.backend.skipped()) return;
    // Every day, from the current UTC minute for half an hour, for team billing only.
    const auto minute = static_cast<int>((creditwatch::to_unix_ms(b.clock.now()) / 60000) % 1440);
    creditwatch::config::MaintenanceWindow window;
    window.name = "billing-batch";
    window.when.days.fill(true);
    window.when.start_minute = minute;
    window.when.end_minute = (minute + 30) % 1440;
    window.match = {{"team", "billing"}};
    b.runtime.config.maintenance = {window};

    CHECK(b.apply(runway(Severity::critical)) == 0);
    CHECK(b.state() == "firing critical");
    CHECK(b.queued().empty());
    CHECK(b.engine->marks(b.ds(), Rule::runway, Severity::critical, b.runtime).silenced_by ==
          std::optional<std::string>("maintenance:billing-batch"));
    b.clock.advance(29min);
    CHECK(b.engine->tick(b.runtime) == 0);
    CHECK(b.engine->escalate(b.runtime) == 0);
    b.clock.advance(2min);  // the window has closed
    CHECK(b.engine->tick(b.runtime) == 3);
    const auto rows = b.queued();
    CHECK(notifiers_of(rows) == Names{"mail", "pd", "slack"});
    CHECK(payload(rows[0])["reason"] == "started");
    // A window that does not match the account holds nothing.
    b.runtime.config.maintenance[0].match = {{"team", "bots"}};
    CHECK_FALSE(b.engine->marks(b.ds(), Rule::runway, Severity::critical, b.runtime).silenced_by);
  }

  TEST_CASE_TEMPLATE("a silenced alert fires but queues nothing, and notifies once when the silence ends, across restarts",
                     Backend, SqliteBackend, PostgresBackend) {
    Bench<Backend> b;
    if (b.backend.skipped()) return;
    const auto t0 = b.clock.now();
    b.silence("s1", R"({"account":"ds-*","rule":"runway"})", t0, t0 + 1h);

    CHECK(b.apply(runway(Severity::critical)) == 0);
    CHECK(b.state() == "firing critical");  // it fires: state, API and metrics say so
    CHECK(b.queued().empty());
    CHECK(b.context()["held"] == true);
    CHECK(b.context()["announced"] == false);
    const auto marks = b.engine->marks(b.ds(), Rule::runway, Severity::critical, b.runtime);
    CHECK(marks.silenced_by == std::optional<std::string>("s1"));
    // Another account is not silenced by it.
    CHECK_FALSE(b.engine->marks(b.runtime.config.accounts[1], Rule::runway, Severity::critical, b.runtime).silenced_by);

    b.clock.advance(59min);
    CHECK(b.engine->tick(b.runtime) == 0);
    b.clock.advance(1min);  // the silence ends exactly now: it holds no more
    b.restart();            // and the process restarted meanwhile: the debt is in the store
    CHECK(b.engine->tick(b.runtime) == 3);
    const auto rows = b.queued();
    CHECK(notifiers_of(rows) == Names{"mail", "pd", "slack"});
    CHECK(payload(rows[0])["reason"] == "started");
    CHECK(payload(rows[0])["severity"] == "critical");
    CHECK(payload(rows[0])["silenced"] == false);
    CHECK(b.context()["held"] == false);
    CHECK(b.context()["announced"] == true);

    CHECK(b.engine->tick(b.runtime) == 0);  // once
    b.restart();
    CHECK(b.engine->tick(b.runtime) == 0);  // once, even across a restart
    CHECK(b.queued().empty());
    // Its next reminder counts from the release.
    b.clock.advance(30min);
    CHECK(b.apply(runway(Severity::critical)) == 0);
    b.clock.advance(30min);
    CHECK(b.apply(runway(Severity::critical)) == 3);
    CHECK(payload(b.queued()[0])["reason"] == "repeat");
  }

  TEST_CASE_TEMPLATE("reminders and a severity change under a silence are owed as one repeat at the latest severity",
                     Backend, SqliteBackend, PostgresBackend) {
    Bench<Backend> b;
    if (b.backend.skipped()) return;
    CHECK(b.apply(runway(Severity::warning)) == 2);  // slack and mail heard it start
    b.queued();
    b.silence("s1", R"({"team":"billing"})", b.clock.now(), b.clock.now() + 4h);
    b.clock.advance(61min);
    CHECK(b.apply(runway(Severity::warning)) == 0);  // the reminder waits
    CHECK(b.apply(runway(Severity::critical)) == 0);  // so does the change
    CHECK(b.state() == "firing critical");
    CHECK(b.queued().empty());

    b.clock.advance(10min);
    CHECK(b.store->expire_silence("s1", b.clock.now()));  // expired early, through the API
    b.engine->sync();
    CHECK(b.engine->tick(b.runtime) == 3);
    const auto rows = b.queued();
    CHECK(notifiers_of(rows) == Names{"mail", "pd", "slack"});
    CHECK(payload(rows[0])["reason"] == "repeat");
    CHECK(payload(rows[0])["severity"] == "critical");
    CHECK(b.engine->tick(b.runtime) == 0);
  }

  TEST_CASE_TEMPLATE("resolved while silenced: the resolve goes out at once if the start was sent, else nothing",
                     Backend, SqliteBackend, PostgresBackend) {
    Bench<Backend> b;
    if (b.backend.skipped()) return;
    SUBCASE("the start was sent") {
      CHECK(b.apply(runway(Severity::warning)) == 2);
      b.queued();
      b.silence("s1", R"({"account":"ds-prod"})", b.clock.now(), b.clock.now() + 1h);
      b.clock.advance(5min);
      CHECK(b.apply(runway_clear()) == 2);
      const auto rows = b.queued();
      CHECK(notifiers_of(rows) == Names{"mail", "slack"});
      CHECK(payload(rows[0])["status"] == "resolved");
      CHECK(payload(rows[0])["silenced"] == true);
    }
    SUBCASE("it started under the silence") {
      b.silence("s1", R"({"account":"ds-prod"})", b.clock.now(), b.clock.now() + 1h);
      CHECK(b.apply(runway(Severity::critical)) == 0);
      b.clock.advance(5min);
      CHECK(b.apply(runway_clear()) == 0);
      CHECK(b.state() == "resolved critical");
      b.clock.advance(2h);  // the silence is over; nothing is owed
      CHECK(b.engine->tick(b.runtime) == 0);
      CHECK(b.queued().empty());
    }
  }

  TEST_CASE_TEMPLATE("a silence that starts later holds nothing until it starts", Backend, SqliteBackend,
                     PostgresBackend) {
    Bench<Backend> b;
    if (b.backend.skipped()) return;
    const auto t0 = b.clock.now();
    b.silence("later", R"({"rule":"runway"})", t0 + 1h, t0 + 2h);
    CHECK(b.apply(runway(Severity::warning)) == 2);
    b.clock.advance(1h);  // now it holds: the reminder waits
    CHECK(b.apply(runway(Severity::warning)) == 0);
    CHECK(b.context()["held"] == true);
    b.clock.advance(1h);
    CHECK(b.engine->tick(b.runtime) == 2);
    CHECK(payload(b.queued().back())["reason"] == "repeat");
  }

  TEST_CASE_TEMPLATE("an acknowledged alert stops repeating until it changes severity or resolves", Backend,
                     SqliteBackend, PostgresBackend) {
    Bench<Backend> b;
    if (b.backend.skipped()) return;
    CHECK(b.engine->acknowledge("ds-prod", "runway", "ana", "", b.runtime) == AckOutcome::not_firing);
    CHECK(b.engine->acknowledge("nobody", "runway", "ana", "", b.runtime) == AckOutcome::no_such_alert);
    CHECK(b.engine->acknowledge("ds-prod", "runwya", "ana", "", b.runtime) == AckOutcome::no_such_alert);
    CHECK(b.apply(runway(Severity::warning)) == 2);
    b.queued();

    b.clock.advance(10min);
    CHECK(b.engine->acknowledge("ds-prod", "runway", "ana", "topping up", b.runtime) == AckOutcome::acknowledged);
    auto rows = b.queued();
    CHECK(notifiers_of(rows) == Names{"mail", "slack"});  // the notifiers that heard it
    const auto ack = payload(rows[0]);
    CHECK(ack["reason"] == "acknowledged");
    CHECK(ack["status"] == "firing");
    CHECK(ack["ack"]["by"] == "ana");
    CHECK(ack["ack"]["comment"] == "topping up");
    CHECK(ack["summary"] == "runway 2 days");
    const auto marks = b.engine->marks(b.ds(), Rule::runway, Severity::warning, b.runtime);
    REQUIRE(marks.ack.has_value());
    CHECK(marks.ack->by == "ana");

    b.clock.advance(3h);
    CHECK(b.apply(runway(Severity::warning)) == 0);  // no reminder
    b.restart();                                      // nor after a restart
    b.clock.advance(3h);
    CHECK(b.apply(runway(Severity::warning)) == 0);
    CHECK(b.store->acks().size() == 1);

    SUBCASE("a severity change clears it") {
      CHECK(b.apply(runway(Severity::critical)) == 3);
      CHECK(payload(b.queued()[0])["ack"].is_null());
      CHECK(b.store->acks().empty());
      b.clock.advance(61min);
      CHECK(b.apply(runway(Severity::critical)) == 3);  // reminders are back
    }
    SUBCASE("a resolve clears it, and carries it") {
      CHECK(b.apply(runway_clear()) == 2);
      CHECK(payload(b.queued()[0])["ack"]["by"] == "ana");
      CHECK(b.store->acks().empty());
      CHECK(b.apply(runway(Severity::warning)) == 2);  // a new episode: unacknowledged
      CHECK(payload(b.queued()[0])["ack"].is_null());
    }
    SUBCASE("taken back, reminders resume") {
      CHECK(b.engine->unacknowledge("ds-prod", "runway"));
      CHECK_FALSE(b.engine->unacknowledge("ds-prod", "runway"));
      b.clock.advance(61min);
      CHECK(b.apply(runway(Severity::warning)) == 2);
    }
  }

  TEST_CASE_TEMPLATE("an acknowledgement under a silence, or of an alert nobody heard, queues nothing", Backend,
                     SqliteBackend, PostgresBackend) {
    Bench<Backend> b;
    if (b.backend.skipped()) return;
    b.silence("s1", R"({"account":"ds-prod"})", b.clock.now(), b.clock.now() + 1h);
    CHECK(b.apply(runway(Severity::warning)) == 0);
    CHECK(b.engine->acknowledge("ds-prod", "runway", "ana", "", b.runtime) == AckOutcome::acknowledged);
    CHECK(b.queued().empty());
    CHECK(b.store->acks().size() == 1);
    // When the silence ends the owed start goes out, carrying the ack.
    b.clock.advance(1h);
    CHECK(b.engine->tick(b.runtime) == 2);
    CHECK(payload(b.queued()[0])["ack"]["by"] == "ana");
  }
}
