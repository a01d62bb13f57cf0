// End-to-end: `creditwatch backtest --json --series` on a small generated trace, as the
// benchmark (bench/forecast/score.py) runs it: every line is JSON with the documented fields,
// the summary agrees with the lines, the output is reproducible, and RFC 3339 timestamps
// read the same as unix seconds.
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;

namespace {

constexpr const char* k_config =
    "accounts:\n"
    "  - name: acct\n"
    "    provider: simulated\n"
    "    warn_days: 14\n"
    "    critical_days: 3\n";

constexpr long k_t0 = 1'767'225'600;  // 2026-01-01T00:00:00Z

std::string rfc3339(long unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// Ten days of 10-minute samples: a daily cycle at about 20/day, a dropped probe now and then,
// a top-up on day 4, a leaked key (about 15x) for twelve hours on day 8, cent rounding.
std::string trace(bool rfc) {
  std::ostringstream out;
  out << "timestamp,balance\n";
  double balance = 120;
  for (long i = 0; i <= 10 * 144; ++i) {
    const double day = i / 144.0;
    if (i > 0) {
      double rate = 20 * (1 + 0.5 * std::sin(day * 2 * M_PI));
      if (day > 8 && day <= 8.5) rate *= 15;
      balance = std::max(0.0, balance - rate / 144);
      if (i == 4 * 144) balance += 200;
    }
    if (i % 37 == 5) continue;  // dropped probe
    const long ts = k_t0 + i * 600;
    char amount[32];
    std::snprintf(amount, sizeof amount, "%.2f", std::round(balance * 100) / 100);
    out << (rfc ? rfc3339(ts) : std::to_string(ts)) << "," << amount << "\n";
  }
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

bool number_or_null(const nlohmann::json& j, const char* key) {
  return j.contains(key) && (j[key].is_number() || j[key].is_null());
}

}  // namespace

TEST_SUITE("backtest_cli") {
  TEST_CASE("backtest --json --series prints parseable, consistent, reproducible lines") {
    TempDir dir;
    const auto config = dir.write("creditwatch.yaml", k_config);
    const auto rfc_csv = dir.write("trace_rfc.csv", trace(true));
    const auto unix_csv = dir.write("trace_unix.csv", trace(false));
    const auto args = [&](const std::string& csv) {
      return std::vector<std::string>{"backtest", "-c", config, "--account", "acct", "--csv", csv, "--json", "--series"};
    };

    const auto first = run_creditwatch(args(rfc_csv));
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    const auto lines = lines_of(first.out);
    REQUIRE(lines.size() > 2);

    std::size_t series = 0;
    std::size_t calibrated = 0;
    std::size_t notifications = 0;
    std::size_t spikes = 0;
    std::size_t runway_alerts = 0;
    std::string previous_ts;
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
      INFO(lines[i]);
      const auto j = nlohmann::json::parse(lines[i]);  // throws (fails) on a bad line
      REQUIRE(j.is_object());
      REQUIRE(j.contains("ts"));
      REQUIRE(j["ts"].is_string());
      const auto ts = j["ts"].get<std::string>();
      CHECK(ts.size() >= 20);
      CHECK(ts >= previous_ts);  // time order (same-format RFC 3339 strings sort by time)
      previous_ts = ts;
      CHECK(j["balance"].is_number());
      if (j.contains("event")) {
        ++notifications;
        CHECK(j.size() == 7);
        CHECK((j["event"] == "firing" || j["event"] == "resolved"));
        CHECK(j["rule"].is_string());
        CHECK((j["severity"] == "info" || j["severity"] == "warning" || j["severity"] == "critical"));
        CHECK(number_or_null(j, "burn_per_day"));
        CHECK(number_or_null(j, "runway_days"));
        if (j["rule"] == "spend_spike" && j["event"] == "firing") ++spikes;
        if (j["rule"] == "runway") ++runway_alerts;
      } else {
        ++series;
        // The quantiles' calibration once there is a forecast, the track record once the
        // account has enough history to judge its own forecasts.
        CHECK(j.size() == 5 + j.contains("calibration") + j.contains("track_record"));
        if (j.contains("calibration")) {
          CHECK(j["calibration"]["spread_factor"].get<double>() > 0.0);
          CHECK(j["calibration"]["bias_factor"].get<double>() > 0.0);
          CHECK(j["calibration"]["growth_per_week"].is_number());
          CHECK(j["calibration"]["weekly_checks"].is_number_integer());
        }
        calibrated += j.contains("calibration");
        CHECK(number_or_null(j, "burn_per_day"));
        CHECK(number_or_null(j, "runway_days"));
        CHECK(number_or_null(j, "runway_p10_days"));
        // Both runways are null when there is no spend, and P10 never exceeds P50.
        CHECK(j["runway_days"].is_null() == j["runway_p10_days"].is_null());
        if (j["runway_days"].is_number()) {
          CHECK(j["runway_p10_days"].get<double>() <= j["runway_days"].get<double>() + 1e-9);
        }
      }
    }
    const auto summary = nlohmann::json::parse(lines.back());
    CHECK(summary["summary"] == true);
    CHECK(summary["samples"] == series);
    CHECK(summary["notifications"] == notifications);
    CHECK(series == lines_of(trace(true)).size() - 1);
    CHECK(calibrated > 0);  // the series says which quantiles it used
    CHECK(spikes >= 1);         // the leaked key
    CHECK(runway_alerts >= 1);  // a 120 balance at ~20/day is under warn_days from the start

    const auto second = run_creditwatch(args(rfc_csv));
    REQUIRE(second.exit_code == 0);
    CHECK(second.out == first.out);

    const auto from_unix = run_creditwatch(args(unix_csv));
    INFO(from_unix.err);
    REQUIRE(from_unix.exit_code == 0);
    CHECK(from_unix.out == first.out);
  }

  TEST_CASE("backtest prints changes of alert state, and --repeats adds the daily reminders") {
    // 100 spent at 10 a day for ten days: a runway warning from the start, critical for the
    // last three days, so a still-firing warning is re-sent every repeat_interval (24 h).
    std::ostringstream csv;
    csv << "timestamp,balance\n";
    for (long i = 0; i <= 9 * 144; ++i) {
      char amount[32];
      std::snprintf(amount, sizeof amount, "%.2f", 100.0 - 10.0 * i / 144);
      csv << (k_t0 + i * 600) << "," << amount << "\n";
    }
    TempDir dir;
    const auto config = dir.write("creditwatch.yaml", k_config);
    const auto path = dir.write("steady.csv", csv.str());
    const auto run = [&](bool repeats) {
      std::vector<std::string> args{"backtest", "-c", config, "--account", "acct", "--csv", path, "--json"};
      if (repeats) args.push_back("--repeats");
      const auto result = run_creditwatch(args);
      INFO(result.err);
      REQUIRE(result.exit_code == 0);
      std::vector<nlohmann::json> notes;
      for (const auto& line : lines_of(result.out)) notes.push_back(nlohmann::json::parse(line));
      CHECK(notes.back()["notifications"] == notes.size() - 1);
      notes.pop_back();
      return notes;
    };
    const auto count_runway = [](const std::vector<nlohmann::json>& notes, const char* severity) {
      std::size_t n = 0;
      for (const auto& j : notes) n += j["rule"] == "runway" && j["event"] == "firing" && j["severity"] == severity;
      return n;
    };

    const auto changes = run(false);
    CHECK(count_runway(changes, "warning") == 1);
    CHECK(count_runway(changes, "critical") == 1);
    const auto with_reminders = run(true);
    CHECK(count_runway(with_reminders, "warning") >= 5);  // about six days at warning
    CHECK(with_reminders.size() > changes.size());
  }

  TEST_CASE("an empty account is reminded of once a day, as exhausted, not also as a runway") {
    // 30 spent at 10 a day: empty on day 3, then five more days at zero.
    std::ostringstream csv;
    csv << "timestamp,balance\n";
    for (long i = 0; i <= 8 * 144; ++i) {
      char amount[32];
      std::snprintf(amount, sizeof amount, "%.2f", std::max(0.0, 30.0 - 10.0 * i / 144));
      csv << (k_t0 + i * 600) << "," << amount << "\n";
    }
    TempDir dir;
    const auto config = dir.write("creditwatch.yaml", k_config);
    const auto path = dir.write("empty.csv", csv.str());
    const auto result =
        run_creditwatch({"backtest", "-c", config, "--account", "acct", "--csv", path, "--json", "--repeats"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    std::size_t exhausted = 0;
    std::size_t runway_after_empty = 0;
    std::string runway_state;
    for (const auto& line : lines_of(result.out)) {
      const auto j = nlohmann::json::parse(line);
      if (!j.contains("event")) continue;
      if (j["rule"] == "runway") runway_state = j["event"].get<std::string>() + " " + j["severity"].get<std::string>();
      if (j["event"] != "firing") continue;
      if (j["rule"] == "exhausted") ++exhausted;
      if (j["rule"] == "runway" && exhausted > 0) ++runway_after_empty;
    }
    CHECK(exhausted >= 5);  // the first page and a reminder for each day at zero
    CHECK(runway_after_empty == 0);
    CHECK(runway_state == "firing critical");  // still firing, only quiet
  }
}
