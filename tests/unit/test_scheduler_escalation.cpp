// Escalation (`escalate:`): the pure bookkeeping in scheduler/escalation.cpp and the alert
// engine's escalate() on a fake clock and a real SQLite store.
#include "creditwatch/scheduler/alert_engine.hpp"
#include "creditwatch/scheduler/escalation.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/temp_dir.hpp"

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
using creditwatch::config::EscalationStep;
using creditwatch::config::NotifierConfig;
using creditwatch::scheduler::AlertEngine;
using creditwatch::scheduler::Assessment;
using creditwatch::scheduler::EscalationState;
using creditwatch::scheduler::Runtime;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::SqliteStore;
using creditwatch::testing::FakeClock;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

using Names = std::vector<std::string>;

NotifierConfig notifier(const std::string& name) {
  NotifierConfig n;
  n.name = name;
  n.type = "console";
  return n;
}

EscalationStep step(creditwatch::Duration after, std::vector<std::string> notify, Severity min_severity) {
  EscalationStep s;
  s.after = after;
  s.notify = std::move(notify);
  s.min_severity = min_severity;
  return s;
}

// slack hears everything at once (a catch-all route); lead and pager only through escalation.
Runtime make_runtime(std::vector<EscalationStep> steps) {
  Runtime r;
  AccountConfig a;
  a.name = "acct";
  a.provider = "simulated";
  a.labels = {{"team", "a"}};
  r.config.accounts = {a};
  r.config.notifiers = {notifier("slack"), notifier("lead"), notifier("pager")};
  for (const auto& n : r.config.notifiers) r.notifiers[n.name] = nullptr;
  r.config.alerting.repeat_interval = 24h;
  r.config.escalate = std::move(steps);
  creditwatch::config::RouteConfig everything;
  everything.notify = {"slack"};
  r.config.routes = {everything};
  return r;
}

Assessment assessment(TimePoint now, Finding finding) {
  Assessment a;
  a.account = "acct";
  a.provider = "simulated";
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

struct Fixture {
  TempDir dir;
  FakeClock clock;
  std::string path = dir.file("creditwatch.db");
  std::unique_ptr<SqliteStore> store = std::make_unique<SqliteStore>(path);
  std::size_t seen = 0;

  // Rows queued since the last call, as "notifier:reason".
  Names queued() {
    auto all = store->notifications();
    Names out;
    for (auto it = all.begin() + static_cast<std::ptrdiff_t>(seen); it != all.end(); ++it) {
      out.push_back(it->notifier + ":" + nlohmann::json::parse(it->payload_json).value("reason", ""));
    }
    seen = all.size();
    std::sort(out.begin(), out.end());
    return out;
  }
  void probe(AlertEngine& engine, const Runtime& runtime, Finding finding) {
    engine.apply(runtime.config.accounts[0], assessment(clock.now(), std::move(finding)), runtime);
  }
  // A restart: the engine and the store closed, the same file opened again.
  std::unique_ptr<AlertEngine> restart(std::unique_ptr<AlertEngine> engine) {
    engine.reset();
    store.reset();
    store = std::make_unique<SqliteStore>(path);
    return std::make_unique<AlertEngine>(*store, clock);
  }
};

}  // namespace

TEST_SUITE("scheduler.escalation") {
  TEST_CASE("each severity's clock starts once per episode, at the first time it is reached") {
    EscalationState s;
    const TimePoint t0 = creditwatch::from_unix_ms(1'000'000);
    creditwatch::scheduler::note_severity(s, Severity::warning, t0);
    creditwatch::scheduler::note_severity(s, Severity::critical, t0 + 1h);
    creditwatch::scheduler::note_severity(s, Severity::warning, t0 + 2h);
    creditwatch::scheduler::note_severity(s, Severity::critical, t0 + 3h);
    CHECK(s.reached.at(Severity::info) == t0);
    CHECK(s.reached.at(Severity::warning) == t0);
    CHECK(s.reached.at(Severity::critical) == t0 + 1h);

    const std::vector<EscalationStep> steps = {step(30min, {"pager"}, Severity::critical)};
    CHECK(creditwatch::scheduler::due_steps(steps, s, Severity::critical, t0 + 1h + 29min).empty());
    CHECK(creditwatch::scheduler::due_steps(steps, s, Severity::critical, t0 + 1h + 30min).size() == 1);
    CHECK_MESSAGE(creditwatch::scheduler::due_steps(steps, s, Severity::warning, t0 + 5h).empty(),
                  "below the step's severity now: not due");
    s.steps_done.insert(creditwatch::scheduler::step_id(steps[0]));
    CHECK(creditwatch::scheduler::due_steps(steps, s, Severity::critical, t0 + 5h).empty());
  }

  TEST_CASE("the state round-trips through JSON and tolerates rows written before escalation") {
    EscalationState s;
    s.reached[Severity::critical] = creditwatch::from_unix_ms(1'777'593'600'123);
    s.steps_done = {"15s critical pager"};
    s.escalated_to = {"pager"};
    CHECK(creditwatch::scheduler::escalation_from_json(creditwatch::scheduler::to_json(s)) == s);
    CHECK(creditwatch::scheduler::escalation_from_json(nlohmann::json()) == EscalationState{});
    CHECK(creditwatch::scheduler::escalation_from_json({{"reached_ms", "junk"}, {"steps_done", {1, "x"}}})
              .steps_done == std::set<std::string>{"x"});
  }

  TEST_CASE("an alert escalates once, not before after, on the clock alone") {
    Fixture f;
    const auto runtime = make_runtime({step(15min, {"pager"}, Severity::critical)});
    AlertEngine engine(*f.store, f.clock);
    f.probe(engine, runtime, runway(Severity::critical));
    CHECK(f.queued() == Names{"slack:started"});

    f.clock.advance(15min - 1s);
    CHECK(engine.escalate(runtime) == 0);
    f.clock.advance(1s);
    CHECK(engine.escalate(runtime) == 1);  // no probe came: the clock alone
    CHECK(f.queued() == Names{"pager:escalated"});
    auto row = f.store->notifications().back();
    auto payload = nlohmann::json::parse(row.payload_json);
    CHECK(payload["severity"] == "critical");
    CHECK(payload["status"] == "firing");
    CHECK(row.dedup_key == "creditwatch-acct-runway");

    f.clock.advance(1h);
    CHECK(engine.escalate(runtime) == 0);
    f.probe(engine, runtime, runway(Severity::critical));
    f.clock.advance(1h);
    CHECK(engine.escalate(runtime) == 0);
    CHECK(f.queued().empty());
  }

  TEST_CASE("the clock starts when the alert reaches the step's severity, and warning then critical escalate apart") {
    Fixture f;
    const auto runtime =
        make_runtime({step(30min, {"lead"}, Severity::warning), step(15min, {"pager"}, Severity::critical)});
    AlertEngine engine(*f.store, f.clock);
    f.probe(engine, runtime, runway(Severity::warning));
    f.clock.advance(20min);
    CHECK(engine.escalate(runtime) == 0);
    f.probe(engine, runtime, runway(Severity::critical));  // critical at 20 min
    CHECK(f.queued() == Names{"slack:severity_changed", "slack:started"});

    f.clock.advance(10min);  // 30 min at warning or above, 10 at critical
    CHECK(engine.escalate(runtime) == 1);
    CHECK(f.queued() == Names{"lead:escalated"});
    f.clock.advance(5min - 1s);
    CHECK(engine.escalate(runtime) == 0);
    f.clock.advance(1s);  // 15 min at critical
    CHECK(engine.escalate(runtime) == 1);
    CHECK(f.queued() == Names{"pager:escalated"});

    SUBCASE("easing back to warning and up again does not restart or repeat either step") {
      f.probe(engine, runtime, runway(Severity::warning));
      f.clock.advance(1min);
      f.probe(engine, runtime, runway(Severity::critical));
      f.clock.advance(1h);
      CHECK(engine.escalate(runtime) == 0);
    }
    SUBCASE("the resolve follows the alert to every notifier it was escalated to") {
      f.clock.advance(1min);
      f.probe(engine, runtime, runway_clear());
      CHECK(f.queued() == Names{"lead:resolved", "pager:resolved", "slack:resolved"});
      SUBCASE("and a new episode starts its clocks afresh") {
        f.probe(engine, runtime, runway(Severity::critical));
        f.queued();
        f.clock.advance(14min);
        CHECK(engine.escalate(runtime) == 0);
        f.clock.advance(16min);
        CHECK(engine.escalate(runtime) == 2);
        CHECK(f.queued() == Names{"lead:escalated", "pager:escalated"});
      }
    }
  }

  TEST_CASE("an alert that resolves before after is never escalated") {
    Fixture f;
    const auto runtime = make_runtime({step(15min, {"pager"}, Severity::critical)});
    AlertEngine engine(*f.store, f.clock);
    f.probe(engine, runtime, runway(Severity::critical));
    f.clock.advance(10min);
    f.probe(engine, runtime, runway_clear());
    f.clock.advance(10min);
    CHECK(engine.escalate(runtime) == 0);
    CHECK(f.queued() == Names{"slack:resolved", "slack:started"});
  }

  TEST_CASE("escalation survives a restart on the same database: neither repeated nor forgotten") {
    Fixture f;
    const auto runtime = make_runtime({step(15min, {"pager"}, Severity::critical)});
    auto engine = std::make_unique<AlertEngine>(*f.store, f.clock);
    f.probe(*engine, runtime, runway(Severity::critical));
    f.queued();
    f.clock.advance(10min);
    CHECK(engine->escalate(runtime) == 0);

    engine = f.restart(std::move(engine));
    f.clock.advance(5min);
    CHECK_MESSAGE(engine->escalate(runtime) == 1, "the clock kept running across the restart, no probe needed");
    auto payload = nlohmann::json::parse(f.store->notifications().back().payload_json);
    CHECK(payload["reason"] == "escalated");
    CHECK(payload["provider"] == "simulated");
    CHECK(payload["summary"] == "runway 2 days");
    CHECK(f.queued() == Names{"pager:escalated"});

    engine = f.restart(std::move(engine));
    f.clock.advance(1h);
    CHECK_MESSAGE(engine->escalate(runtime) == 0, "done before the restart: not again");
    f.probe(*engine, runtime, runway_clear());
    CHECK_MESSAGE((f.queued() == Names{"pager:resolved", "slack:resolved"}), "the resolve still follows it");
  }

  TEST_CASE("without routes the default leaves out the notifiers escalation steps name") {
    Fixture f;
    auto runtime = make_runtime({step(15min, {"pager"}, Severity::critical)});
    runtime.config.routes.clear();
    AlertEngine engine(*f.store, f.clock);
    f.probe(engine, runtime, runway(Severity::critical));
    CHECK(f.queued() == Names{"lead:started", "slack:started"});
    f.clock.advance(15min);
    CHECK(engine.escalate(runtime) == 1);
    CHECK(f.queued() == Names{"pager:escalated"});
  }

  TEST_CASE("without escalate nothing escalates") {
    Fixture f;
    const auto runtime = make_runtime({});
    AlertEngine engine(*f.store, f.clock);
    f.probe(engine, runtime, runway(Severity::critical));
    CHECK(f.queued() == Names{"slack:started"});
    f.clock.advance(48h);
    CHECK(engine.escalate(runtime) == 0);
  }
}
