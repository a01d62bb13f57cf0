// End-to-end: `creditwatch digest -c FILE` as the real binary over a SQLite database that
// holds a known fortnight: --dry-run prints the report (text, or the webhook's JSON with
// --json) and sends nothing; without it the report goes to digest.notify at once.
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/notify_fixtures.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

// The digest's period ends when the command runs: readings are placed relative to now,
// whole days away from the period's edges. acct-a spends 10 in the week before, then 10 and
// 20 around a 50 deposit; acct-b holds still.
void write_history(const std::string& path) {
  creditwatch::storage::SqliteStore store(path);
  const auto now = creditwatch::SystemClock().now();
  auto reading = [&](const std::string& account, int days_ago, const char* balance) {
    const auto at = std::chrono::time_point_cast<creditwatch::Duration>(now - days_ago * 24h);
    store.add_samples({{account, at, "USD", *creditwatch::Decimal::parse(balance), std::nullopt, ""}},
                      {account, at, "ok", 200, 0.2, ""});
  };
  reading("acct-a", 10, "100");
  reading("acct-a", 8, "90");
  reading("acct-a", 5, "80");
  reading("acct-a", 3, "130");
  reading("acct-a", 1, "110");
  reading("acct-b", 9, "50");
  reading("acct-b", 2, "50");
}

std::string config_yaml(const TempDir& dir, const std::string& digest, const std::string& hook_url) {
  return "storage:\n  path: " + dir.file("creditwatch.db") +
         "\nhttp:\n  listen: \"off\"\n"
         "accounts:\n"
         "  - name: acct-a\n    provider: simulated\n    currency: USD\n    start: 100\n    spend_per_day: 10\n"
         "    labels: {team: bots}\n"
         "  - name: acct-b\n    provider: simulated\n    currency: USD\n    start: 50\n    spend_per_day: 1\n"
         "    labels: {team: research}\n"
         "notifiers:\n"
         "  - name: hook\n    type: webhook\n    url: " +
         hook_url +
         "\n"
         "  - name: pager\n    type: pagerduty\n    routing_key: R0123456789012345678901234567890\n" +
         digest;
}

const std::string k_digest = "digest:\n  every: 7d\n  at: \"Mon 09:00\"\n  timezone: UTC\n  notify: [hook]\n  group_by: team\n";

}  // namespace

TEST_SUITE("cli_digest") {
  TEST_CASE("digest --dry-run prints the period's report by team and sends nothing") {
    TempDir dir;
    FakeSink hook;
    write_history(dir.file("creditwatch.db"));
    const auto config = dir.write("creditwatch.yaml", config_yaml(dir, k_digest, hook.url() + "/hook"));

    const auto r = run_creditwatch({"digest", "-c", config, "--dry-run"});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.starts_with("creditwatch digest "));
    CHECK(r.out.find(": 2 accounts, 0 alerts fired, ") != std::string::npos);
    CHECK(r.out.find("Spend 30.00 USD (+200.0% vs 10.00), deposits 50.00 USD\n") != std::string::npos);
    CHECK(r.out.find("team: bots\n- acct-a (simulated): spent 30.00 USD (+200.0% vs 10.00), deposits 50.00 USD, "
                     "balance 110.00 USD, runway ") != std::string::npos);
    CHECK(r.out.find("team: research\n- acct-b (simulated): spent 0.00 USD (unchanged), balance 50.00 USD, runway "
                     "not burning\n") != std::string::npos);
    CHECK(hook.server.request_count() == 0);

    SUBCASE("--json prints what the webhook would receive") {
      const auto j = run_creditwatch({"digest", "-c", config, "--dry-run", "--json"});
      INFO("stdout: " << j.out << "\nstderr: " << j.err);
      REQUIRE(j.exit_code == 0);
      const auto body = nlohmann::json::parse(j.out);
      CHECK(body["kind"] == "digest");
      CHECK(body["group_by"] == "team");
      REQUIRE(body["accounts"].size() == 2);
      CHECK(body["accounts"][0]["account"] == "acct-a");
      CHECK(body["accounts"][0]["spend"] == "30.00");
      CHECK(body["accounts"][0]["previous_spend"] == "10.00");
      CHECK(body["accounts"][0]["deposits"] == "50.00");
      CHECK(hook.server.request_count() == 0);
    }
  }

  TEST_CASE("digest without --dry-run sends it now through digest.notify") {
    TempDir dir;
    FakeSink hook;
    write_history(dir.file("creditwatch.db"));
    const auto config = dir.write("creditwatch.yaml", config_yaml(dir, k_digest, hook.url() + "/hook"));
    const auto r = run_creditwatch({"digest", "-c", config});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.starts_with("hook: delivered"));
    const auto body = nlohmann::json::parse(hook.only_request().body);
    CHECK(body["kind"] == "digest");
    CHECK(body["accounts"][0]["spend"] == "30.00");

    SUBCASE("a sink that refuses makes it exit 1 with the answer") {
      hook.reply(400, R"({"error":"bad"})");
      const auto refused = run_creditwatch({"digest", "-c", config});
      CHECK(refused.exit_code == 1);
      CHECK(refused.out.starts_with("hook: permanent (HTTP 400"));
    }
  }

  TEST_CASE("digest to an incident tool is a config error with its place in the file") {
    TempDir dir;
    const auto config =
        dir.write("creditwatch.yaml", config_yaml(dir, "digest:\n  notify: [hook, pager]\n", "http://127.0.0.1:9/hook"));
    const auto r = run_creditwatch({"digest", "-c", config, "--dry-run"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == config + ":26:18: digest cannot go to \"pager\": pagerduty opens incidents, and a periodic report "
                            "is not one (use a chat, email or webhook notifier)\n");
  }
}
