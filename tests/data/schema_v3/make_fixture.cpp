// Made tests/data/schema_v3/creditwatch.db with creditwatch at dda2edb (schema version 3), built by hand:
//   g++ -std=c++20 -Iinclude make_fixture.cpp build/src/libcreditwatch_{storage,common}.a -lsqlite3 -lpq -lspdlog -lfmt
// Kept, not built: the store it calls no longer writes this schema.
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include <chrono>
#include <cstdio>
using namespace creditwatch;
using namespace creditwatch::storage;
int main(int, char** argv) {
  SqliteStore s(argv[1]);
  const TimePoint t0 = from_unix_ms(1'796'000'000'000);
  auto at = [&](int sec) { return t0 + std::chrono::seconds(sec); };
  // ds-main: DeepSeek-like, CNY with details, balance unchanged for a while then falling, a top-up.
  long bal = 110'000'000;
  for (int i = 0; i < 40; ++i) {
    if (i >= 10 && i < 30) bal -= 250'000;
    if (i == 30) bal += 50'000'000;
    Decimal b = Decimal::from_micros(bal);
    s.add_samples({{"ds-main", at(i * 60), "CNY", b, std::nullopt, R"({"granted":"10.00","topped_up":"100.00"})"}},
                  {"ds-main", at(i * 60), "ok", 200, 0.05, ""});
  }
  // or-counter: OpenRouter-like with a spend counter, two currencies at the same instant.
  for (int i = 0; i < 12; ++i) {
    s.add_samples({{"or-counter", at(i * 300), "USD", Decimal::from_micros(20'000'000 - i * 100'000),
                    Decimal::from_micros(5'000'000 + i * 100'000), "{}"},
                   {"or-counter", at(i * 300), "credits", Decimal::from_micros(1000'000'000), std::nullopt, "{}"}},
                  {"or-counter", at(i * 300), "ok", 200, 0.1, ""});
  }
  // flaky: failures keep their detail.
  s.add_probe({"flaky", at(100), "timeout", 0, 10.0, "timed out after 10 s"});
  s.add_samples({{"flaky", at(200), "USD", Decimal::from_micros(3'000'000), std::nullopt, "{}"}},
                {"flaky", at(200), "ok", 200, 0.2, ""});
  s.add_probe({"flaky", at(300), "http", 503, 0.3, "HTTP 503: upstream überlastet — réessayez"});
  // revoked: key invalid, never a sample.
  s.add_probe({"revoked", at(50), "key_invalid", 401, 0.1, "Authentication Fails (no such user)"});
  // Alerts and the outbox in every state.
  s.save_alert({"ds-main", "runway", "firing", "warning", at(600), at(600), R"({"runway_days":3.5})"},
               {{0, at(600), "slack", "creditwatch-ds-main-runway", R"({"state":"firing"})", 0, at(600),
                 OutboxState::pending, "", "", {}}});
  s.save_alert({"revoked", "key_invalid", "firing", "critical", at(50), at(50), "{}"},
               {{0, at(50), "pagerduty", "creditwatch-revoked-key_invalid", R"({"state":"firing"})", 0, at(50),
                 OutboxState::pending, "", "", {}}});
  auto rows = s.notifications(OutboxState::pending);
  for (auto& r : rows) if (r.notifier == "pagerduty") { s.mark_retry(r.id, at(120), "HTTP 429"); }
  s.save_alert({"flaky", "stale", "resolved", "warning", at(100), at(200), "{}"},
               {{0, at(200), "webhook", "creditwatch-flaky-stale", R"({"state":"resolved"})", 0, at(200),
                 OutboxState::pending, "", "", {}}});
  rows = s.notifications(OutboxState::pending);
  for (auto& r : rows) if (r.notifier == "webhook") s.mark_delivered(r.id, at(201));
  s.save_alert({"or-counter", "spike", "resolved", "warning", at(900), at(950), "{}"},
               {{0, at(950), "email", "creditwatch-or-counter-spike", R"({"state":"resolved"})", 3, at(950),
                 OutboxState::pending, "", "", {}}});
  rows = s.notifications(OutboxState::pending);
  for (auto& r : rows) if (r.notifier == "email") s.mark_dead(r.id, "550 mailbox unavailable");
  s.announce_replica("host-a-1", at(0), at(2400));
  s.claim_leases("host-a-1", {"ds-main", "flaky"}, at(2400), at(2415));
  std::printf("schema %d\n", s.schema_version());
}
