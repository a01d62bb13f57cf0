// Zhipu / Z.ai GLM Coding Plan against a loopback fake of GET /api/monitor/usage/quota/limit
// (shapes and sources at the top of src/providers/zhipu_plan.cpp), through the conformance
// kit: the balance is the percent of the window left, unit `percent`, with the window's reset
// in the details.
#include "integration/provider_conformance.hpp"

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

ConformanceCase malformed(std::string body, std::string names) {
  return {"malformed: " + names, Shape::malformed, {answer(k_path, 200, std::move(body))}, std::nullopt,
          error_of(ErrorKind::bad_response, -1, {std::move(names)})};
}

ExpectedError rate_limited_after(std::chrono::seconds after) {
  return ExpectedError{ErrorKind::rate_limited, 429, {}, after, false};
}

ProviderConformance zhipu_plan_table() {
  // Zhipu's own plugin sends the key as it is, without "Bearer".
  ProviderConformance t{"zhipu_plan", k_key, {}, "Authorization", k_key, {}, {}};
  t.cases = {
      {"documented body: the 5-hour window is the percent left, its reset and the plan in details", Shape::success,
       {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"88", "percent", true, std::nullopt,
                       {{"window", "5-hour window"}, {"resets_at", "2026-05-01T02:00:00Z"}, {"plan", "pro"}}},
       std::nullopt, "", std::nullopt, {}, {k_path}},
      {"window weekly reads TOKENS_LIMIT unit 6", Shape::other, {answer(k_path, 200, k_doc_body)},
       ExpectedReading{"74.5", "percent", true, std::nullopt,
                       {{"window", "weekly window"}, {"resets_at", "2026-05-07T00:00:00Z"}}},
       std::nullopt, "", std::nullopt, {{"window", "weekly"}}},
      {"an empty window reads 0 percent and cannot serve", Shape::empty_balance, {answer(k_path, 200, k_empty_window)},
       ExpectedReading{"0", "percent", false, std::nullopt, {}, {},
                       "5-hour window used up, resets at 2026-05-01T02:00:00Z"}},
      {"arrears (code 1113) are exhausted, never retry later", Shape::out_of_money,
       {answer(k_path, 429, k_arrears, {{"Retry-After", "60"}})}, std::nullopt,
       ExpectedError{ErrorKind::exhausted, -1, {}, std::nullopt, true}},
      {"a bad key inside HTTP 200", Shape::invalid_key, {answer(k_path, 200, k_bad_key)}, std::nullopt,
       error_of(ErrorKind::key_invalid, 200, {"token expired or incorrect"})},
      {"a bad key as HTTP 401", Shape::invalid_key, {answer(k_path, 401, k_bad_key)}, std::nullopt,
       error_of(ErrorKind::key_invalid)},
      {"429 high concurrency with Retry-After", Shape::rate_limit,
       {answer(k_path, 429, k_concurrency, {{"Retry-After", "5"}})}, std::nullopt,
       rate_limited_after(std::chrono::seconds(5))},
      {"429 in plain text with Retry-After", Shape::rate_limit,
       {CannedAnswer{k_path, 429, "Too Many Requests", "text/plain", {{"Retry-After", "3"}}}}, std::nullopt,
       rate_limited_after(std::chrono::seconds(3))},
      {"high concurrency (code 1302) inside HTTP 200", Shape::rate_limit, {answer(k_path, 200, k_concurrency)},
       std::nullopt, error_of(ErrorKind::rate_limited)},
      malformed(R"({"code":200,"success":true,"data":{"limits":[{"type":"TOKENS_LIMIT","unit":3,"percentage":"abc"}]}})",
                "data.limits[0].percentage"),
      malformed(R"({"code":200,"success":true,"data":{"limits":[{"type":"TOKENS_LIMIT","unit":3}]}})", "percentage"),
      malformed(R"({"code":200,"success":true,"data":{"limits":[]}})", "no 5-hour window"),
      malformed(R"({"code":200,"success":true,"data":{"limits":[{"type":"TIME_LIMIT","unit":5,"percentage":3}]}})",
                "no 5-hour window"),
      malformed(R"({"code":200,"success":true,"data":{}})", "data.limits"),
      malformed(R"({"code":200,"success":true,"data":null})", "data"),
      malformed(R"({"code":200,"success":"yes","data":{}})", "success"),
      malformed(R"({"code":200,"success":true,"data":{"limits":[{"type":"TOKENS_LIM)", "truncated"),
      malformed("<html><body>502 Bad Gateway</body></html>", "HTML"),
  };
  t.config_cases = {{"", {}, "api_key"}, {k_key, {{"window", "monthly"}}, "window must be 5h or weekly"}};
  return t;
}

}  // namespace

TEST_SUITE("provider_zhipu_plan") {
  TEST_CASE("provider conformance: zhipu_plan") { run_conformance(zhipu_plan_table()); }

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
