// Units that are not money are first-class (issue 21, item 6; SPEC "More providers and
// non-money units"): a SerpApi account (serpapi.com/account-api: total_searches_left)
// counts searches. The real binary must show "searches" where a currency would stand in
// `check`, `status`, the accounts API, the metrics' `currency` label and the webhook's alert,
// and `min_balance: 100` must be read in searches.
#include "http_daemon.hpp"

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

using namespace creditwatch::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_key_env = "CW_SERPAPI_KEY";
constexpr const char* k_key = "serpSECRETf00d0123456789abcdef0123";

// SerpApi's account answer with 40 searches left (the fields of the documented example).
const std::string k_account_body =
    R"({"account_status":"Active","plan_id":"developer","plan_name":"Developer Plan","searches_per_month":5000,)"
    R"("plan_searches_left":40,"extra_credits":0,"total_searches_left":40,"this_month_usage":4960,)"
    R"("plan_renewal_date":"2026-12-17","account_rate_limit_per_hour":1000})";

std::string serpapi_account(const std::string& base_url) {
  return std::string("  - name: serp-search\n    provider: serpapi\n    api_key: ${") + k_key_env +
         "}\n    base_url: " + base_url + "\n    min_balance: 100\n";
}

}  // namespace

TEST_SUITE("non_money_units") {
  TEST_CASE("an account counted in searches shows its unit everywhere and min_balance is in searches") {
    FakeHttpServer serpapi;
    serpapi.get("/account.json", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, k_account_body);
    });
    serpapi.start();
    FakeHttpServer hook;
    hook.post("/hook", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
    hook.start();

    TempDir dir;
    const std::string notifiers = "notifiers:\n  - name: hook\n    type: webhook\n    url: " + hook.url() + "/hook\n";
    dir.write("creditwatch.yaml", daemon_yaml(dir, serpapi_account(serpapi.url())) + notifiers);
    const std::map<std::string, std::string> env = {{k_key_env, k_key}};

    // check: the table's currency column and the JSON say searches; under the floor is critical.
    const auto table = run_creditwatch({"check", "-c", dir.file("creditwatch.yaml")}, env);
    INFO("check: " << table.out << table.err);
    CHECK(table.exit_code == 2);
    CHECK(table.out.find("searches") != std::string::npos);
    const auto checked = run_creditwatch({"check", "-c", dir.file("creditwatch.yaml"), "--json"}, env);
    const auto checked_json = json::parse(checked.out, nullptr, false);
    REQUIRE_MESSAGE(!checked_json.is_discarded(), checked.out);
    CHECK(checked.out.find("\"searches\"") != std::string::npos);

    HttpDaemon daemon(dir, env);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());

    // The webhook's alert: min_balance, in searches.
    json alert;
    REQUIRE(eventually(
        [&] {
          for (const auto& r : hook.requests()) {
            auto body = json::parse(r.body, nullptr, false);
            if (body.is_object() && body.value("rule", "") == "min_balance" && body.value("status", "") == "firing") {
              alert = body;
              return true;
            }
          }
          return false;
        },
        20s));
    INFO("alert: " << alert.dump());
    CHECK(alert["currency"] == "searches");
    CHECK(alert["severity"] == "critical");
    const std::string summary = alert["summary"];
    CHECK(summary.find("searches vs floor 100") != std::string::npos);
    CHECK(summary.find("balance 40") != std::string::npos);

    // The accounts API and the metrics' currency label.
    const auto account = daemon.account("serp-search");
    REQUIRE(account.has_value());
    CHECK((*account)["currency"] == "searches");
    auto metrics = daemon.get("/metrics");
    REQUIRE(metrics);
    INFO("metrics: " << metrics->body.substr(0, 4000));
    CHECK(metrics->body.find("creditwatch_balance{account=\"serp-search\",provider=\"serpapi\",currency=\"searches\"} 40") !=
          std::string::npos);

    CHECK(daemon.terminate() == 0);

    // status, from what the daemon stored.
    const auto status = run_creditwatch({"status", "-c", dir.file("creditwatch.yaml")}, env);
    INFO("status: " << status.out << status.err);
    CHECK(status.out.find("searches") != std::string::npos);

    // The key went in a query string: it is in no output.
    for (const auto* text : {&table.out, &table.err, &checked.out, &status.out}) CHECK(text->find(k_key) == std::string::npos);
    CHECK(daemon.log().find(k_key) == std::string::npos);
    CHECK(alert.dump().find(k_key) == std::string::npos);
  }
}
