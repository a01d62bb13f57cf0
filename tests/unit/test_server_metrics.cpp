#include "creditwatch/server/metrics.hpp"
#include "creditwatch/server/telemetry.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using creditwatch::Decimal;
using creditwatch::from_unix_ms;
using creditwatch::TimePoint;
using creditwatch::scheduler::Assessment;
using creditwatch::scheduler::summarize;
using creditwatch::server::escape_label;
using creditwatch::server::MetricsSnapshot;
using creditwatch::server::render_metrics;
using creditwatch::server::Telemetry;
using namespace std::chrono_literals;

namespace {

// 2026-05-01T00:00:00Z
const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);

Assessment assessment(const std::string& account, double balance, double burn, double runway, double latency = 0.2) {
  Assessment a;
  a.account = account;
  a.provider = "deepseek";
  a.currency = "CNY";
  a.balances.push_back({"CNY", Decimal::from_double(balance), std::nullopt, nlohmann::json::object()});
  creditwatch::forecast::Forecast f;
  f.balance = Decimal::from_double(balance);
  f.at = k_t0;
  f.burn_per_day = burn;
  f.runway_days = runway;
  a.forecast = f;
  a.observation.at = k_t0;
  a.latency_seconds = latency;
  return a;
}

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST_SUITE("server_metrics") {
  TEST_CASE("gauges carry account, provider, currency and the configured labels, after HELP and TYPE") {
    MetricsSnapshot s;
    s.latest["ds"] = summarize(assessment("ds", 110.5, 2.5, 44.2));
    s.labels["ds"] = {{"team", "bots"}, {"cost-center", "r&d"}, {"account", "ignored"}};
    const auto text = render_metrics(s);
    CHECK(contains(text, "# HELP creditwatch_balance "));
    CHECK(contains(text, "# TYPE creditwatch_balance gauge\n"));
    CHECK(text.find("# TYPE creditwatch_balance gauge") < text.find("creditwatch_balance{"));
    CHECK(contains(text,
                   "creditwatch_balance{account=\"ds\",provider=\"deepseek\",currency=\"CNY\",cost_center=\"r&d\","
                   "team=\"bots\"} 110.5\n"));
    CHECK(contains(text, "creditwatch_burn_rate_per_day{account=\"ds\",provider=\"deepseek\",currency=\"CNY\","));
    CHECK(contains(text, "} 2.5\n"));
    CHECK(contains(text, "} 44.2\n"));
    CHECK_FALSE(contains(text, "ignored"));  // a configured label cannot shadow a built-in one
  }

  TEST_CASE("the P10 coverage of an account's own forecasts is a gauge once known, beside the runway") {
    MetricsSnapshot s;
    auto judged = assessment("judged", 110.5, 2.5, 44.2);
    judged.forecast->track_record = creditwatch::forecast::TrackRecord{40, 0.125, 0.5};
    s.latest["judged"] = summarize(judged);
    s.latest["young"] = summarize(assessment("young", 10, 1, 10));
    s.labels["judged"] = {{"team", "bots"}};
    s.labels["young"] = {};
    const auto text = render_metrics(s);
    CHECK(contains(text, "# TYPE creditwatch_forecast_p10_coverage gauge\n"));
    CHECK(text.find("# TYPE creditwatch_runway_days gauge") < text.find("# TYPE creditwatch_forecast_p10_coverage"));
    // A share, not in a currency: no currency label; the configured labels as on the others.
    CHECK(contains(text, "creditwatch_forecast_p10_coverage{account=\"judged\",provider=\"deepseek\","
                         "team=\"bots\"} 0.125\n"));
    CHECK_FALSE(contains(text, "creditwatch_forecast_p10_coverage{account=\"young\""));  // no history to judge yet
  }

  TEST_CASE("the probe duration histogram is one per provider, cumulative, and its +Inf bucket equals the count") {
    Telemetry telemetry;
    telemetry.record_probe(assessment("ds", 1, 1, 1, 0.03));
    telemetry.record_probe(assessment("ds", 1, 1, 1, 0.3));
    telemetry.record_probe(assessment("ds-2", 1, 1, 1, 40));
    auto other = assessment("or", 1, 1, 1, 0.07);
    other.provider = "openrouter";
    telemetry.record_probe(other);
    MetricsSnapshot s;
    s.labels["ds"] = {};
    s.labels["ds-2"] = {};
    s.labels["or"] = {};
    s.telemetry = &telemetry;
    const auto text = render_metrics(s);
    CHECK(contains(text, "# TYPE creditwatch_probe_duration_seconds histogram\n"));
    const std::string labels = "{provider=\"deepseek\",";
    CHECK(contains(text, "creditwatch_probe_duration_seconds_bucket" + labels + "le=\"0.05\"} 1\n"));
    CHECK(contains(text, "creditwatch_probe_duration_seconds_bucket" + labels + "le=\"0.25\"} 1\n"));
    CHECK(contains(text, "creditwatch_probe_duration_seconds_bucket" + labels + "le=\"0.5\"} 2\n"));
    CHECK(contains(text, "creditwatch_probe_duration_seconds_bucket" + labels + "le=\"30\"} 2\n"));
    CHECK(contains(text, "creditwatch_probe_duration_seconds_bucket" + labels + "le=\"+Inf\"} 3\n"));
    CHECK(contains(text, "creditwatch_probe_duration_seconds_count{provider=\"deepseek\"} 3\n"));
    CHECK(contains(text, "creditwatch_probe_duration_seconds_count{provider=\"openrouter\"} 1\n"));
    CHECK(contains(text, "creditwatch_probe_duration_seconds_bucket{provider=\"openrouter\",le=\"0.1\"} 1\n"));
    const std::string sum = "creditwatch_probe_duration_seconds_sum{provider=\"deepseek\"} ";
    REQUIRE(contains(text, sum));
    CHECK(std::stod(text.substr(text.find(sum) + sum.size())) == doctest::Approx(40.33));
    // No per-account histogram: 11 series per account were 55,000 at 5,000 accounts.
    CHECK_FALSE(contains(text, "creditwatch_probe_duration_seconds_bucket{account="));
    CHECK_FALSE(contains(text, "creditwatch_probe_duration_seconds_count{account="));
    // The per-account gauge stays.
    CHECK(contains(text,
                   "creditwatch_last_success_timestamp_seconds{account=\"ds\",provider=\"deepseek\"} 1777593600\n"));
    CHECK(contains(text,
                   "creditwatch_last_success_timestamp_seconds{account=\"or\",provider=\"openrouter\"} 1777593600\n"));
  }

  TEST_CASE("probe failures are counted per account and kind, and a failure is no success") {
    Telemetry telemetry;
    auto failed = assessment("ds", 1, 1, 1, 5);
    failed.error = creditwatch::providers::ProbeError{creditwatch::providers::ErrorKind::timeout, "timed out", 0,
                                                      std::nullopt};
    telemetry.record_probe(failed);
    telemetry.record_probe(failed);
    MetricsSnapshot s;
    s.labels["ds"] = {};
    s.telemetry = &telemetry;
    const auto text = render_metrics(s);
    CHECK(contains(text, "creditwatch_probe_failures_total{account=\"ds\",provider=\"deepseek\",kind=\"timeout\"} 2\n"));
    CHECK_FALSE(contains(text, "creditwatch_last_success_timestamp_seconds{account=\"ds\""));
  }

  TEST_CASE("numbers: whole ones without an exponent, others in their shortest round-trip form") {
    MetricsSnapshot s;
    s.latest["ds"] = summarize(assessment("ds", 0.05, 1.0 / 3.0, 1e20));
    s.labels["ds"] = {};
    const auto text = render_metrics(s);
    CHECK(contains(text, "} 0.05\n"));
    CHECK(contains(text, "} 0.3333333333333333\n"));
    CHECK(contains(text, "} 1e+20\n"));
  }

  TEST_CASE("accounts no longer configured leave the exposition") {
    Telemetry telemetry;
    telemetry.record_probe(assessment("gone", 1, 1, 1));
    telemetry.record_probe(assessment("kept", 1, 1, 1));
    MetricsSnapshot s;
    s.latest["gone"] = summarize(assessment("gone", 5, 1, 5));
    s.latest["kept"] = summarize(assessment("kept", 5, 1, 5));
    s.labels["kept"] = {};
    s.alerts.push_back({"gone", "runway", "firing", "critical", k_t0, k_t0, "{}"});
    s.alerts.push_back({"kept", "runway", "firing", "warning", k_t0, k_t0, "{}"});
    s.alerts.push_back({"kept", "stale", "resolved", "warning", k_t0, k_t0, "{}"});
    s.telemetry = &telemetry;
    const auto text = render_metrics(s);
    CHECK_FALSE(contains(text, "\"gone\""));
    CHECK(contains(text, "creditwatch_balance{account=\"kept\""));
    CHECK(contains(text, "creditwatch_last_success_timestamp_seconds{account=\"kept\""));
    CHECK_FALSE(contains(text, "creditwatch_last_success_timestamp_seconds{account=\"gone\""));
    CHECK(contains(text, "creditwatch_alerts_firing{account=\"kept\",rule=\"runway\",severity=\"warning\",silenced=\"false\"} 1\n"));
    CHECK_FALSE(contains(text, "rule=\"stale\""));  // resolved alerts are not firing
  }

  TEST_CASE("heartbeats have a failure counter and, once one went through, a last success time") {
    MetricsSnapshot s;
    s.heartbeats.push_back({"hc", 3, k_t0 + 1500ms});
    s.heartbeats.push_back({"watchdog:am", 2, std::nullopt});
    const auto text = render_metrics(s);
    CHECK(contains(text, "# TYPE creditwatch_heartbeat_failures_total counter\n"));
    CHECK(contains(text, "creditwatch_heartbeat_failures_total{heartbeat=\"hc\"} 3\n"));
    CHECK(contains(text, "creditwatch_heartbeat_failures_total{heartbeat=\"watchdog:am\"} 2\n"));
    CHECK(contains(text, "# TYPE creditwatch_heartbeat_last_success_timestamp_seconds gauge\n"));
    CHECK(contains(text, "creditwatch_heartbeat_last_success_timestamp_seconds{heartbeat=\"hc\"} 1777593601.5\n"));
    CHECK_FALSE(contains(text, "creditwatch_heartbeat_last_success_timestamp_seconds{heartbeat=\"watchdog:am\"}"));
  }

  TEST_CASE("label values escape backslash, double quote and newline") {
    CHECK(escape_label(R"(a\b)") == R"(a\\b)");
    CHECK(escape_label("say \"hi\"") == R"(say \"hi\")");
    CHECK(escape_label("two\nlines") == R"(two\nlines)");
    CHECK(escape_label("plain-äccount") == "plain-äccount");
  }
}
