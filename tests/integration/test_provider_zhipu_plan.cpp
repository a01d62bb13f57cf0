// Zhipu / Z.ai GLM Coding Plan against a loopback fake of GET /api/monitor/usage/quota/limit
// (shapes and sources at the top of src/providers/zhipu_plan.cpp): the balance is the percent
// of the window left, unit `percent`, with the window's reset in the details.
#include "integration/provider_probe.hpp"

#include "creditwatch/common/time_format.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "zhipu-SECRET-abc123xyz.k9";
constexpr const char* k_path = "/api/monitor/usage/quota/limit";

// As observed by public clients: the monthly MCP quota (TIME_LIMIT), the 5-hour window
// (TOKENS_LIMIT unit 3) and the weekly one (unit 6); `percentage` is the percent used.
// 1777600800000 is 2026-05-01T02:00:00Z, 1778112000000 2026-05-07T00:00:00Z.
constexpr const char* k_doc_body =
    R"({"code":200,"msg":"Operation successful","data":{"limits":[)"
    R"({"type":"TIME_LIMIT","unit":5,"number":1,"usage":100,"currentValue":28,"remaining":72,"percentage":28,"nextResetTime":1772615765983,"usageDetails":[{"modelCode":"search-prime","usage":28}]},)"
    R"({"type":"TOKENS_LIMIT","unit":3,"number":5,"percentage":12,"nextResetTime":1777600800000},)"
    R"({"type":"TOKENS_LIMIT","unit":6,"number":1,"percentage":25.5,"nextResetTime":1778112000000}],"level":"pro"},"success":true})";
// The window used up.
constexpr const char* k_empty_window =
    R"({"code":200,"msg":"Operation successful","data":{"limits":[{"type":"TOKENS_LIMIT","unit":3,"number":5,"percentage":100,"nextResetTime":1777600800000}],"level":"lite"},"success":true})";
// A bad key answers HTTP 200 with the failure inside.
constexpr const char* k_bad_key = R"({"code":401,"msg":"token expired or incorrect","success":false})";
constexpr const char* k_concurrency = R"({"code":1302,"msg":"High concurrency usage of this API, please reduce concurrency","success":false})";
constexpr const char* k_arrears = R"({"code":1113,"msg":"Your account is in arrears, please recharge and try again","success":false})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix,
                              const std::map<std::string, std::string>& settings = {}) {
  return provider_account("zhipu_plan", server.url() + prefix, k_key, settings);
}

}  // namespace

TEST_SUITE("provider_zhipu_plan") {
  TEST_CASE("the 5-hour window is the percent left, its reset in the details, the raw key in Authorization") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();

    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    CHECK(b.currency == "percent");
    CHECK(b.balance == dec("88"));
    CHECK(b.details["window"] == "5-hour window");
    CHECK(b.details["resets_at"] == "2026-05-01T02:00:00Z");
    CHECK(b.details["plan"] == "pro");

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == k_path);
    // Zhipu's own plugin sends the key as it is, without "Bearer".
    CHECK(requests[0].header("Authorization") == k_key);
  }

  TEST_CASE("window weekly reads TOKENS_LIMIT unit 6 - other values are a config error") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    auto result = probe_once(account(server, "", {{"window", "weekly"}}));
    REQUIRE(result.ok());
    CHECK(result->balances[0].balance == dec("74.5"));
    CHECK(result->balances[0].details["window"] == "weekly window");
    CHECK(result->balances[0].details["resets_at"] == "2026-05-07T00:00:00Z");

    CHECK(any_error_mentions(build_errors(account(server, "", {{"window", "monthly"}})), "window must be 5h or weekly"));
    CHECK(any_error_mentions(build_errors(provider_account("zhipu_plan", "", "")), "api_key"));
  }

  TEST_CASE("an empty window reads 0 percent and cannot serve") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_empty_window);
    server.start();
    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->balances[0].balance == Decimal());
    CHECK_FALSE(result->available);
    CHECK(result->unavailable_reason == "5-hour window used up, resets at 2026-05-01T02:00:00Z");
  }

  TEST_CASE("an invalid key is key_invalid whether inside HTTP 200 or as HTTP 401") {
    FakeHttpServer server;
    serve(server, "/ok200" + std::string(k_path), 200, k_bad_key);
    serve(server, "/http401" + std::string(k_path), 401, k_bad_key);
    server.start();
    auto inside = expect_error(probe_once(account(server, "/ok200")), ErrorKind::key_invalid);
    CHECK(inside.http_status == 200);
    CHECK(inside.message.find("token expired or incorrect") != std::string::npos);
    CHECK(inside.message.find(k_key) == std::string::npos);
    expect_error(probe_once(account(server, "/http401")), ErrorKind::key_invalid);
  }

  TEST_CASE("a rate limit is rate_limited with Retry-After - arrears are exhausted") {
    FakeHttpServer server;
    serve(server, "/busy" + std::string(k_path), 429, k_concurrency, "application/json", {{"Retry-After", "5"}});
    serve(server, "/plain" + std::string(k_path), 429, "Too Many Requests", "text/plain", {{"Retry-After", "3"}});
    serve(server, "/inside" + std::string(k_path), 200, k_concurrency);
    serve(server, "/arrears" + std::string(k_path), 429, k_arrears, "application/json", {{"Retry-After", "60"}});
    server.start();
    auto busy = expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    REQUIRE(busy.retry_after.has_value());
    CHECK(*busy.retry_after == std::chrono::seconds(5));
    auto plain = expect_error(probe_once(account(server, "/plain")), ErrorKind::rate_limited);
    REQUIRE(plain.retry_after.has_value());
    CHECK(*plain.retry_after == std::chrono::seconds(3));
    expect_error(probe_once(account(server, "/inside")), ErrorKind::rate_limited);
    auto arrears = expect_error(probe_once(account(server, "/arrears")), ErrorKind::exhausted);
    CHECK_FALSE(arrears.retry_after.has_value());
  }

  TEST_CASE("malformed bodies are bad_response naming what is wrong") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"code":200,"success":true,"data":{"limits":[{"type":"TOKENS_LIMIT","unit":3,"percentage":"abc"}]}})",
         "data.limits[0].percentage"},
        {R"({"code":200,"success":true,"data":{"limits":[{"type":"TOKENS_LIMIT","unit":3}]}})", "percentage"},
        {R"({"code":200,"success":true,"data":{"limits":[]}})", "no 5-hour window"},
        {R"({"code":200,"success":true,"data":{"limits":[{"type":"TIME_LIMIT","unit":5,"percentage":3}]}})",
         "no 5-hour window"},
        {R"({"code":200,"success":true,"data":{}})", "data.limits"},
        {R"({"code":200,"success":true,"data":null})", "data"},
        {R"({"code":200,"success":"yes","data":{}})", "success"},
        {R"({"code":200,"success":true,"data":{"limits":[{"type":"TOKENS_LIM)", "truncated"},
        {"<html><body>502 Bad Gateway</body></html>", "HTML"},
    };
    FakeHttpServer server;
    for (std::size_t i = 0; i < cases.size(); ++i) serve(server, "/c" + std::to_string(i) + k_path, 200, cases[i].first);
    server.start();
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].first);
      auto e = expect_error(probe_once(account(server, "/c" + std::to_string(i))), ErrorKind::bad_response);
      CHECK_MESSAGE(e.message.find(cases[i].second) != std::string::npos, e.message);
    }
  }

  TEST_CASE("creditwatch providers lists both quota-window providers with their window key") {
    auto p = run_creditwatch({"providers"});
    INFO("stdout: " << p.out << "\nstderr: " << p.err);
    CHECK(p.exit_code == 0);
    CHECK(p.out.find("zhipu_plan") != std::string::npos);
    CHECK(p.out.find("/api/monitor/usage/quota/limit") != std::string::npos);
    CHECK(p.out.find("minimax_plan") != std::string::npos);
    CHECK(p.out.find("/v1/api/openplatform/coding_plan/remains") != std::string::npos);
  }

  TEST_CASE("end to end: check --json reports the 5-hour window as the percent left") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: zhipu_plan", "api_key: ${ZHIPU_KEY}", "base_url: " + server.url()});
    auto a = check_one(config, {{"ZHIPU_KEY", k_key}}, {k_key, "SECRET-abc123"});
    CHECK(a["provider"] == "zhipu_plan");
    CHECK(a["state"] == "OK");
    CHECK(a["currency"] == "percent");
    REQUIRE(a["balance"].is_number());
    CHECK(a["balance"].get<double>() == doctest::Approx(88));
    // A window cannot be topped up.
    CHECK(a["recommended_topup"].get<double>() == 0);
    REQUIRE(a["balances"].size() == 1);
    CHECK(a["balances"][0]["currency"] == "percent");
    CHECK(a["balances"][0]["details"]["window"] == "5-hour window");
    CHECK(a["balances"][0]["details"]["resets_at"] == "2026-05-01T02:00:00Z");
  }

  TEST_CASE("end to end: a window burning faster than it resets pages with when it runs out and resets") {
    // Each answer uses 10 % more of a window that resets 2 h 10 min after it is served.
    FakeHttpServer server;
    auto served = std::make_shared<std::atomic<int>>(0);
    server.get(k_path, [served](const httplib::Request&, httplib::Response& res) {
      const int used = 10 * ++*served;
      const auto reset = to_unix_ms(std::chrono::system_clock::now() + std::chrono::minutes(130));
      reply_json(res, 200,
                 R"({"code":200,"success":true,"data":{"limits":[{"type":"TOKENS_LIMIT","unit":3,"number":5,"percentage":)" +
                     std::to_string(used) + R"(,"nextResetTime":)" + std::to_string(reset) + "}]}}");
    });
    server.start();
    TempDir dir;
    auto config = one_account_config(dir, {"provider: zhipu_plan", "api_key: ${ZHIPU_KEY}", "base_url: " + server.url()});
    const std::map<std::string, std::string> env = {{"ZHIPU_KEY", k_key}};
    auto first = check_one(config, env, {k_key});
    CHECK(first["balance"].get<double>() == doctest::Approx(90));
    CHECK(first["firing"].empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    // 10 % a second: empty in seconds, long before the reset.
    auto second = check_one(config, env, {k_key}, 2);
    CHECK(second["balance"].get<double>() == doctest::Approx(80));
    nlohmann::json runway;
    for (const auto& f : second["firing"]) {
      if (f["rule"] == "runway") runway = f;
    }
    REQUIRE_MESSAGE(runway.is_object(), second.dump());
    CHECK(runway["severity"] == "critical");
    const std::string summary = runway["summary"];
    CHECK_MESSAGE(summary.starts_with("5-hour window: 80 % left, runs out in "), summary);
    CHECK_MESSAGE(summary.find(", resets in 2 h 9 min") != std::string::npos, summary);
  }
}
