// The real daemon's HTTP surface (SPEC "HTTP"): /healthz, /metrics checked by the real
// `promtool check metrics`, /api/v1/accounts, the samples endpoint, and bearer auth from
// http.auth_token_file. One `simulated` account and one `deepseek` account against a
// loopback fake answering the documented body (providers.md section 1).
#include "http_daemon.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using TimePoint = std::chrono::system_clock::time_point;
// (what, body) of every answer served, for the key check.
using Bodies = std::vector<std::pair<std::string, std::string>>;

const std::string k_token = "tok-OPS-b3arer-5ecret";

std::string two_accounts(const DeepSeekBalanceFake& deepseek) {
  // 86400 USD a day is 1 USD a second: a runway of minutes, so the runway alert fires.
  return simulated_account("sim-burner", "500", "86400", "    labels: { team: bots }\n") +
         deepseek_account("ds-prod", deepseek.url());
}

// The value of the first sample line of `name` carrying every label given.
std::optional<double> sample_value(const std::string& body, const std::string& name,
                                   const std::vector<std::pair<std::string, std::string>>& labels) {
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    const auto close = line.rfind('}');
    const auto label_text = line.substr(name.size(), close - name.size() + 1);
    bool all = true;
    for (const auto& [k, v] : labels) {
      all = all && (label_text.find("{" + k + "=\"" + v + "\"") != std::string::npos ||
                    label_text.find("," + k + "=\"" + v + "\"") != std::string::npos);
    }
    if (all) return std::stod(line.substr(close + 1));
  }
  return std::nullopt;
}

// The one lint finding the contract forces: SPEC names the runway gauge
// creditwatch_runway_days, and promtool's linter wants base units (seconds) in names.
const std::string k_accepted_lint = "creditwatch_runway_days use base unit \"seconds\" instead of \"days\"";

// Runs the real `promtool check metrics` on `body`; fails (does not skip) without promtool.
// Exit 1 means the exposition does not parse; exit 3 means lint findings, which must all be
// accepted ones.
void check_with_promtool(const TempDir& dir, const std::string& body) {
  const auto promtool = find_program("promtool");
  REQUIRE_MESSAGE(promtool.has_value(),
                  "promtool not found on PATH: install the Debian package `prometheus` (scripts/install-deps does)");
  const auto file = dir.write("metrics.txt", body);
  const auto r = run_process({"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", *promtool, file}, {}, 30s);
  INFO("promtool exit " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err << "\nmetrics:\n" << body);
  REQUIRE((r.exit_code == 0 || r.exit_code == 3));
  CHECK(r.out.empty());
  std::istringstream lines(r.err);
  std::string line;
  while (std::getline(lines, line)) {
    CHECK_MESSAGE((line.empty() || line == k_accepted_lint), "promtool: " << line);
  }
}

void check_no_key(const std::string& what, const std::string& body) {
  for (const char* piece : {k_ops_deepseek_key, "SECRET-0ps7", "0ps7c0ffee99"}) {
    CHECK_MESSAGE(body.find(piece) == std::string::npos, what << " leaks the API key");
  }
}

// /healthz.
void check_healthz(const HttpDaemon& daemon, Bodies& bodies) {
  auto res = daemon.get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "ok\n");
  CHECK(res->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  bodies.emplace_back("/healthz", res->body);
}

using Labels = std::vector<std::pair<std::string, std::string>>;

// HELP and TYPE for every family the SPEC names (the counters appear once something counts).
void check_families(const std::string& body) {
  for (const auto& [family, type] : Labels{
           {"creditwatch_balance", "gauge"},
           {"creditwatch_burn_rate_per_day", "gauge"},
           {"creditwatch_runway_days", "gauge"},
           {"creditwatch_last_success_timestamp_seconds", "gauge"},
           {"creditwatch_probe_duration_seconds", "histogram"},
           {"creditwatch_probe_failures_total", "counter"},
           {"creditwatch_alerts_firing", "gauge"},
           {"creditwatch_notifications_total", "counter"},
       }) {
    CHECK_MESSAGE(body.find("# HELP " + family + " ") != std::string::npos, "no HELP for " << family);
    CHECK_MESSAGE(body.find("# TYPE " + family + " " + type + "\n") != std::string::npos, "no TYPE for " << family);
  }
}

// Balance, burn rate and runway of each account, labelled account/provider/currency.
void check_account_series(const std::string& body) {
  const Labels sim = {{"account", "sim-burner"}, {"provider", "simulated"}, {"currency", "USD"}};
  const Labels ds = {{"account", "ds-prod"}, {"provider", "deepseek"}, {"currency", "CNY"}};
  for (const auto& labels : {sim, ds}) {
    CAPTURE(labels[0].second);
    const auto balance = sample_value(body, "creditwatch_balance", labels);
    const auto burn = sample_value(body, "creditwatch_burn_rate_per_day", labels);
    const auto runway = sample_value(body, "creditwatch_runway_days", labels);
    REQUIRE(balance);
    REQUIRE(burn);
    REQUIRE(runway);
    CHECK(*balance > 0);
    CHECK(*burn > 0);
    CHECK(*runway > 0);
    CHECK(*runway == doctest::Approx(*balance / *burn).epsilon(0.2));
  }
  CHECK(*sample_value(body, "creditwatch_balance", ds) <= 110.0);
  CHECK(*sample_value(body, "creditwatch_balance", ds) > 60.0);
  CHECK(*sample_value(body, "creditwatch_burn_rate_per_day", sim) == doctest::Approx(86400).epsilon(0.1));
  CHECK(*sample_value(body, "creditwatch_burn_rate_per_day", ds) == doctest::Approx(0.25 * 86400).epsilon(0.25));
  // Configured labels travel with the account's series.
  CHECK(sample_value(body, "creditwatch_balance", {{"account", "sim-burner"}, {"team", "bots"}}));
  CHECK(sample_value(body, "creditwatch_alerts_firing",
                     {{"account", "sim-burner"}, {"rule", "runway"}, {"severity", "critical"}}) == 1.0);
}

// The probe duration histogram of each provider (one per provider, not per account: a fleet
// of 5,000 accounts had 55,000 histogram series) and the last-success gauge of each account.
void check_probe_series(const std::string& body, TimePoint started_at) {
  for (const char* provider : {"simulated", "deepseek"}) {
    CAPTURE(provider);
    const Labels probe = {{"provider", provider}};
    auto inf = probe;
    inf.emplace_back("le", "+Inf");
    const auto count = sample_value(body, "creditwatch_probe_duration_seconds_count", probe);
    REQUIRE(count);
    CHECK(*count >= 2);
    CHECK(sample_value(body, "creditwatch_probe_duration_seconds_bucket", inf) == count);
    CHECK(sample_value(body, "creditwatch_probe_duration_seconds_sum", probe));
  }
  CHECK(body.find("creditwatch_probe_duration_seconds_count{account=") == std::string::npos);
  for (const char* account : {"sim-burner", "ds-prod"}) {
    CAPTURE(account);
    const auto last = sample_value(body, "creditwatch_last_success_timestamp_seconds", {{"account", account}});
    REQUIRE(last);
    CHECK(*last >= std::chrono::duration<double>(started_at.time_since_epoch()).count() - 1);
  }
}

// /metrics passes promtool and carries balance, burn rate, runway and the probe histogram.
void check_metrics(const TempDir& dir, const HttpDaemon& daemon, TimePoint started_at, Bodies& bodies) {
  // The runway alert of the burning account shows up once its rules have run.
  REQUIRE(eventually(
      [&] {
        auto res = daemon.get("/metrics");
        return res &&
               res->body.find("creditwatch_alerts_firing{account=\"sim-burner\",rule=\"runway\"") != std::string::npos;
      },
      15s));
  auto res = daemon.get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").find("text/plain; version=0.0.4") == 0);
  bodies.emplace_back("/metrics", res->body);
  INFO("metrics:\n" << res->body);
  check_families(res->body);
  check_account_series(res->body);
  check_probe_series(res->body, started_at);
  check_with_promtool(dir, res->body);
}

// /api/v1/accounts names both accounts with balance, runway, exhaustion, top-up and alerts.
void check_accounts_api(const HttpDaemon& daemon, TimePoint started_at, Bodies& bodies) {
  REQUIRE(eventually(
      [&] {
        auto a = daemon.account("sim-burner");
        return a && (*a)["alerts"].is_array() && !(*a)["alerts"].empty();
      },
      15s));
  auto res = daemon.get("/api/v1/accounts");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  bodies.emplace_back("/api/v1/accounts", res->body);
  const auto j = json::parse(res->body);
  INFO("accounts:\n" << j.dump(2));
  REQUIRE(j["accounts"].is_array());
  REQUIRE(j["accounts"].size() == 2);
  CHECK(creditwatch::parse_rfc3339(j["generated_at"].get<std::string>()));
  for (const auto& a : j["accounts"]) {
    for (const char* key :
         {"account", "provider", "state", "currency", "balance", "burn_per_day", "runway_days", "runway_p10_days",
          "exhausted_at", "recommended_topup", "sampled_at", "forecast_record", "alerts", "firing", "labels",
          "error"}) {
      CHECK_MESSAGE(a.contains(key), a["account"] << " lacks " << key);
    }
    CHECK(a["balance"].is_number());
    CHECK(a["burn_per_day"].is_number());
    CHECK(a["runway_days"].is_number());
    REQUIRE(a["exhausted_at"].is_string());
    const auto exhausted = creditwatch::parse_rfc3339(a["exhausted_at"].get<std::string>());
    REQUIRE(exhausted);
    CHECK(*exhausted > started_at);
    CHECK(a["recommended_topup"].is_number());
    CHECK(a["recommended_topup"].get<double>() > 0);  // a runway of minutes is below target_days
    CHECK(a["alerts"].is_array());
    CHECK(a["error"].is_null());
  }
  const auto& sim = j["accounts"][0]["account"] == "sim-burner" ? j["accounts"][0] : j["accounts"][1];
  const auto& ds = j["accounts"][0]["account"] == "ds-prod" ? j["accounts"][0] : j["accounts"][1];
  CHECK(sim["account"] == "sim-burner");
  CHECK(sim["provider"] == "simulated");
  CHECK(sim["currency"] == "USD");
  CHECK(sim["state"] == "CRITICAL");
  CHECK(sim["labels"]["team"] == "bots");
  bool runway_alert = false;
  for (const auto& alert : sim["alerts"]) {
    runway_alert = runway_alert || (alert["rule"] == "runway" && alert["severity"] == "critical" &&
                                    creditwatch::parse_rfc3339(alert["since"].get<std::string>()));
  }
  CHECK(runway_alert);
  CHECK(ds["account"] == "ds-prod");
  CHECK(ds["provider"] == "deepseek");
  CHECK(ds["currency"] == "CNY");
  CHECK(ds["balance"].get<double>() <= 110.0);
  REQUIRE(ds["balances"].is_array());
  CHECK(ds["balances"][0]["currency"] == "CNY");
}

// /api/v1/accounts/NAME/samples returns the stored samples; 400 on a bad since, 404 on no account.
void check_samples_api(const HttpDaemon& daemon, Bodies& bodies) {
  const auto since = creditwatch::format_rfc3339(std::chrono::system_clock::now() - 1h);
  auto res = daemon.get("/api/v1/accounts/ds-prod/samples?since=" + since);
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  bodies.emplace_back("samples", res->body);
  const auto j = json::parse(res->body);
  INFO("samples:\n" << j.dump(2));
  CHECK(j["account"] == "ds-prod");
  CHECK(j["since"] == since);
  REQUIRE(j["samples"].is_array());
  REQUIRE(j["samples"].size() >= 2);

  // What the API returned is what the database holds (which may have grown since).
  creditwatch::storage::SqliteStore store(daemon.db_path());
  const auto stored = store.samples("ds-prod", *creditwatch::parse_rfc3339(since));
  REQUIRE(stored.size() >= j["samples"].size());
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < j["samples"].size(); ++i) {
    const auto& s = j["samples"][i];
    CAPTURE(i);
    CHECK(s["ts_ms"].get<std::int64_t>() == creditwatch::to_unix_ms(stored[i].at));
    CHECK(s["ts"] == creditwatch::format_rfc3339(stored[i].at));
    CHECK(s["currency"] == "CNY");
    CHECK(s["balance"].get<double>() == doctest::Approx(stored[i].balance.to_double()));
    CHECK(s["balance"].get<double>() <= 110.0);
    CHECK(s["ts_ms"].get<std::int64_t>() >= previous);  // oldest first
    previous = s["ts_ms"].get<std::int64_t>();
  }

  // An offset (URL-encoded '+') is accepted; a since in the future gives no samples.
  auto offset = daemon.get("/api/v1/accounts/sim-burner/samples?since=2020-01-01T02:00:00%2B02:00");
  REQUIRE(offset);
  CHECK(offset->status == 200);
  CHECK(json::parse(offset->body)["samples"].size() >= 2);
  const auto future = creditwatch::format_rfc3339(std::chrono::system_clock::now() + 24h);
  auto later = daemon.get("/api/v1/accounts/sim-burner/samples?since=" + future);
  REQUIRE(later);
  CHECK(later->status == 200);
  CHECK(json::parse(later->body)["samples"].empty());
  // Without since: the last week.
  auto week = daemon.get("/api/v1/accounts/sim-burner/samples");
  REQUIRE(week);
  CHECK(week->status == 200);
  CHECK(json::parse(week->body)["samples"].size() >= 2);

  for (const char* bad : {"yesterday", "2026-13-01T00:00:00Z", "2026-05-01T25:00:00Z", "1777593600"}) {
    CAPTURE(bad);
    auto r = daemon.get(std::string("/api/v1/accounts/ds-prod/samples?since=") + bad);
    REQUIRE(r);
    CHECK(r->status == 400);
    const auto error = json::parse(r->body, nullptr, false);
    REQUIRE(error.is_object());
    CHECK(error["error"].get<std::string>().find("RFC 3339") != std::string::npos);
  }
  for (const char* path : {"/api/v1/accounts/no-such-account/samples",
                           "/api/v1/accounts/no-such-account/samples?since="
                           "2026-01-01T00:00:00Z"}) {
    CAPTURE(path);
    auto r = daemon.get(path);
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(json::parse(r->body, nullptr, false).contains("error"));
  }
  auto unknown = daemon.get("/api/v2/nothing");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
}

// The status page is served self-contained.
void check_page(const HttpDaemon& daemon, Bodies& bodies) {
  auto res = daemon.get("/");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/html", 0) == 0);
  CHECK(res->get_header_value("Content-Security-Policy").find("default-src 'none'") != std::string::npos);
  CHECK(res->body.find("<script") != std::string::npos);
  CHECK(res->body.find("src=\"http") == std::string::npos);  // nothing from a CDN
  CHECK(res->body.find("href=\"http") == std::string::npos);
  bodies.emplace_back("/", res->body);
}

}  // namespace

TEST_SUITE("server_http") {
  TEST_CASE("healthz, Prometheus metrics, the accounts API and the samples API") {
    TempDir dir;
    DeepSeekBalanceFake deepseek;
    dir.write("creditwatch.yaml", daemon_yaml(dir, two_accounts(deepseek)));
    HttpDaemon daemon(dir);
    const auto started_at = std::chrono::system_clock::now();
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(daemon.wait_for_burn({"sim-burner", "ds-prod"}, 20s));
    Bodies bodies;

    check_healthz(daemon, bodies);
    check_metrics(dir, daemon, started_at, bodies);
    check_accounts_api(daemon, started_at, bodies);
    check_samples_api(daemon, bodies);
    check_page(daemon, bodies);

    for (const auto& [what, body] : bodies) check_no_key(what, body);
    // The key did reach the provider, where it belongs.
    bool bearer = false;
    for (const auto& r : deepseek.requests()) {
      bearer = bearer || r.header("Authorization") == std::string("Bearer ") + k_ops_deepseek_key;
    }
    CHECK(bearer);
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("http.auth_token_file: /metrics, the API and the page need the bearer token, /healthz does not") {
    TempDir dir;
    DeepSeekBalanceFake deepseek;
    const auto token_file = dir.write("http-token", k_token + "\n");
    dir.write("creditwatch.yaml", daemon_yaml(dir, two_accounts(deepseek), "  auth_token_file: " + token_file + "\n"));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(daemon.wait_for_burn({"sim-burner", "ds-prod"}, 20s, k_token));

    auto health = daemon.get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(health->body == "ok\n");

    // The page is guarded too, but a browser is sent to the sign-in form instead of a 401
    // (test_server_sign_in.cpp).
    const std::vector<std::string> guarded = {"/metrics", "/api/v1/accounts", "/api/v1/accounts/ds-prod/samples",
                                              "/api/v1/accounts/no-such-account/samples"};
    for (const auto& path : guarded) {
      CAPTURE(path);
      for (const auto& authorization :
           {std::string(), std::string("Bearer wrong-token"), std::string("Bearer ") + k_token + "x",
            std::string("Bearer ") + k_token.substr(0, k_token.size() - 1), std::string("Basic ") + k_token,
            std::string("bearer") + k_token, k_token}) {
        CAPTURE(authorization);
        auto res = daemon.get(path, "", authorization);
        REQUIRE(res);
        CHECK(res->status == 401);
        CHECK(res->get_header_value("WWW-Authenticate") == "Bearer");
        CHECK(res->body.find(k_token) == std::string::npos);
        check_no_key(path, res->body);
      }
      auto res = daemon.get(path, k_token);
      REQUIRE(res);
      CHECK(res->status == (path.find("no-such-account") != std::string::npos ? 404 : 200));
      CHECK(res->body.find(k_token) == std::string::npos);
      check_no_key(path, res->body);
    }
    auto page = daemon.get("/", "", "Bearer wrong-token");
    REQUIRE(page);
    CHECK(page->status == 303);
    CHECK(page->get_header_value("Location") == "/sign-in");
    auto signed_page = daemon.get("/", k_token);
    REQUIRE(signed_page);
    CHECK(signed_page->status == 200);
    // With the token the body is the real thing.
    auto metrics = daemon.get("/metrics", k_token);
    REQUIRE(metrics);
    CHECK(metrics->body.find("creditwatch_balance{account=\"ds-prod\"") != std::string::npos);
    // Authenticated requests still reach /healthz.
    auto health_with_token = daemon.get("/healthz", k_token);
    REQUIRE(health_with_token);
    CHECK(health_with_token->status == 200);

    CHECK(daemon.terminate() == 0);
    const auto log = daemon.log();
    CHECK_MESSAGE(log.find(k_token) == std::string::npos, "the log leaks the HTTP token");
    CHECK_MESSAGE(log.find(k_ops_deepseek_key) == std::string::npos, "the log leaks the API key");
  }

  TEST_CASE("samples: limit keeps the newest samples, a since before retention is clamped and said so") {
    TempDir dir;
    auto yaml = daemon_yaml(dir, simulated_account("sim", "1000", "8640"));
    const auto path_end = yaml.find('\n', yaml.find("  path: ")) + 1;
    yaml.insert(path_end, "  retention: 2h\n");
    dir.write("creditwatch.yaml", yaml);
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    const std::string base = "/api/v1/accounts/sim/samples";
    REQUIRE(eventually([&] { return daemon.get_json(base)["samples"].size() >= 6; }, 20s));

    // By default up to 10,000, nothing left out; the default since (7 days ago) lies before
    // the retention start.
    const auto all = daemon.get_json(base);
    CHECK(all["limit"] == 10000);
    CHECK(all["truncated"] == false);
    CHECK(all["since_clamped"] == true);
    // Each sample is a run: first read at ts, the same figures read until seen_until.
    for (const auto& s : all["samples"]) {
      REQUIRE(s["seen_until_ms"].is_number_integer());
      CHECK(s["seen_until_ms"].get<std::int64_t>() >= s["ts_ms"].get<std::int64_t>());
      CHECK(creditwatch::parse_rfc3339(s["seen_until"].get<std::string>()).has_value());
    }

    // limit=3: the three newest, oldest first, and the answer says older ones were left out.
    const auto few = daemon.get_json(base + "?limit=3");
    INFO("limit=3:\n" << few.dump(2));
    REQUIRE(few["samples"].size() == 3);
    CHECK(few["limit"] == 3);
    CHECK(few["truncated"] == true);
    const auto last_ms = few["samples"][2]["ts_ms"].get<std::int64_t>();
    CHECK(last_ms >= all["samples"].back()["ts_ms"].get<std::int64_t>());
    creditwatch::storage::SqliteStore store(daemon.db_path());
    std::vector<std::int64_t> stored;
    for (const auto& s : store.samples("sim", creditwatch::from_unix_ms(0))) {
      if (creditwatch::to_unix_ms(s.at) <= last_ms) stored.push_back(creditwatch::to_unix_ms(s.at));
    }
    REQUIRE(stored.size() >= 6);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(few["samples"][i]["ts_ms"].get<std::int64_t>() == stored[stored.size() - 3 + i]);
    }
    // The store's own limit keeps the newest too.
    const auto newest = store.samples("sim", creditwatch::from_unix_ms(0), "", 2);
    REQUIRE(newest.size() == 2);
    CHECK(newest[0].at < newest[1].at);
    CHECK(creditwatch::to_unix_ms(newest[1].at) >= last_ms);

    // A limit over the cap is capped; a bad one is refused.
    CHECK(daemon.get_json(base + "?limit=5000000")["limit"] == 100000);
    CHECK(daemon.get(base + "?limit=0")->status == 400);
    CHECK(daemon.get(base + "?limit=many")->status == 400);

    // since before the retention start (2 h) is moved up to it.
    const auto now = std::chrono::system_clock::now();
    const auto old = daemon.get_json(base + "?since=2020-01-01T00:00:00Z");
    CHECK(old["since_clamped"] == true);
    const auto used = creditwatch::parse_rfc3339(old["since"].get<std::string>());
    REQUIRE(used);
    CHECK(*used > now - 2h - 30s);
    CHECK(*used < now - 2h + 30s);
    CHECK(old["samples"].size() >= 6);
    const auto recent = creditwatch::format_rfc3339(now - 1h);
    const auto kept = daemon.get_json(base + "?since=" + recent);
    CHECK(kept["since_clamped"] == false);
    CHECK(kept["since"] == recent);
    CHECK(daemon.terminate() == 0);
  }
}
