// Redirects never carry credentials to another origin: two loopback fakes on different
// ports (two origins), the first answering with redirects to the second, and the real
// libcurl client, providers (anthropic_costs, http_json) and a webhook sink in front.
#include "integration/provider_probe.hpp"

#include "fakes/notify_fixtures.hpp"

#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/http/redirect_policy.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <string>
#include <thread>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_admin_key = "sk-ant-admin01-SECRET-redirected";
constexpr const char* k_header_secret = "hdr-SECRET-0123456789abcdef";
constexpr const char* k_hook_token = "Bearer hook-SECRET-tok3n";

// The origin a redirect points at: records every request, whatever its method and path.
struct Elsewhere {
  FakeHttpServer server;
  Elsewhere() {
    server.get(".*", [](const httplib::Request&, httplib::Response& res) { reply_json(res, 200, R"({"stolen":true})"); });
    server.post(".*", [](const httplib::Request&, httplib::Response& res) { reply_json(res, 200, "{}"); });
    server.start();
  }
  // host:port as the refusal names it.
  std::string host() const { return "127.0.0.1:" + std::to_string(server.port()); }
  // Nothing reached it, after giving a follower time to arrive.
  bool untouched() const {
    std::this_thread::sleep_for(200ms);
    return server.request_count() == 0;
  }
};

void redirect(httplib::Response& res, int status, const std::string& location) {
  res.status = status;
  res.set_header("Location", location);
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("http.redirects") {
  TEST_CASE("the client refuses a redirect to another origin and names only its host") {
    Elsewhere elsewhere;
    FakeHttpServer origin;
    origin.get("/balance", [&](const httplib::Request&, httplib::Response& res) {
      redirect(res, 302, elsewhere.server.url() + "/collect?key=" + k_header_secret);
    });
    origin.start();

    http::CurlClient client;
    http::Request request;
    request.url = origin.url() + "/balance";
    request.headers.push_back({"x-api-key", k_admin_key});
    request.basic_auth = std::string("user:") + k_header_secret;
    auto outcome = client.send(request);
    REQUIRE_FALSE(outcome.ok());
    const auto& failure = outcome.error();
    INFO("message: " << failure.message);
    CHECK(failure.kind == http::FailureKind::redirect);
    CHECK(std::string(http::to_string(failure.kind)) == "redirect");
    CHECK(mentions(failure.message, "redirected (HTTP 302) to " + elsewhere.host() + "; not followed"));
    CHECK_FALSE(mentions(failure.message, "collect"));
    CHECK_FALSE(mentions(failure.message, k_header_secret));
    CHECK(origin.request_count() == 1);
    CHECK(elsewhere.untouched());
  }

  TEST_CASE("a redirect on the same origin is followed with its headers") {
    FakeHttpServer origin;
    origin.get("/old", [](const httplib::Request&, httplib::Response& res) { redirect(res, 301, "/new?page=2"); });
    origin.get("/new", [](const httplib::Request&, httplib::Response& res) { reply_json(res, 200, R"({"ok":1})"); });
    origin.start();

    http::CurlClient client;
    http::Request request;
    request.url = origin.url() + "/old";
    request.headers.push_back({"x-api-key", k_admin_key});
    auto outcome = client.send(request);
    REQUIRE_MESSAGE(outcome.ok(), outcome.error().message);
    CHECK(outcome->status == 200);
    CHECK(outcome->body == R"({"ok":1})");
    const auto seen = recorded(origin, 2);
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].target == "/new?page=2");
    CHECK(seen[1].header("x-api-key") == k_admin_key);
  }

  TEST_CASE("a redirect loop on the same origin ends after a bounded number of hops") {
    FakeHttpServer origin;
    origin.get("/loop", [](const httplib::Request&, httplib::Response& res) { redirect(res, 302, "/loop"); });
    origin.start();
    http::CurlClient client;
    http::Request request;
    request.url = origin.url() + "/loop";
    auto outcome = client.send(request);
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error().kind == http::FailureKind::redirect);
    CHECK(mentions(outcome.error().message, "more than 3 redirects"));
    CHECK(origin.request_count() == http::k_max_redirects + 1);
  }

  TEST_CASE("an anthropic_costs host redirecting elsewhere never sends the admin key there") {
    Elsewhere elsewhere;
    FakeHttpServer origin;
    origin.get("/v1/organizations/cost_report", [&](const httplib::Request&, httplib::Response& res) {
      redirect(res, 302, elsewhere.server.url() + "/v1/organizations/cost_report?from=redirect");
    });
    origin.start();
    const std::map<std::string, std::string> settings = {{"credit", "500"}, {"budget_start", "2026-05-01T00:00:00Z"}};

    SUBCASE("in-process: a probe error of kind http_status naming the host") {
      auto result = probe_once(provider_account("anthropic_costs", origin.url(), k_admin_key, settings));
      const auto error = expect_error(result, ErrorKind::http_status);
      CHECK(mentions(error.message, "redirected (HTTP 302) to " + elsewhere.host()));
      CHECK(mentions(error.message, "credentials stay with the configured host"));
      CHECK_FALSE(mentions(error.message, "from=redirect"));
    }
    SUBCASE("creditwatch check") {
      TempDir dir;
      auto config = one_account_config(dir, {"provider: anthropic_costs", "api_key: ${CW_TEST_ADMIN_KEY}",
                                             "base_url: " + origin.url(), "credit: 500",
                                             "budget_start: 2026-05-01T00:00:00Z"});
      auto entry = check_one(config, {{"CW_TEST_ADMIN_KEY", k_admin_key}}, {k_admin_key}, 3);
      CHECK(entry["error"]["kind"] == "http_status");
      CHECK(mentions(entry["error"]["message"].get<std::string>(), elsewhere.host()));
    }
    CHECK(origin.request_count() >= 1);
    CHECK(elsewhere.untouched());
  }

  TEST_CASE("http_json with a custom secret header") {
    Elsewhere elsewhere;
    FakeHttpServer origin;
    origin.get("/balance", [&](const httplib::Request&, httplib::Response& res) {
      redirect(res, 307, elsewhere.server.url() + "/balance");
    });
    origin.get("/moved", [](const httplib::Request&, httplib::Response& res) { redirect(res, 308, "/v2/balance"); });
    origin.get("/v2/balance", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, R"({"balance":"12.5"})");
    });
    origin.start();

    auto account = [&](const std::string& path) {
      auto a = provider_account("http_json", "", "", {{"url", origin.url() + path}, {"balance_pointer", "/balance"}});
      a.currency = "USD";
      config::Setting headers;
      headers.entries = {{"X-Balance-Token", k_header_secret}};
      headers.is_secret = true;
      headers.where = {"test.yaml", 3, 1};
      a.settings["headers"] = headers;
      return a;
    };

    SUBCASE("redirected to another origin: refused, the header stays home") {
      const auto error = expect_error(probe_once(account("/balance")), ErrorKind::http_status);
      CHECK(mentions(error.message, "to " + elsewhere.host() + "; not followed"));
      CHECK(elsewhere.untouched());
    }
    SUBCASE("redirected on its own origin: read from the new place") {
      auto result = probe_once(account("/moved"));
      REQUIRE_MESSAGE(result.ok(), result.error().message);
      CHECK(result->balances.at(0).balance == dec("12.5"));
      const auto seen = recorded(origin, 2);
      CHECK(seen.back().path == "/v2/balance");
      CHECK(seen.back().header("X-Balance-Token") == k_header_secret);
    }
  }

  TEST_CASE("a webhook sink redirected elsewhere does not post its body or headers there") {
    Elsewhere elsewhere;
    FakeHttpServer origin;
    origin.post("/hook", [&](const httplib::Request&, httplib::Response& res) {
      redirect(res, 307, elsewhere.server.url() + "/hook");
    });
    origin.post("/same", [](const httplib::Request&, httplib::Response& res) { redirect(res, 308, "/same2"); });
    origin.post("/same2", [](const httplib::Request&, httplib::Response& res) { reply_json(res, 200, "{}"); });
    origin.start();

    auto deliver = [&](const std::string& path) {
      auto notifier = build_notifier(notifier_config(
          "webhook", {{"url", secret_setting(origin.url() + path, 21)},
                      {"headers", map_setting({{"Authorization", k_hook_token}}, 22, true)}}));
      http::CurlClient client;
      return notifier->deliver(critical_runway(), client);
    };

    SUBCASE("to another origin") {
      auto result = deliver("/hook");
      INFO("message: " << result.message);
      CHECK(result.outcome != notify::DeliveryResult::Outcome::delivered);
      CHECK(mentions(result.message, elsewhere.host()));
      CHECK_FALSE(mentions(result.message, "hook-SECRET"));
      CHECK(elsewhere.untouched());
    }
    SUBCASE("on its own origin a POST is not sent twice") {
      auto result = deliver("/same");
      CHECK(result.outcome != notify::DeliveryResult::Outcome::delivered);
      CHECK(mentions(result.message, "a POST is not followed"));
      std::this_thread::sleep_for(200ms);
      CHECK(origin.request_count() == 1);
    }
  }
}
