// MiniMax Coding Plan against a loopback fake of GET /v1/api/openplatform/coding_plan/remains
// (shapes and sources at the top of src/providers/minimax_plan.cpp): the balance is the
// percent of the window left, unit `percent`, with the window's reset in the details.
#include "integration/provider_probe.hpp"

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-cp-SECRET-abc123xyz";
constexpr const char* k_path = "/v1/api/openplatform/coding_plan/remains";

// As public clients parse it: a "general" entry for the plan, other models beside it.
// 1777600800000 is 2026-05-01T02:00:00Z, 1778112000000 2026-05-07T00:00:00Z.
constexpr const char* k_doc_body =
    R"({"model_remains":[{"model_name":"video","current_interval_remaining_percent":3},)"
    R"({"model_name":"general","start_time":1777582800000,"end_time":1777600800000,"remains_time":7200000,)"
    R"("current_interval_total_count":1500,"current_interval_usage_count":1200,"current_interval_remaining_percent":80,)"
    R"("weekly_end_time":1778112000000,"current_weekly_status":1,"current_weekly_remaining_percent":95.5}],)"
    R"("base_resp":{"status_code":0,"status_msg":"success"}})";
constexpr const char* k_empty_window =
    R"({"model_remains":[{"model_name":"general","end_time":1777600800000,"current_interval_remaining_percent":0,"current_weekly_status":3}],"base_resp":{"status_code":0,"status_msg":"success"}})";
// Counts only: current_interval_usage_count is the count LEFT (MiniMax-AI/MiniMax-M2 issue 99).
constexpr const char* k_counts_only =
    R"({"model_remains":[{"model_name":"general","end_time":1777600800000,"current_interval_total_count":1500,"current_interval_usage_count":300}],"base_resp":{"status_code":0,"status_msg":"success"}})";
constexpr const char* k_bad_key = R"({"base_resp":{"status_code":1004,"status_msg":"cookie is missing, log in again"}})";
constexpr const char* k_rate_limit = R"({"base_resp":{"status_code":1002,"status_msg":"rate limit"}})";

config::AccountConfig account(const FakeHttpServer& server, const std::string& prefix,
                              const std::map<std::string, std::string>& settings = {}) {
  return provider_account("minimax_plan", server.url() + prefix, k_key, settings);
}

}  // namespace

TEST_SUITE("provider_minimax_plan") {
  TEST_CASE("the general entry's 5-hour window is the percent left, its end in the details, Bearer auth") {
    FakeHttpServer server;
    serve(server, k_path, 200, k_doc_body);
    server.start();
    auto result = probe_once(account(server, ""));
    REQUIRE(result.ok());
    CHECK(result->available);
    REQUIRE(result->balances.size() == 1);
    const auto& b = result->balances[0];
    CHECK(b.currency == "percent");
    CHECK(b.balance == dec("80"));
    CHECK(b.details["window"] == "5-hour window");
    CHECK(b.details["resets_at"] == "2026-05-01T02:00:00Z");

    auto requests = recorded(server, 1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].path == k_path);
    CHECK(requests[0].header("Authorization") == std::string("Bearer ") + k_key);
  }

  TEST_CASE("window weekly reads the weekly percent - a plan without a weekly cap says so") {
    FakeHttpServer server;
    serve(server, "/doc" + std::string(k_path), 200, k_doc_body);
    serve(server, "/nocap" + std::string(k_path), 200, k_empty_window);
    server.start();
    auto weekly = probe_once(account(server, "/doc", {{"window", "weekly"}}));
    REQUIRE(weekly.ok());
    CHECK(weekly->balances[0].balance == dec("95.5"));
    CHECK(weekly->balances[0].details["resets_at"] == "2026-05-07T00:00:00Z");
    auto none = expect_error(probe_once(account(server, "/nocap", {{"window", "weekly"}})), ErrorKind::bad_response);
    CHECK(none.message.find("no weekly window") != std::string::npos);
    CHECK(any_error_mentions(build_errors(account(server, "", {{"window", "daily"}})), "window must be 5h or weekly"));
  }

  TEST_CASE("an empty window reads 0 percent and cannot serve - counts alone are read as the count left") {
    FakeHttpServer server;
    serve(server, "/empty" + std::string(k_path), 200, k_empty_window);
    serve(server, "/counts" + std::string(k_path), 200, k_counts_only);
    server.start();
    auto empty = probe_once(account(server, "/empty"));
    REQUIRE(empty.ok());
    CHECK(empty->balances[0].balance == Decimal());
    CHECK_FALSE(empty->available);
    auto counts = probe_once(account(server, "/counts"));
    REQUIRE(counts.ok());
    CHECK(counts->balances[0].balance == dec("20"));
  }

  TEST_CASE("an invalid key is key_invalid inside HTTP 200 or as HTTP 401 - rate limits are rate_limited") {
    FakeHttpServer server;
    serve(server, "/bad" + std::string(k_path), 200, k_bad_key);
    serve(server, "/http401" + std::string(k_path), 401, R"({"error":"unauthorized"})");
    serve(server, "/busy" + std::string(k_path), 200, k_rate_limit);
    serve(server, "/http429" + std::string(k_path), 429, "slow down", "text/plain", {{"Retry-After", "9"}});
    serve(server, "/other" + std::string(k_path), 200, R"({"base_resp":{"status_code":1000,"status_msg":"unknown error"}})");
    server.start();
    auto bad = expect_error(probe_once(account(server, "/bad")), ErrorKind::key_invalid);
    CHECK(bad.message.find("1004") != std::string::npos);
    CHECK(bad.message.find(k_key) == std::string::npos);
    expect_error(probe_once(account(server, "/http401")), ErrorKind::key_invalid);
    expect_error(probe_once(account(server, "/busy")), ErrorKind::rate_limited);
    auto http429 = expect_error(probe_once(account(server, "/http429")), ErrorKind::rate_limited);
    REQUIRE(http429.retry_after.has_value());
    CHECK(*http429.retry_after == std::chrono::seconds(9));
    auto other = expect_error(probe_once(account(server, "/other")), ErrorKind::http_status);
    CHECK(other.message.find("unknown error") != std::string::npos);
  }

  TEST_CASE("malformed bodies are bad_response naming what is wrong") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"model_remains":[{"model_name":"general","current_interval_remaining_percent":"lots"}],"base_resp":{"status_code":0}})",
         "current_interval_remaining_percent"},
        {R"({"model_remains":[{"model_name":"general"}],"base_resp":{"status_code":0}})", "neither"},
        {R"({"model_remains":[{"model_name":"video"},{"model_name":"audio"}],"base_resp":{"status_code":0}})", "general"},
        {R"({"model_remains":{},"base_resp":{"status_code":0}})", "model_remains"},
        {R"({"base_resp":{"status_code":0}})", "model_remains"},
        {R"({"model_remains":[],"base_resp":{"status_code":"0"}})", "base_resp.status_code"},
        {R"({"model_remains":[{"model_name":"gen)", "truncated"},
        {"<html><body>Just a moment...</body></html>", "HTML"},
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
}
