// Secret scan: a full run with distinctive fake credentials everywhere (provider keys from
// the environment and from files, a basic-auth token, a secret header, a Slack webhook URL
// token, the HTTP bearer token), fakes that echo every credential they receive back in
// their error bodies, failing probes and failing deliveries. Every byte the program emits
// (validate, check, status, test-notify, the daemon's text and JSON logs, /metrics,
// /api/v1/..., the status page) and the database file are scanned for each secret.
#include "http_daemon.hpp"

#include <doctest/doctest.h>

#include <httplib.h>
#include <filesystem>

#include <string>
#include <vector>

using namespace creditwatch::testing;

namespace {

constexpr const char* k_deepseek_key = "sk-SCAN-deepseek-7a1b9c";
constexpr const char* k_openrouter_key = "sk-or-SCAN-filekey-4d2e8f";
constexpr const char* k_twilio_token = "SCANtwilioToken93";
constexpr const char* k_header_secret = "SCAN-httpjson-hdr-55e1";
constexpr const char* k_probe_key = "sk-SCAN-probe-c0ffee11";
constexpr const char* k_costs_key = "sk-admin-SCAN-costs-8b8b";
constexpr const char* k_slack_token = "SCANslackTOKEN77";
constexpr const char* k_bearer = "SCAN-bearer-token-31f0";
// Twilio's Authorization header: base64("ACscan0001:SCANtwilioToken93").
constexpr const char* k_twilio_basic = "QUNzY2FuMDAwMTpTQ0FOdHdpbGlvVG9rZW45Mw==";

const std::vector<std::string> k_secrets = {k_deepseek_key,  k_openrouter_key, k_twilio_token,
                                            k_header_secret, k_probe_key,      k_costs_key,
                                            k_slack_token,   k_bearer,         k_twilio_basic};

// Answers `status` with a body that repeats everything the client sent: its path, query
// and every header value (so an echoed credential reaches whatever logs the answer).
void echo(httplib::Response& res, const httplib::Request& req, int status) {
  std::string everything = req.path;
  for (const auto& [k, v] : req.params) everything += " " + k + "=" + v;
  for (const auto& [k, v] : req.headers) everything += " " + k + ": " + v;
  res.status = status;
  res.set_content(nlohmann::json{{"error", {{"message", "rejected " + everything}}}, {"message", everything}}.dump(),
                  "application/json");
}

std::string scan_config(const TempDir& dir, const std::string& base, const std::string& format) {
  dir.write("openrouter.key", std::string(k_openrouter_key) + "\n");
  return "storage:\n  path: " + dir.file("creditwatch.db") +
         "\nhttp:\n  listen: 127.0.0.1:0\n  auth_token: ${CW_SCAN_BEARER}\n"
         "defaults:\n  interval: 300ms\n  timeout: 2s\n  burn_window: 1h\n"
         "alerting:\n  retry_initial: 100ms\n  retry_max: 300ms\n"
         "logging:\n  level: trace\n  format: " +
         format +
         "\n"
         "accounts:\n"
         "  - name: ds\n    provider: deepseek\n    api_key: ${CW_SCAN_DEEPSEEK}\n    base_url: " +
         base +
         "/ds\n"
         "  - name: or\n    provider: openrouter\n    api_key_file: " +
         dir.file("openrouter.key") + "\n    base_url: " + base +
         "/or\n"
         "  - name: tw\n    provider: twilio\n    account_sid: ACscan0001\n    api_key: ${CW_SCAN_TWILIO}\n"
         "    base_url: " +
         base +
         "/tw\n"
         "  - name: hj\n    provider: http_json\n    url: " +
         base +
         "/hj/balance\n    balance_pointer: /balance\n"
         "    currency: USD\n    headers: { X-Api-Key: \"${CW_SCAN_HEADER}\" }\n"
         "  - name: probe\n    provider: openai_probe\n    api_key: ${CW_SCAN_PROBE}\n    base_url: " +
         base +
         "/probe\n"
         "    model: tiny\n"
         "  - name: costs\n    provider: openai_costs\n    api_key: ${CW_SCAN_COSTS}\n    base_url: " +
         base +
         "/costs\n"
         "    credit: 100\n    budget_start: 2026-05-01\n"
         "  - name: low\n    provider: simulated\n    currency: USD\n    start: 5\n    spend_per_day: 1000\n"
         "    min_balance: 100\n"
         "notifiers:\n  - name: slack-ops\n    type: slack\n    webhook_url: " +
         base +
         "/services/T0/B0/${CW_SCAN_SLACK}\n"
         "  - name: log\n    type: console\n";
}

const std::map<std::string, std::string> k_env = {
    {"CW_SCAN_DEEPSEEK", k_deepseek_key}, {"CW_SCAN_TWILIO", k_twilio_token}, {"CW_SCAN_HEADER", k_header_secret},
    {"CW_SCAN_PROBE", k_probe_key},       {"CW_SCAN_COSTS", k_costs_key},     {"CW_SCAN_SLACK", k_slack_token},
    {"CW_SCAN_BEARER", k_bearer}};

// Every secret absent from `text`, which came from `where`.
void scan(const std::string& where, const std::string& text) {
  CAPTURE(where);
  CHECK_MESSAGE(!text.empty(), where << " produced nothing to scan");
  for (const auto& whole : k_secrets) {
    // The whole secret, and its first 12 characters: a message clipped in the middle of a
    // key still leaks most of it.
    for (const std::string& secret : {whole, whole.substr(0, 12)}) {
      const auto at = text.find(secret);
      CHECK_MESSAGE(at == std::string::npos,
                    where << " leaks " << secret << " in: ..."
                          << text.substr(at == std::string::npos ? 0 : (at > 120 ? at - 120 : 0), 240) << "...");
    }
  }
}

// Runs the daemon with `format` logs until probes failed and deliveries were retried, then
// scans its log and every endpoint.
void scan_daemon(const TempDir& dir, const std::string& base, const std::string& format, FakeHttpServer& fakes) {
  dir.write("creditwatch.yaml", scan_config(dir, base, format));
  // Each run gets a fresh log: the previous run's "serving HTTP on" line would name its port.
  std::filesystem::remove(dir.file("daemon.log"));
  HttpDaemon daemon(dir, k_env);
  daemon.start();
  auto slack_posts = [&] {
    std::size_t n = 0;
    for (const auto& r : fakes.requests()) n += r.path.find("/services/") == 0 ? 1 : 0;
    return n;
  };
  CHECK_MESSAGE(eventually([&] { return slack_posts() >= 2; }, std::chrono::seconds(15)), daemon.log());
  REQUIRE(daemon.wait_for_burn({"low"}, std::chrono::seconds(10), k_bearer));
  for (const std::string path : {"/metrics", "/api/v1/accounts", "/api/v1/accounts/ds/samples",
                                 "/api/v1/accounts/low/samples", "/", "/healthz"}) {
    auto res = daemon.get(path, k_bearer);
    REQUIRE_MESSAGE(res, path);
    CHECK(res->status == 200);
    scan(format + " daemon GET " + path, res->body);
    for (const auto& [k, v] : res->headers) scan(format + " daemon GET " + path + " header " + k, k + ": " + v);
  }
  auto unauthorized = daemon.get("/api/v1/accounts", "wrong-token");
  REQUIRE(unauthorized);
  CHECK(unauthorized->status == 401);
  scan(format + " daemon 401", unauthorized->body);
  CHECK(daemon.terminate() == 0);
  const auto log = daemon.log();
  CHECK(log.find("notifier slack-ops") != std::string::npos);  // the failing deliveries were logged
  scan(format + " daemon log", log);
}

}  // namespace

TEST_SUITE("secret_scan") {
  TEST_CASE("no secret reaches any output or the database") {
    FakeHttpServer fakes;
    fakes.get("/ds/.*", [](const httplib::Request& req, httplib::Response& res) { echo(res, req, 401); });
    fakes.get("/or/api/v1/credits", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, R"({"data":{"total_credits":100,"total_usage":25.5}})");
    });
    fakes.get("/tw/.*", [](const httplib::Request& req, httplib::Response& res) { echo(res, req, 500); });
    fakes.get("/hj/.*", [](const httplib::Request& req, httplib::Response& res) { echo(res, req, 403); });
    fakes.post("/probe/.*", [](const httplib::Request& req, httplib::Response& res) { echo(res, req, 429); });
    fakes.get("/costs/.*", [](const httplib::Request& req, httplib::Response& res) { echo(res, req, 400); });
    fakes.post("/services/.*", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 500;
      res.set_content("no_service for " + req.path, "text/plain");
    });
    fakes.start();
    const std::string base = fakes.url();

    TempDir dir;
    const auto config = dir.write("creditwatch.yaml", scan_config(dir, base, "text"));
    for (const auto& args : std::vector<std::vector<std::string>>{{"validate", "-c", config},
                                                                  {"check", "-c", config},
                                                                  {"check", "--json", "-c", config},
                                                                  {"test-notify", "-c", config, "slack-ops"},
                                                                  {"status", "-c", config},
                                                                  {"status", "--json", "-c", config}}) {
      auto r = run_creditwatch(args, k_env);
      CHECK(r.signal == 0);
      scan(args[0] + (args[1] == "--json" ? " --json" : "") + " output", r.out + r.err);
    }
    // The probes that failed did see the credentials: the fakes echoed them back.
    bool echoed = false;
    for (const auto& r : fakes.requests())
      echoed = echoed || r.header("Authorization") == std::string("Bearer ") + k_deepseek_key;
    CHECK(echoed);

    scan_daemon(dir, base, "text", fakes);
    scan_daemon(dir, base, "json", fakes);
    scan("the database file", read_file(dir.file("creditwatch.db")));
    scan("the database WAL", read_file(dir.file("creditwatch.db-wal")) + " ");
  }
}
