// Fault suite: every provider class (balance JSON, 200-with-error, cost API, http_json,
// openai_probe) against refused connections, DNS and TLS failures, timeouts, error statuses,
// broken and oversized bodies and a slow drip. The real `creditwatch check` must survive each
// one and name the failure kind; the daemon must keep running and raise `stale`.
#include "fault_server.hpp"
#include "http_daemon.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <string>
#include <vector>

using namespace creditwatch::testing;

namespace {

constexpr const char* k_key = "sk-FAULT-SECRET-5e1f";
const std::map<std::string, std::string> k_env = {{"CW_FAULT_KEY", k_key}};

// One provider class: how an account of it is written, given a base URL.
struct ProviderClass {
  std::string provider;
  std::string wrong_types;  // a body with the right keys holding the wrong JSON types
  std::map<std::string, std::string> expected_overrides = {};  // fault -> kind, where it differs

  std::string account(const std::string& name, const std::string& base) const {
    std::string y = "  - name: " + name + "\n    provider: " + provider + "\n";
    if (provider == "http_json") return y + "    url: " + base + "/balance\n    balance_pointer: /balance\n    currency: USD\n";
    y += "    api_key: ${CW_FAULT_KEY}\n    base_url: " + base + "\n";
    if (provider == "openai_costs") y += "    credit: 100\n    budget_start: 2026-05-01\n";
    if (provider == "openai_probe") y += "    model: cheap-model\n";
    return y;
  }
};

const std::vector<ProviderClass> k_classes = {
    {"deepseek", R"({"is_available":"yes","balance_infos":{"currency":1}})"},
    {"openrouter", R"({"data":{"total_credits":"lots","total_usage":[1]}})"},
    // A business error inside HTTP 200 is reported as an http_status failure with its code.
    {"siliconflow", R"({"code":20000,"status":true,"data":{"totalBalance":{"v":1}}})", {{"business-error", "http_status"}}},
    {"openai_costs", R"({"object":"page","data":{},"has_more":false})"},
    {"http_json", R"({"balance":{"amount":true}})"},
    {"openai_probe", R"({"choices":"none"})"},
};

// What each fault must be classified as, unless the class overrides it.
const std::map<std::string, std::string> k_expected = {
    {"refused", "connect"},          {"dns", "dns"},
    {"tls", "tls"},                  {"timeout", "timeout"},
    {"500", "server_error"},         {"503", "server_error"},
    {"429", "rate_limited"},         {"401", "key_invalid"},
    {"402", "exhausted"},            {"html", "bad_response"},
    {"truncated", "bad_response"},   {"wrong-types", "bad_response"},
    {"huge", "body_too_large"},      {"drip", "timeout"},
    {"business-error", "bad_response"}, {"deep-error", "server_error"},
};

std::string expected_kind(const ProviderClass& c, const std::string& fault) {
  if (auto it = c.expected_overrides.find(fault); it != c.expected_overrides.end()) return it->second;
  return k_expected.at(fault);
}

std::string fault_config(const TempDir& dir, const std::string& accounts) {
  return dir.write("creditwatch.yaml", "storage:\n  path: " + dir.file("db.sqlite") +
                                           "\ndefaults:\n  timeout: 1500ms\naccounts:\n" + accounts);
}

void check_survived(const ProcessResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK(r.signal == 0);
  CHECK(r.err.find("Sanitizer") == std::string::npos);
  CHECK(r.err.find("runtime error") == std::string::npos);
  CHECK(r.out.find(k_key) == std::string::npos);
  CHECK(r.err.find(k_key) == std::string::npos);
}

}  // namespace

TEST_SUITE("provider_faults") {
  TEST_CASE("check classifies every fault of every provider class and survives") {
    TempDir dir;
    SelfSignedTlsServer tls(dir);
    const std::string refused = "http://127.0.0.1:" + std::to_string(closed_port());
    for (const auto& c : k_classes) {
      CAPTURE(c.provider);
      FaultServer server(c.wrong_types);
      std::map<std::string, std::string> base = {
          {"refused", refused}, {"dns", "http://creditwatch-fault-test.invalid"}, {"tls", tls.url()}};
      for (const auto& fault : k_http_faults) base[fault] = server.url(fault);
      std::string accounts;
      for (const auto& [fault, url] : base) accounts += c.account("f-" + fault, url);
      const auto config = fault_config(dir, accounts);

      const auto started = std::chrono::steady_clock::now();
      auto r = run_creditwatch({"check", "--json", "-c", config}, k_env, std::chrono::seconds(30));
      const auto took = std::chrono::steady_clock::now() - started;
      check_survived(r);
      CHECK(took < std::chrono::seconds(10));  // timeouts are honoured, not waited out
      CHECK((r.exit_code == 2 || r.exit_code == 3));
      auto out = nlohmann::json::parse(r.out, nullptr, false);
      REQUIRE_MESSAGE(out.is_array(), r.out);
      REQUIRE(out.size() == base.size());
      for (const auto& entry : out) {
        const std::string fault = entry["account"].get<std::string>().substr(2);
        CAPTURE(fault);
        INFO("entry: " << entry.dump());
        REQUIRE(entry["error"].is_object());
        CHECK(entry["error"]["kind"] == expected_kind(c, fault));
        CHECK(!entry["error"]["message"].get<std::string>().empty());
        CHECK(entry["state"] != "OK");
      }
    }
  }

  TEST_CASE("the daemon keeps running through faults and raises stale after the configured misses") {
    // Every provider class answers well first (stale needs a success to be stale against),
    // then every request gets the next fault in turn.
    std::atomic<bool> failing{false};
    std::atomic<std::size_t> turn{0};
    const std::vector<std::string> faults = {"500", "503", "html", "truncated", "wrong-types", "huge", "drip"};
    const std::map<std::string, std::string> good = {
        {"/deepseek/user/balance",
         R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]})"},
        {"/openrouter/api/v1/credits", R"({"data":{"total_credits":100,"total_usage":25.5}})"},
        {"/siliconflow/v1/user/info", R"({"code":20000,"message":"OK","status":true,"data":{"totalBalance":"88.50"}})"},
        {"/openai_costs/v1/organization/costs", R"({"object":"page","data":[],"has_more":false,"next_page":null})"},
        {"/http_json/balance", R"({"balance":5})"},
        {"/openai_probe/chat/completions", R"({"id":"c","object":"chat.completion","choices":[{"index":0}]})"},
    };
    FakeHttpServer server;
    auto handler = [&](const httplib::Request& req, httplib::Response& res) {
      if (failing) return answer_fault(faults[turn++ % faults.size()], R"({"data":7})", res);
      auto it = good.find(req.path);
      if (it == good.end()) return reply_json(res, 404, R"({"error":{"message":"no route"}})");
      reply_json(res, 200, it->second);
    };
    server.get(".*", handler);
    server.post(".*", handler);
    server.start();

    // openai_costs asks its API at most once an hour and reuses the spend in between, so it
    // cannot miss probes within this test; `check` above covers its faults.
    std::vector<ProviderClass> classes;
    for (const auto& c : k_classes) {
      if (std::string(c.provider) != "openai_costs") classes.push_back(c);
    }
    TempDir dir;
    std::string accounts;
    for (const auto& c : classes) accounts += c.account(c.provider, server.url() + "/" + c.provider);
    // Short probes and intervals: stale after max(3 x 300ms, 2s) without a success.
    dir.write("creditwatch.yaml", "storage:\n  path: " + dir.file("creditwatch.db") +
                                      "\nhttp:\n  listen: 127.0.0.1:0\n"
                                      "defaults:\n  interval: 300ms\n  timeout: 500ms\n  stale_after: 2s\n"
                                      "logging:\n  level: debug\naccounts:\n" + accounts);
    HttpDaemon daemon(dir, {{"CW_FAULT_KEY", k_key}});
    daemon.start();

    // Each class answered well at least twice and its latest probe succeeded.
    auto all_ok = [&] {
      const auto requests = server.requests();
      for (const auto& c : classes) {
        std::size_t seen = 0;
        for (const auto& r : requests) seen += r.path.rfind("/" + c.provider + "/", 0) == 0 ? 1 : 0;
        auto a = daemon.account(c.provider);
        if (seen < 2 || !a || !(*a)["error"].is_null()) return false;
      }
      return true;
    };
    REQUIRE_MESSAGE(eventually(all_ok, std::chrono::seconds(15)), daemon.log());
    const auto fail_started = std::chrono::steady_clock::now();
    failing = true;

    auto stale_everywhere = [&] {
      for (const auto& c : classes) {
        auto a = daemon.account(c.provider);
        if (!a) return false;
        bool stale = false;
        for (const auto& alert : (*a)["alerts"]) stale = stale || alert["rule"] == "stale";
        if (!stale) return false;
      }
      return true;
    };
    REQUIRE_MESSAGE(eventually(stale_everywhere, std::chrono::seconds(20)), daemon.log());
    // Not before the configured misses: max(3 x 300ms, stale_after 2s) since the last
    // success, which came at most one interval before the faults began.
    CHECK(std::chrono::steady_clock::now() - fail_started >= std::chrono::milliseconds(1700));
    CHECK(turn.load() > faults.size());  // every fault was served at least once
    CHECK(daemon.running());
    auto health = daemon.get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    const auto log = daemon.log();
    CHECK(log.find(k_key) == std::string::npos);
    CHECK(log.find("Sanitizer") == std::string::npos);
    CHECK(daemon.terminate() == 0);
  }
}
