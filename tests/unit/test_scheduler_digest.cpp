// The digest in the scheduler: when it is due (digest_schedule), what it says about a known
// history in a real SQLite store (digest_builder), and that each period's goes out once per
// notifier, across a restart too (digest_sender).
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/digest_builder.hpp"
#include "creditwatch/scheduler/digest_schedule.hpp"
#include "creditwatch/scheduler/digest_sender.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::TimePoint;
using creditwatch::config::AccountConfig;
using creditwatch::config::Config;
using creditwatch::config::DigestConfig;
using creditwatch::notify::Digest;
using creditwatch::notify::DigestAccount;
using creditwatch::notify::Notification;
using creditwatch::scheduler::Assessor;
using creditwatch::scheduler::build_digest;
using creditwatch::scheduler::DigestSender;
using creditwatch::scheduler::last_digest_at;
using creditwatch::scheduler::next_digest_at;
using creditwatch::storage::AlertRow;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using creditwatch::storage::ProbeRow;
using creditwatch::storage::SampleRow;
using creditwatch::storage::SqliteStore;
using creditwatch::testing::FakeClock;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

TimePoint at(const char* rfc3339) { return *creditwatch::parse_rfc3339(rfc3339); }

DigestConfig weekly() {
  DigestConfig d;
  d.notify = {"slack", "mail"};
  d.group_by = "team";
  d.weekday = 1;  // Monday (what config load makes of a whole-weeks `every` without `at`)
  return d;       // every 7d, 09:00, UTC
}

AccountConfig account(const std::string& name, const std::string& team) {
  AccountConfig a;
  a.name = name;
  a.provider = "simulated";
  a.currency = "USD";
  a.labels = {{"team", team}};
  return a;
}

Config config_with(const DigestConfig& digest) {
  Config c;
  c.accounts = {account("ds-prod", "bots"), account("or-dev", "research")};
  c.digest = digest;
  return c;
}

void reading(SqliteStore& store, const std::string& name, const char* when, const char* balance) {
  const SampleRow sample{name, at(when), "USD", *Decimal::parse(balance), std::nullopt, ""};
  store.add_samples({sample}, ProbeRow{name, at(when), "ok", 200, 0.2, ""});
}

// An alert notification as the alert engine queues it: one row per notifier, with the state.
void alert(SqliteStore& store, const std::string& name, const char* when, creditwatch::alerts::Event event,
           creditwatch::alerts::Reason reason, creditwatch::alerts::Severity severity) {
  Notification n;
  n.dedup_key = creditwatch::notify::make_dedup_key(name, creditwatch::alerts::Rule::runway);
  n.event = event;
  n.reason = reason;
  n.at = at(when);
  n.account = name;
  n.provider = "simulated";
  n.rule = creditwatch::alerts::Rule::runway;
  n.severity = severity;
  n.summary = "runway";
  const std::string payload = creditwatch::notify::to_json(n).dump();
  std::vector<OutboxRow> rows;
  for (const char* notifier : {"slack", "mail"}) {
    rows.push_back(OutboxRow{0, n.at, notifier, n.dedup_key, payload, 0, n.at, OutboxState::pending, "", "", {}});
  }
  const std::string state = event == creditwatch::alerts::Event::firing ? "firing" : "resolved";
  store.save_alert(AlertRow{name, "runway", state, creditwatch::alerts::to_string(severity), n.at, n.at, "{}"}, rows);
}

// The period 2026-11-30 09:00 to 2026-12-07 09:00 (a Monday) and the week before it:
// ds-prod spends 10 before, then 10 + 20 with a 50 deposit between; or-dev holds still; a
// runway alert of ds-prod fires as a warning and turns critical in the period (and one fired
// the week before); or-dev's stale alert, silenced, started in the period without a row.
void known_history(SqliteStore& store) {
  reading(store, "ds-prod", "2026-11-24T10:00:00Z", "100");
  reading(store, "ds-prod", "2026-11-26T10:00:00Z", "90");
  reading(store, "ds-prod", "2026-12-01T10:00:00Z", "80");
  reading(store, "ds-prod", "2026-12-03T10:00:00Z", "130");
  reading(store, "ds-prod", "2026-12-05T10:00:00Z", "110");
  reading(store, "ds-prod", "2026-12-07T08:00:00Z", "110");
  reading(store, "or-dev", "2026-11-25T10:00:00Z", "50");
  reading(store, "or-dev", "2026-12-02T10:00:00Z", "50");
  reading(store, "or-dev", "2026-12-07T08:00:00Z", "50");
  using creditwatch::alerts::Event;
  using creditwatch::alerts::Reason;
  using creditwatch::alerts::Severity;
  alert(store, "ds-prod", "2026-11-25T12:00:00Z", Event::firing, Reason::started, Severity::critical);
  alert(store, "ds-prod", "2026-11-27T12:00:00Z", Event::resolved, Reason::resolved, Severity::critical);
  alert(store, "ds-prod", "2026-12-02T12:00:00Z", Event::firing, Reason::started, Severity::warning);
  alert(store, "ds-prod", "2026-12-04T12:00:00Z", Event::firing, Reason::severity_changed, Severity::critical);
  store.save_alert(AlertRow{"or-dev", "stale", "firing", "warning", at("2026-12-04T00:00:00Z"),
                            at("2026-12-04T00:00:00Z"), "{}"},
                   {});
}

const DigestAccount& line_of(const Digest& d, const std::string& name) {
  for (const auto& a : d.accounts) {
    if (a.account == name) return a;
  }
  FAIL("no line for " << name);
  throw std::logic_error("unreachable");
}

std::vector<OutboxRow> digest_rows(SqliteStore& store) {
  std::vector<OutboxRow> out;
  for (auto& row : store.notifications()) {
    if (row.dedup_key.rfind("creditwatch-digest-", 0) == 0) out.push_back(row);
  }
  return out;
}

}  // namespace

TEST_SUITE("scheduler.digest") {
  TEST_CASE("digest times: Monday 09:00 weekly, strictly after the given time") {
    const auto d = weekly();
    CHECK(next_digest_at(d, at("2026-12-06T09:24:00Z")) == at("2026-12-07T09:00:00Z"));  // Sunday -> Monday
    CHECK(next_digest_at(d, at("2026-12-07T08:59:59Z")) == at("2026-12-07T09:00:00Z"));
    CHECK(next_digest_at(d, at("2026-12-07T09:00:00Z")) == at("2026-12-14T09:00:00Z"));  // at the time: the next one
    CHECK(next_digest_at(d, at("2026-12-09T18:00:00Z")) == at("2026-12-14T09:00:00Z"));
    CHECK(last_digest_at(d, at("2026-12-07T09:00:00Z")) == at("2026-12-07T09:00:00Z"));
    CHECK(last_digest_at(d, at("2026-12-07T08:59:59Z")) == at("2026-11-30T09:00:00Z"));

    SUBCASE("daily at a time of day") {
      DigestConfig daily;
      daily.every = 24h;
      daily.weekday.reset();
      daily.time_of_day = 18h + 30min;
      CHECK(next_digest_at(daily, at("2026-12-06T19:00:00Z")) == at("2026-12-07T18:30:00Z"));
      CHECK(next_digest_at(daily, at("2026-12-06T18:29:00Z")) == at("2026-12-06T18:30:00Z"));
    }
    SUBCASE("Monday 09:00 in Berlin stays 09:00 on the wall clock across the end of summer time") {
      DigestConfig berlin = weekly();
      berlin.timezone = *creditwatch::TimeZone::load("Europe/Berlin");
      CHECK(next_digest_at(berlin, at("2026-10-18T12:00:00Z")) == at("2026-10-19T07:00:00Z"));  // 09:00 CEST
      CHECK(next_digest_at(berlin, at("2026-10-19T07:00:00Z")) == at("2026-10-26T08:00:00Z"));  // 09:00 CET
      CHECK(last_digest_at(berlin, at("2026-10-26T07:59:59Z")) == at("2026-10-19T07:00:00Z"));
      CHECK(last_digest_at(berlin, at("2026-10-26T08:00:00Z")) == at("2026-10-26T08:00:00Z"));
      // And back into summer time: the last Monday of March 2027 is after the change (28 March).
      CHECK(next_digest_at(berlin, at("2027-03-22T08:00:00Z")) == at("2027-03-29T07:00:00Z"));
    }
    SUBCASE("a time skipped by the spring change is read as the hour after it") {
      DigestConfig night;
      night.every = 24h;
      night.weekday.reset();
      night.time_of_day = 2h + 30min;
      night.timezone = *creditwatch::TimeZone::load("Europe/Berlin");
      // 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 02:30 is 03:30 CEST = 01:30Z.
      CHECK(next_digest_at(night, at("2026-03-28T12:00:00Z")) == at("2026-03-29T01:30:00Z"));
      CHECK(next_digest_at(night, at("2026-03-29T01:30:00Z")) == at("2026-03-30T00:30:00Z"));
    }
    SUBCASE("every other Monday keeps to one parity of weeks") {
      DigestConfig fortnight = weekly();
      fortnight.every = 24h * 14;
      const TimePoint first = next_digest_at(fortnight, at("2026-12-06T00:00:00Z"));
      CHECK(creditwatch::format_rfc3339(first).substr(11) == "09:00:00Z");
      CHECK((first == at("2026-12-07T09:00:00Z") || first == at("2026-12-14T09:00:00Z")));
      CHECK(next_digest_at(fortnight, first) == first + 24h * 14);
    }
  }

  TEST_CASE("digest content from a known history: spend against the week before, deposits, runway, alerts") {
    TempDir dir;
    SqliteStore store(dir.file("creditwatch.db"));
    known_history(store);
    FakeClock clock(at("2026-12-07T09:00:05Z"));
    Assessor assessor(store, clock);

    const Digest d = build_digest(store, assessor, config_with(weekly()), at("2026-12-07T09:00:00Z"));
    CHECK(d.period_start == at("2026-11-30T09:00:00Z"));
    CHECK(d.period_end == at("2026-12-07T09:00:00Z"));
    CHECK(d.dedup_key() == "creditwatch-digest-2026-12-07T09:00:00Z");
    REQUIRE(d.accounts.size() == 2);

    const auto& ds = line_of(d, "ds-prod");
    CHECK(ds.currency == "USD");
    CHECK(ds.spend == *Decimal::parse("30"));
    REQUIRE(ds.previous_spend);
    CHECK(*ds.previous_spend == *Decimal::parse("10"));
    CHECK(creditwatch::notify::change_percent(ds.previous_spend, ds.spend) == doctest::Approx(200.0));
    CHECK(ds.deposits == *Decimal::parse("50"));
    REQUIRE(ds.balance);
    CHECK(*ds.balance == *Decimal::parse("110"));
    REQUIRE(ds.runway_days);
    CHECK(std::isfinite(*ds.runway_days));
    CHECK(*ds.runway_days > 0);
    // Fired as a warning and turned critical in the period: one alert, at its worst; the
    // alert of the week before is not this period's.
    CHECK(ds.alerts == std::vector<std::string>{"runway (critical)"});

    const auto& dev = line_of(d, "or-dev");
    CHECK(dev.spend == Decimal());
    REQUIRE(dev.previous_spend);
    CHECK(*dev.previous_spend == Decimal());
    CHECK(dev.deposits == Decimal());
    REQUIRE(dev.runway_days);
    CHECK(std::isinf(*dev.runway_days));  // not burning
    CHECK_FALSE(dev.recommended_topup);
    CHECK(dev.alerts == std::vector<std::string>{"stale (warning)"});  // silenced: from the alerts table

    CHECK(d.alerts_fired() == 2);
    const auto totals = d.totals();
    REQUIRE(totals.size() == 1);
    CHECK(totals[0].spend == *Decimal::parse("30"));
    CHECK(totals[0].previous_spend == *Decimal::parse("10"));
    CHECK(totals[0].deposits == *Decimal::parse("50"));

    SUBCASE("an account with no reading in the period before has no change to show") {
      const Digest early = build_digest(store, assessor, config_with(weekly()), at("2026-11-30T09:00:00Z"));
      const auto& dev_then = line_of(early, "or-dev");
      CHECK_FALSE(dev_then.previous_spend);
      CHECK(creditwatch::notify::digest_text(early).find("no earlier data") != std::string::npos);
    }
  }

  TEST_CASE("each period's digest is queued once per notifier, across a restart") {
    TempDir dir;
    const std::string path = dir.file("creditwatch.db");
    FakeClock clock(at("2026-12-07T08:59:00Z"));
    const Config config = config_with(weekly());
    {
      SqliteStore store(path);
      known_history(store);
      Assessor assessor(store, clock);
      DigestSender sender(store, clock);
      CHECK_FALSE(sender.due(config.digest));  // last week's is past its catch-up window
      CHECK(sender.send_due(config, assessor) == 0);

      clock.advance(1min + 1s);  // 09:00:01
      CHECK(sender.due(config.digest));
      CHECK(sender.send_due(config, assessor) == 2);
      CHECK_FALSE(sender.due(config.digest));
      CHECK(sender.send_due(config, assessor) == 0);
      const auto rows = digest_rows(store);
      REQUIRE(rows.size() == 2);
      CHECK(rows[0].notifier == "slack");
      CHECK(rows[1].notifier == "mail");
      const auto payload = nlohmann::json::parse(rows[0].payload_json);
      CHECK(payload["kind"] == "digest");
      CHECK(payload["period_end"] == "2026-12-07T09:00:00Z");
      store.mark_delivered(rows[0].id, clock.now());  // one delivered, one still pending
    }
    // A restart ten minutes later: a new process, the same database.
    clock.advance(10min);
    SqliteStore store(path);
    Assessor assessor(store, clock);
    DigestSender restarted(store, clock);
    CHECK(restarted.due(config.digest));  // it cannot know without asking the outbox...
    CHECK(restarted.send_due(config, assessor) == 0);  // ...which has the period's rows already
    CHECK_FALSE(restarted.due(config.digest));
    CHECK(digest_rows(store).size() == 2);

    SUBCASE("the next Monday's is queued again") {
      clock.set(at("2026-12-14T09:00:30Z"));
      CHECK(restarted.send_due(config, assessor) == 2);
      const auto rows = digest_rows(store);
      REQUIRE(rows.size() == 4);
      CHECK(rows[3].dedup_key == "creditwatch-digest-2026-12-14T09:00:00Z");
    }
    SUBCASE("a daemon down at 09:00 sends it when it is back within the catch-up window, not later") {
      clock.set(at("2026-12-14T14:59:00Z"));  // 5 h 59 min late
      CHECK(restarted.send_due(config, assessor) == 2);
      clock.set(at("2026-12-21T15:00:00Z"));  // 6 h late: the next Monday's is the one
      CHECK_FALSE(restarted.due(config.digest));
      CHECK(restarted.send_due(config, assessor) == 0);
    }
    SUBCASE("a notifier added to digest.notify mid-period still gets the period's digest") {
      Config more = config;
      more.digest->notify.push_back("hook");
      CHECK(restarted.queue(build_digest(store, assessor, more, at("2026-12-07T09:00:00Z")), more.digest->notify) == 1);
    }
  }
}
