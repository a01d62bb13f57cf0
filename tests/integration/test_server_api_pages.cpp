// The real daemon's fleet API (SPEC "Status UI and API for fleets"): GET /api/v1/accounts a
// page at a time in each order, with accounts added by a reload between two pages; its
// filters and its 400s; GET /api/v1/summary against the listing; GET .../series.
#include "http_daemon.hpp"

#include "creditwatch/common/time_format.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <string>
#include <vector>

using namespace creditwatch::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int k_accounts = 60;

// Account i spends 100,000 x (i + 1) a day from 10,000,000 - 50,000 x i: runways
// (100 - i / 2) / (i + 1) days, all shrinking at the same pace, so neither the runway order
// nor the balance order changes while a test pages through them (the spend per second is
// large enough that rounding the balance to cents leaves the estimates close). The start
// balances step apart so that readings taken up to an interval apart cannot cross: from one
// start, account i read a second later than account i + 1 in the first minute showed the
// higher balance (their gap, 100,000 a day x elapsed, was smaller than (i + 1) x 100,000 a
// day x that second), and a page read then listed an account twice. Every third account is
// on team "blue".
std::string fleet_accounts(int first, int count) {
  std::string out;
  for (int i = first; i < first + count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "acct-%03d", (i * 37) % 1000);
    out += simulated_account(name, std::to_string(10000000 - 50000 * i), std::to_string(100000 * (i + 1)),
                             std::string("    labels: { team: ") + (i % 3 == 0 ? "blue" : "green") + " }\n");
  }
  return out;
}

std::string write_config(const TempDir& dir, int count) {
  return dir.write("creditwatch.yaml", daemon_yaml(dir, fleet_accounts(0, count)));
}

std::string encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

// Reads every page of `sort` at `limit`; `between` runs after the first page.
std::vector<std::string> read_all(const HttpDaemon& daemon, const std::string& sort, int limit,
                                  const std::function<void()>& between = {}) {
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 200; ++page) {
    auto j = daemon.get_json("/api/v1/accounts?sort=" + encode(sort) + "&limit=" + std::to_string(limit) +
                             (cursor.empty() ? "" : "&cursor=" + encode(cursor)));
    REQUIRE(j["accounts"].size() <= static_cast<std::size_t>(limit));
    for (const auto& a : j["accounts"]) seen.push_back(a["account"].get<std::string>());
    if (j["next_cursor"].is_null()) return seen;
    cursor = j["next_cursor"].get<std::string>();
    if (page == 0 && between) between();
  }
  FAIL("paging did not end");
  return seen;
}

// Every account has a runway within 0.4 % of its true one. Neighbours in the runway order
// are at least 1.7 % apart, so settled estimates cannot cross; the first estimates can: from
// two readings a second apart, a reading stamped 20 ms late (a busy machine, ASan) is a 2 %
// error in the burn rate, and a page read then listed acct-702 twice under ASan in CI.
bool every_runway_settled(const HttpDaemon& daemon) {
  std::map<std::string, double> truth;
  for (int i = 0; i < k_accounts; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "acct-%03d", (i * 37) % 1000);
    truth[name] = (100.0 - i / 2.0) / (i + 1);
  }
  auto res = daemon.get("/api/v1/accounts?limit=1000");
  if (!res || res->status != 200) return false;
  const auto j = json::parse(res->body);
  if (j["accounts"].size() != static_cast<std::size_t>(k_accounts)) return false;
  for (const auto& a : j["accounts"]) {
    if (!a["runway_days"].is_number()) return false;
    const double expected = truth.at(a["account"].get<std::string>());
    if (std::abs(a["runway_days"].get<double>() - expected) > 0.004 * expected) return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("server_api_pages") {
  TEST_CASE("paging in every order misses and repeats no account while a reload adds accounts") {
    TempDir dir;
    write_config(dir, k_accounts);
    HttpDaemon daemon(dir);
    daemon.start();
    REQUIRE_MESSAGE(eventually([&] { return every_runway_settled(daemon); }, 60s), daemon.log());

    // The whole listing at once, in each order.
    std::set<std::string> everyone;
    const auto listing = daemon.get_json("/api/v1/accounts?limit=1000");
    for (const auto& a : listing["accounts"]) {
      everyone.insert(a["account"].get<std::string>());
    }
    REQUIRE(everyone.size() == static_cast<std::size_t>(k_accounts));
    const auto first_page = daemon.get_json("/api/v1/accounts");
    CHECK(first_page["accounts"].size() == 60);  // under the default limit of 100
    CHECK(first_page["total"] == k_accounts);
    CHECK(first_page["next_cursor"].is_null());
    for (const char* field : {"account", "provider", "state", "balance", "runway_days", "labels", "alerts", "firing",
                              "probed_by", "exhausted_at", "recommended_topup"}) {
      CHECK_MESSAGE(first_page["accounts"][0].contains(field), "no " << field);
    }

    // Figures move between pages (every balance falls every second) but not across each
    // other, so no account crosses a cursor: each shows once. A reload restarts the
    // simulation (every balance back to 1,000, a jump that would cross cursors), so accounts
    // are added mid-read only in the name orders; the unit tests add them in every order.
    int added = 0;
    for (const std::string sort : {"runway", "-runway", "balance", "-balance", "name", "-name"}) {
      CAPTURE(sort);
      const bool by_name = sort == "name" || sort == "-name";
      const auto seen = read_all(daemon, sort, 7, [&] {
        if (!by_name) return;
        // More accounts in the middle of the read: a reload adds five.
        added += 5;
        dir.write("creditwatch.yaml", daemon_yaml(dir, fleet_accounts(0, k_accounts + added)));
        daemon.signal(SIGHUP);
        REQUIRE(eventually(
            [&] { return daemon.get_json("/api/v1/accounts?limit=1")["total"] == k_accounts + added; }, 10s));
      });
      std::map<std::string, int> times;
      for (const auto& name : seen) ++times[name];
      for (const auto& name : everyone) CHECK_MESSAGE(times[name] == 1, name << " seen " << times[name] << " times");
      for (const auto& [name, n] : times) CHECK_MESSAGE(n == 1, name << " seen " << n << " times");
    }

    // The order itself: by runway, shortest first, accounts without one (just added) last.
    std::vector<double> runways;
    bool missing_seen = false, value_after_missing = false;
    const auto by_runway = daemon.get_json("/api/v1/accounts?sort=runway&limit=1000");
    for (const auto& a : by_runway["accounts"]) {
      if (a["runway_days"].is_number()) {
        runways.push_back(a["runway_days"].get<double>());
        value_after_missing = value_after_missing || missing_seen;
      } else {
        missing_seen = true;
      }
    }
    CHECK(std::is_sorted(runways.begin(), runways.end()));
    CHECK_FALSE(value_after_missing);
    CHECK(runways.size() >= static_cast<std::size_t>(k_accounts));
  }

  TEST_CASE("filters, the summary and bad queries") {
    TempDir dir;
    write_config(dir, k_accounts);
    HttpDaemon daemon(dir);
    daemon.start();
    REQUIRE_MESSAGE(eventually([&] { return every_runway_settled(daemon); }, 60s), daemon.log());

    const auto all = daemon.get_json("/api/v1/accounts?limit=1000")["accounts"];
    // q: part of a name, or of a label value, in any case.
    const auto blue = daemon.get_json("/api/v1/accounts?q=BLU&limit=1000");
    CHECK(blue["total"] == 20);
    for (const auto& a : blue["accounts"]) CHECK(a["labels"]["team"] == "blue");
    const auto by_name = daemon.get_json("/api/v1/accounts?q=acct-03");
    for (const auto& a : by_name["accounts"]) CHECK(a["account"].get<std::string>().find("acct-03") == 0);
    CHECK(by_name["total"].get<int>() >= 1);
    CHECK(daemon.get_json("/api/v1/accounts?label=team:green&limit=5")["total"] == 40);

    // state: each state's listing is that state's count in the summary (read as close
    // together as can be: the states settle within seconds, but may move meanwhile).
    REQUIRE(eventually(
        [&] {
          const auto summary = daemon.get_json("/api/v1/summary");
          int listed = 0;
          bool agree = true;
          for (const char* state : {"ok", "warning", "critical", "unknown"}) {
            const auto page = daemon.get_json(std::string("/api/v1/accounts?limit=1000&state=") + state);
            std::string upper = state;
            for (auto& c : upper) c = static_cast<char>(std::toupper(c));
            for (const auto& a : page["accounts"]) agree = agree && a["state"] == upper;
            agree = agree && page["total"] == summary["states"][upper];
            listed += page["total"].get<int>();
          }
          return agree && listed == k_accounts && summary["accounts"] == k_accounts;
        },
        20s));

    // Totals per currency: every account reads USD.
    const auto summary = daemon.get_json("/api/v1/summary");
    INFO(summary.dump(2));
    REQUIRE(summary["currencies"].contains("USD"));
    CHECK(summary["currencies"]["USD"]["accounts"] == k_accounts);
    double balance = 0, burn = 0;
    for (const auto& a : all) {
      balance += a["balance"].get<double>();
      burn += a["burn_per_day"].get<double>();
    }
    CHECK(summary["currencies"]["USD"]["balance"].get<double>() == doctest::Approx(balance).epsilon(0.05));
    CHECK(summary["currencies"]["USD"]["burn_per_day"].get<double>() == doctest::Approx(burn).epsilon(0.1));
    CHECK(burn == doctest::Approx(100000.0 * k_accounts * (k_accounts + 1) / 2).epsilon(0.1));

    // Bad queries: 400 with a JSON reason.
    for (const char* bad : {"limit=0", "limit=1001", "limit=abc", "sort=price", "state=fine", "cursor=nonsense",
                            "label=nocolon"}) {
      CAPTURE(bad);
      auto res = daemon.get(std::string("/api/v1/accounts?") + bad);
      REQUIRE(res);
      CHECK(res->status == 400);
      CHECK(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
      const auto j = json::parse(res->body, nullptr, false);
      REQUIRE(j.is_object());
      CHECK(j["error"].is_string());
    }
    // A cursor from one order is refused in another.
    const auto page = daemon.get_json("/api/v1/accounts?limit=2&sort=-runway");
    REQUIRE(page["next_cursor"].is_string());
    auto res = daemon.get("/api/v1/accounts?limit=2&sort=name&cursor=" + encode(page["next_cursor"].get<std::string>()));
    REQUIRE(res);
    CHECK(res->status == 400);
  }

  TEST_CASE("series: balance and spend per step from the stored readings, steps checked") {
    TempDir dir;
    // 86,400 a day is 1 a second: every one-second reading spends about 1.
    dir.write("creditwatch.yaml", daemon_yaml(dir, simulated_account("burner", "100000", "86400")));
    HttpDaemon daemon(dir);
    daemon.start();
    const auto now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    const auto started_ms = now_ms();
    std::this_thread::sleep_for(6s);

    // Whole hours (the default): the hour holds every reading so far.
    const auto hourly = daemon.get_json("/api/v1/accounts/burner/series");
    INFO(hourly.dump(2));
    CHECK(hourly["currency"] == "USD");
    CHECK(hourly["step_seconds"] == 3600);
    REQUIRE(!hourly["points"].empty());
    const auto& last = hourly["points"].back();
    CHECK(last["ts_ms"].get<std::int64_t>() % 3'600'000 == 0);
    CHECK(last["readings"].get<int>() >= 3);
    CHECK(last["close"].get<double>() < 100000);
    CHECK(last["low"].get<double>() <= last["close"].get<double>());
    double spend = 0;
    for (const auto& p : hourly["points"]) spend += p["spend"].get<double>();
    CHECK(spend == doctest::Approx(hourly["points"].front()["open"].get<double>() - last["close"].get<double>()).epsilon(0.01));
    CHECK(spend > 2);

    // Two-second steps (a multiple of the 1 s interval) over the last few seconds.
    const auto from = creditwatch::format_rfc3339(creditwatch::from_unix_ms(started_ms - started_ms % 1000));
    const auto fine = daemon.get_json("/api/v1/accounts/burner/series?step=2s&from=" + encode(from));
    INFO(fine.dump(2));
    CHECK(fine["step_seconds"] == 2);
    REQUIRE(fine["points"].size() >= 2);
    double fine_spend = 0;
    for (const auto& p : fine["points"]) {
      CHECK(p["ts_ms"].get<std::int64_t>() % 2000 == 0);
      CHECK(p["spend"].get<double>() < 10);  // about 1 a second (more only after a late probe)
      fine_spend += p["spend"].get<double>();
    }
    CHECK(fine_spend > 1);

    for (const char* bad : {"step=90m", "step=1500ms", "step=1s&from=2026-01-01T00:00:00Z", "from=bad"}) {
      CAPTURE(bad);
      auto res = daemon.get(std::string("/api/v1/accounts/burner/series?") + bad);
      REQUIRE(res);
      CHECK(res->status == 400);
      CHECK(json::parse(res->body)["error"].is_string());
    }
    auto missing = daemon.get("/api/v1/accounts/nobody/series");
    REQUIRE(missing);
    CHECK(missing->status == 404);
  }
}
