// Silences and acknowledgements against the real daemon over HTTP: a silence created through
// the API (and kept across a restart) holds a draining account's webhook notification until
// it is deleted, then the notification arrives; an ack reaches the webhook.
#include "http_daemon.hpp"

#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_hook_path = "/hook";

// Webhook payloads about `account` the fake received.
std::vector<nlohmann::json> payloads_about(const FakeHttpServer& hook, const std::string& account) {
  std::vector<nlohmann::json> out;
  for (const auto& r : hook.requests()) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object() && j.value("account", "") == account) out.push_back(std::move(j));
  }
  return out;
}

httplib::Result send(const HttpDaemon& daemon, const std::string& method, const std::string& path,
                     const std::string& body = "") {
  httplib::Client client("127.0.0.1", daemon.port());
  client.set_read_timeout(10, 0);
  if (method == "DELETE") return client.Delete(path);
  return client.Post(path, body, "application/json");
}

std::string config(const TempDir& dir, const FakeHttpServer& hook, bool with_burner) {
  std::string accounts = simulated_account("sim-calm", "1000000", "1");
  if (with_burner) accounts += simulated_account("sim-burner", "500", "86400", "    labels: { team: billing }\n");
  return daemon_yaml(dir, accounts) + "alerting:\n  repeat_interval: 24h\n  send_resolved: true\n" +
         "notifiers:\n  - name: hook\n    type: webhook\n    url: " + hook.url() + k_hook_path + "\n";
}

}  // namespace

TEST_SUITE("daemon_silences") {
  TEST_CASE("a silence made through the API holds a draining account's webhook until it is deleted") {
    TempDir dir;
    FakeHttpServer hook;
    hook.post(k_hook_path, [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
    hook.start();

    // First without the draining account: the silence is in place before it could fire.
    dir.write("creditwatch.yaml", config(dir, hook, false));
    std::string id;
    {
      HttpDaemon daemon(dir);
      daemon.start();
      INFO("daemon log:\n" << daemon.log());
      auto bad = send(daemon, "POST", "/api/v1/silences", R"({"matchers": {"rule": "runwya"}, "duration": "1h"})");
      REQUIRE(bad);
      CHECK(bad->status == 400);
      CHECK(bad->body.find("no rule is called") != std::string::npos);
      auto made = send(daemon, "POST", "/api/v1/silences",
                       R"({"matchers": {"account": "sim-b*", "team": "billing"}, "duration": "2h",
                           "comment": "top-up under way", "created_by": "ana"})");
      REQUIRE(made);
      REQUIRE_MESSAGE(made->status == 201, made->body);
      id = nlohmann::json::parse(made->body)["id"].get<std::string>();
      CHECK(id.size() == 32);
      CHECK(daemon.terminate() == 0);
    }

    dir.write("creditwatch.yaml", config(dir, hook, true));
    // The first run's log holds its own port: the second run must not read it.
    std::filesystem::remove(dir.file("daemon.log"));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    const auto listed = daemon.get_json("/api/v1/silences");  // it survived the restart
    REQUIRE(listed["silences"].size() == 1);
    CHECK(listed["silences"][0]["id"] == id);
    CHECK(listed["silences"][0]["status"] == "active");
    CHECK(listed["silences"][0]["created_by"] == "ana");

    // It fires, and shows as silenced everywhere; the webhook hears nothing.
    REQUIRE(eventually(
        [&] {
          auto a = daemon.account("sim-burner");
          return a && !(*a)["alerts"].empty() && (*a)["alerts"][0]["silenced"] == true;
        },
        20s));
    const auto alert = (*daemon.account("sim-burner"))["alerts"][0];
    CHECK(alert["silenced_by"] == id);
    CHECK(alert["acknowledged"].is_null());
    CHECK(daemon.get_json("/api/v1/accounts/sim-burner")["alerts"][0]["silenced"] == true);
    CHECK(daemon.get_json("/api/v1/summary")["silenced"] == 1);
    CHECK(daemon.get("/metrics")->body.find("creditwatch_alerts_firing{account=\"sim-burner\",rule=\"runway\","
                                            "severity=\"critical\",silenced=\"true\"} 1") != std::string::npos);
    std::this_thread::sleep_for(3s);
    CHECK(payloads_about(hook, "sim-burner").empty());

    auto gone = send(daemon, "DELETE", "/api/v1/silences/" + id);
    REQUIRE(gone);
    CHECK(gone->status == 200);
    CHECK(send(daemon, "DELETE", "/api/v1/silences/0123")->status == 404);
    REQUIRE(eventually([&] { return !payloads_about(hook, "sim-burner").empty(); }, 10s));
    const auto first = payloads_about(hook, "sim-burner").front();
    CHECK(first["status"] == "firing");
    CHECK(first["reason"] == "started");
    CHECK(daemon.get_json("/api/v1/silences")["silences"].empty());
    CHECK(daemon.get_json("/api/v1/silences?all=1")["silences"][0]["status"] == "expired");
    CHECK((*daemon.account("sim-burner"))["alerts"][0]["silenced"] == false);

    // Acknowledged: the webhook is told; unknown alerts 404, quiet ones 409. (Who and why travel
    // in the outbox payload; the webhook body gains them with the sinks' ack support.)
    CHECK(send(daemon, "POST", "/api/v1/alerts/nobody/runway/ack", "{}")->status == 404);
    CHECK(send(daemon, "POST", "/api/v1/alerts/sim-calm/runway/ack", "{}")->status == 409);
    auto acked = send(daemon, "POST", "/api/v1/alerts/sim-burner/runway/ack", R"({"by": "bo", "comment": "paying"})");
    REQUIRE(acked);
    CHECK_MESSAGE(acked->status == 200, acked->body);
    REQUIRE(eventually(
        [&] {
          for (const auto& p : payloads_about(hook, "sim-burner")) {
            if (p["reason"] == "acknowledged") return true;
          }
          return false;
        },
        10s));
    CHECK((*daemon.account("sim-burner"))["alerts"][0]["acknowledged"]["by"] == "bo");
    bool ack_in_outbox = false;
    for (const auto& row : creditwatch::storage::SqliteStore(daemon.db_path()).notifications()) {
      const auto p = nlohmann::json::parse(row.payload_json);
      if (p["reason"] == "acknowledged") ack_in_outbox = p["ack"]["by"] == "bo" && p["ack"]["comment"] == "paying";
    }
    CHECK(ack_in_outbox);
  }
}
