// End-to-end: `creditwatch status` reads what `check` stored and never probes. Three checks
// against a loopback DeepSeek fake (providers.md section 1) whose balance falls each time
// leave samples in the database; status then shows them as a table with an exhaustion date,
// a recommended top-up and a sparkline, as JSON, for one account, and coloured only on a TTY
// without NO_COLOR.
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

using namespace creditwatch::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_key = "sk-SECRET-status-0042";
const std::map<std::string, std::string> k_env = {{"DEEPSEEK_KEY", k_key}};

std::string balance_body(const std::string& total) {
  return R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":")" + total +
         R"(","granted_balance":"0.00","topped_up_balance":")" + total + R"("}]})";
}

// Two DeepSeek accounts: /falling loses 10 CNY per request, /steady never changes.
struct StatusFixture {
  TempDir dir;
  FakeHttpServer deepseek;
  std::atomic<int> falling_calls{0};
  std::string config;

  StatusFixture() {
    deepseek.get("/falling/user/balance", [this](const httplib::Request&, httplib::Response& res) {
      const int n = falling_calls++;
      reply_json(res, 200, balance_body(std::to_string(100 - 10 * n) + ".00"));
    });
    deepseek.get("/steady/user/balance",
                 [](const httplib::Request&, httplib::Response& res) { reply_json(res, 200, balance_body("50.00")); });
    deepseek.start();
    config = dir.write("creditwatch.yaml",
                       "storage:\n  path: " + dir.file("cw.db") +
                           "\ndefaults:\n  warn_days: 14\n  critical_days: 3\n  target_days: 30\naccounts:\n"
                           "  - name: falling\n    provider: deepseek\n    api_key: ${DEEPSEEK_KEY}\n    base_url: " +
                           deepseek.url() + "/falling\n" +
                           "  - name: steady\n    provider: deepseek\n    api_key: ${DEEPSEEK_KEY}\n    base_url: " +
                           deepseek.url() + "/steady\n");
    for (int i = 0; i < 3; ++i) {
      const auto r = run_creditwatch({"check", "-c", config}, k_env);
      INFO("check stdout:\n" << r.out << "\nstderr:\n" << r.err);
      REQUIRE(r.exit_code >= 0);
      REQUIRE(r.exit_code <= 2);
      if (i < 2) std::this_thread::sleep_for(1100ms);  // distinct sample times
    }
    REQUIRE(falling_calls.load() == 3);
  }
};

bool has_ansi(const std::string& text) { return text.find("\x1b[") != std::string::npos; }

}  // namespace

TEST_SUITE("status_cli") {
  TEST_CASE("status shows stored balances with exhaustion date and top-up and sends no request") {
    StatusFixture f;
    const auto before = f.deepseek.request_count();
    const auto r = run_creditwatch({"status", "-c", f.config}, k_env);
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(f.deepseek.request_count() == before);  // the database only
    for (const char* column : {"ACCOUNT", "BALANCE", "RUNWAY(d)", "P10(d)", "P10 HIT", "EXHAUSTION", "TOP-UP", "ALERTS",
                               "LAST 7 DAYS"}) {
      CHECK(r.out.find(column) != std::string::npos);
    }
    CHECK(r.out.find("falling") != std::string::npos);
    CHECK(r.out.find("steady") != std::string::npos);
    CHECK(r.out.find("80.00") != std::string::npos);  // the last stored balance
    CHECK(r.out.find("50.00") != std::string::npos);
    // A Unicode block from the sparkline, and no colour: stdout is a pipe here.
    CHECK(r.out.find("\xe2\x96") != std::string::npos);
    CHECK_FALSE(has_ansi(r.out));
    CHECK(r.out.find(k_key) == std::string::npos);
    CHECK(r.err.find(k_key) == std::string::npos);
  }

  TEST_CASE("status --json carries the forecast of each account and --account picks one") {
    StatusFixture f;
    const auto r = run_creditwatch({"status", "-c", f.config, "--json", "--account", "falling"}, k_env);
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    REQUIRE(r.exit_code == 0);
    const auto accounts = json::parse(r.out);
    REQUIRE(accounts.is_array());
    REQUIRE(accounts.size() == 1);
    const auto& a = accounts[0];
    CHECK(a["account"] == "falling");
    CHECK(a["currency"] == "CNY");
    CHECK(std::llround(a["balance"].get<double>() * 100) == 8000);
    // 20 CNY gone in about two seconds: a runway of seconds, critical, with a top-up.
    REQUIRE(a["burn_per_day"].is_number());
    CHECK(a["burn_per_day"].get<double>() > 100000.0);
    REQUIRE(a["runway_days"].is_number());
    REQUIRE(a["runway_p10_days"].is_number());
    CHECK(a["runway_p10_days"].get<double>() <= a["runway_days"].get<double>());
    CHECK(a["runway_days"].get<double>() < 0.01);
    CHECK(a["exhausted_at"].is_string());
    REQUIRE(a["recommended_topup"].is_number());
    CHECK(a["recommended_topup"].get<double>() > 0.0);
    // Seconds of history hold no earlier forecast to judge: the record's key is there, null
    // (the API's shape; its filled form is tested with the summary).
    REQUIRE(a.contains("forecast_record"));
    CHECK(a["forecast_record"].is_null());
    CHECK(a["sparkline"].is_string());
    CHECK(a["alerts"].is_array());

    const auto unknown = run_creditwatch({"status", "-c", f.config, "--account", "nope"}, k_env);
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("nope") != std::string::npos);
  }

  TEST_CASE("status colours its states on a terminal unless NO_COLOR is set") {
    StatusFixture f;
    const std::string script = "/usr/bin/script";
    REQUIRE_MESSAGE(std::filesystem::exists(script), "script(1) from bsdutils is needed to give status a terminal");
    // script(1) runs the command on a pseudo-terminal and copies what it printed; env -u
    // keeps a NO_COLOR of the caller's out of the first run.
    const std::string command = "env -u NO_COLOR " + std::string(CREDITWATCH_BINARY) + " status -c " + f.config;
    auto env = k_env;
    const auto tty = run_process({script, "-qec", command, "/dev/null"}, env);
    INFO("tty stdout:\n" << tty.out << "\nstderr:\n" << tty.err);
    CHECK(tty.exit_code == 0);
    CHECK(has_ansi(tty.out));

    env["NO_COLOR"] = "1";
    const auto plain =
        run_process({script, "-qec", std::string(CREDITWATCH_BINARY) + " status -c " + f.config, "/dev/null"}, env);
    INFO("NO_COLOR stdout:\n" << plain.out);
    CHECK(plain.exit_code == 0);
    CHECK(plain.out.find("falling") != std::string::npos);
    CHECK_FALSE(has_ansi(plain.out));
  }
}
