// The openai_probe provider in-process against a loopback fake, plus end-to-end `check` runs.
// Answers from shared/reference/providers.md section 10 (status mapping per provider) and 5d.
#include "fakes/fake_clock.hpp"
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/providers/factory.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-SECRET-probe-4242";

constexpr const char* k_completion =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1777593600,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"P"},"finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}})";
constexpr const char* k_deepseek_402 =
    R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}})";

config::Setting setting(std::string value, int line) {
  config::Setting s;
  s.value = std::move(value);
  s.where = {"test.yaml", line, 5};
  return s;
}

config::AccountConfig account(const std::string& base) {
  config::AccountConfig a;
  a.name = "probe";
  a.provider = "openai_probe";
  a.api_key = Secret(k_key);
  a.base_url = base;
  a.where = {"test.yaml", 3, 5};
  a.settings["model"] = setting("deepseek-chat", 7);
  return a;
}

struct Built {
  std::unique_ptr<providers::Provider> provider;
  std::vector<config::ConfigError> errors;
};

Built build(const config::AccountConfig& a) {
  static FakeClock clock;
  Built b;
  b.provider = providers::make_provider(a, clock, b.errors);
  return b;
}

providers::ProbeResult probe(const config::AccountConfig& a) {
  auto built = build(a);
  std::string errors;
  for (const auto& e : built.errors) errors += e.to_string() + "\n";
  REQUIRE_MESSAGE(built.errors.empty(), errors);
  REQUIRE(built.provider);
  http::CurlClient client;
  return built.provider->probe(client);
}

// Answers POST {prefix}/chat/completions with one canned reply.
void serve(FakeHttpServer& server, const std::string& prefix, int status, std::string body,
           std::vector<std::pair<std::string, std::string>> headers = {}, std::string type = "application/json") {
  server.post(prefix + "/chat/completions", [=](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    for (const auto& [k, v] : headers) res.set_header(k, v);
    res.set_content(body, type);
  });
}

// The fake records a request only after it has answered, so the client can get there first.
RecordedRequest only_request(const FakeHttpServer& server) {
  eventually([&] { return server.request_count() >= 1; }, std::chrono::seconds(2));
  REQUIRE(server.request_count() == 1);
  return server.requests()[0];
}

}  // namespace

TEST_SUITE("provider_openai_probe") {
  TEST_CASE("a completion means alive: available, no balances - the request is one token") {
    FakeHttpServer server;
    serve(server, "/v1", 200, k_completion);
    server.start();
    auto r = probe(account(server.url() + "/v1/"));
    REQUIRE_MESSAGE(r, r.error().message);
    CHECK(r->available);
    CHECK(r->balances.empty());
    auto request = only_request(server);
    CHECK(request.method == "POST");
    CHECK(request.path == "/v1/chat/completions");
    CHECK(request.header("Authorization") == std::string("Bearer ") + k_key);
    CHECK(request.header("Content-Type") == "application/json");
    auto body = nlohmann::json::parse(request.body);
    CHECK(body == nlohmann::json::parse(
                      R"({"model":"deepseek-chat","messages":[{"role":"user","content":"ping"}],"max_tokens":1,"stream":false})"));
  }

  TEST_CASE("max_tokens_field: max_completion_tokens for OpenAI reasoning models") {
    FakeHttpServer server;
    serve(server, "", 200, k_completion);
    server.start();
    auto a = account(server.url());
    a.settings["model"] = setting("o4-mini", 7);
    a.settings["max_tokens_field"] = setting("max_completion_tokens", 8);
    REQUIRE(probe(a));
    auto body = nlohmann::json::parse(only_request(server).body);
    CHECK(body["model"] == "o4-mini");
    CHECK(body["max_completion_tokens"] == 1);
    CHECK_FALSE(body.contains("max_tokens"));
  }

  TEST_CASE("answers are told apart by body, not by status alone") {
    struct Case {
      const char* what;
      int status;
      const char* body;
      ErrorKind kind;
    };
    const std::vector<Case> cases = {
        {"DeepSeek 402", 402, k_deepseek_402, ErrorKind::exhausted},
        {"OpenRouter 402", 402, R"({"error":{"code":402,"message":"Insufficient credits"}})", ErrorKind::exhausted},
        {"OpenAI 429 insufficient_quota", 429,
         R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})",
         ErrorKind::exhausted},
        {"OpenAI 429 credit_balance_exhausted", 429,
         R"({"error":{"message":"Your credit balance is exhausted.","type":"insufficient_quota","param":null,"code":"credit_balance_exhausted"}})",
         ErrorKind::exhausted},
        {"Moonshot 429", 429,
         R"({"error":{"message":"Your account org-1 is suspended, please check your plan and billing details","type":"exceeded_current_quota_error"}})",
         ErrorKind::exhausted},
        {"Baichuan 429", 429, R"({"error":{"code":"insufficient_quota","message":"Insufficient account balance"}})",
         ErrorKind::exhausted},
        {"Anthropic-style 400", 400,
         R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."},"request_id":"req_011C"})",
         ErrorKind::exhausted},
        {"xAI 403", 403,
         R"({"code":"The caller does not have permission to execute the specified operation","error":"Your newly created team doesn't have any credits yet. You can purchase credits on https://console.x.ai/team/t-1."})",
         ErrorKind::exhausted},
        {"new-api relay 403", 403,
         R"({"error":{"message":"user quota is not enough","type":"new_api_error","param":"","code":"insufficient_user_quota"}})",
         ErrorKind::exhausted},
        {"SiliconFlow 403", 403, R"({"code":30001,"message":"Sorry, your account balance is insufficient","data":null})",
         ErrorKind::exhausted},
        {"OpenAI 401", 401,
         R"({"error":{"message":"Incorrect API key provided: sk-abc***1234.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
         ErrorKind::key_invalid},
        {"DeepSeek 401", 401,
         R"({"error":{"message":"Authentication Fails, Your api key: ****4242 is invalid","type":"authentication_error","param":null,"code":"invalid_request_error"}})",
         ErrorKind::key_invalid},
        {"SiliconFlow 401 bare string", 401, R"("Api key is invalid")", ErrorKind::key_invalid},
        {"403 permission", 403, R"({"error":{"message":"You are not allowed to use this model","type":"permission_error"}})",
         ErrorKind::key_invalid},
        {"unknown model 404", 404, R"({"error":{"message":"The model `nope` does not exist","code":"model_not_found"}})",
         ErrorKind::http_status},
        {"overloaded 529", 529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
         ErrorKind::server_error},
    };
    FakeHttpServer server;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      serve(server, "/c" + std::to_string(i), cases[i].status, cases[i].body, {{"Retry-After", "7"}});
    }
    server.start();
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].what);
      auto r = probe(account(server.url() + "/c" + std::to_string(i)));
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == cases[i].kind);
      CHECK(r.error().http_status == cases[i].status);
      CHECK_FALSE(r.error().message.empty());
      // Balance errors are never retried on a timer.
      if (cases[i].kind == ErrorKind::exhausted) CHECK_FALSE(r.error().retry_after.has_value());
    }
  }

  TEST_CASE("a genuine rate limit keeps its Retry-After") {
    FakeHttpServer server;
    serve(server, "/with", 429,
          R"({"error":{"message":"Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}})",
          {{"Retry-After", "20"}});
    serve(server, "/without", 429, R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}})");
    server.start();
    auto r = probe(account(server.url() + "/with"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::rate_limited);
    REQUIRE(r.error().retry_after.has_value());
    CHECK(*r.error().retry_after == std::chrono::seconds(20));
    r = probe(account(server.url() + "/without"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::rate_limited);
    CHECK_FALSE(r.error().retry_after.has_value());
  }

  TEST_CASE("a model that rejects max_tokens gets a hint") {
    FakeHttpServer server;
    serve(server, "", 400,
          R"({"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}})");
    server.start();
    auto r = probe(account(server.url()));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::http_status);
    CHECK(r.error().message.find("max_tokens_field: max_completion_tokens") != std::string::npos);
  }

  TEST_CASE("a 200 that is not a completion is not alive") {
    FakeHttpServer server;
    serve(server, "/html", 200, "<!doctype html><html><body>relay console</body></html>", {}, "text/html");
    serve(server, "/nochoices", 200, R"({"code":"404"})");
    serve(server, "/badchoices", 200, R"({"choices":"none"})");
    serve(server, "/truncated", 200, R"({"id":"chatcmpl-1","choices":[{"index":0,"mess)");
    serve(server, "/relay-quota", 200, R"({"error":{"message":"insufficient_user_quota","type":"one_api_error"}})");
    serve(server, "/relay-other", 200, R"({"error":{"message":"upstream failed","type":"upstream_error"}})");
    server.start();
    for (const char* path : {"/html", "/nochoices", "/badchoices", "/truncated", "/relay-other"}) {
      CAPTURE(path);
      auto r = probe(account(server.url() + path));
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == ErrorKind::bad_response);
    }
    auto r = probe(account(server.url() + "/nochoices"));
    CHECK(r.error().message.find("choices") != std::string::npos);
    r = probe(account(server.url() + "/relay-other"));
    CHECK(r.error().message.find("upstream failed") != std::string::npos);
    r = probe(account(server.url() + "/relay-quota"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::exhausted);
  }

  TEST_CASE("config errors say where") {
    auto has = [](const Built& b, int line, const std::string& text) {
      for (const auto& e : b.errors) {
        if (e.where.line == line && e.message.find(text) != std::string::npos) return true;
      }
      return false;
    };
    auto dump = [](const Built& b) {
      std::string out;
      for (const auto& e : b.errors) out += e.to_string() + "\n";
      return out;
    };
    auto a = account("");
    a.settings.erase("model");
    a.api_key = Secret();
    auto b = build(a);
    CHECK_FALSE(b.provider);
    CHECK_MESSAGE(has(b, 3, "needs model"), dump(b));
    CHECK_MESSAGE(has(b, 3, "needs base_url"), dump(b));
    CHECK_MESSAGE(has(b, 3, "needs api_key"), dump(b));

    a = account("https://api.example.com/v1");
    a.settings["max_tokens_field"] = setting("max_output_tokens", 8);
    a.settings["modle"] = setting("x", 9);
    b = build(a);
    CHECK_FALSE(b.provider);
    CHECK_MESSAGE(has(b, 8, "max_completion_tokens"), dump(b));
    CHECK_MESSAGE(has(b, 9, "did you mean \"model\""), dump(b));
  }

  TEST_CASE("end to end: check exits 2 on DeepSeek's 402 and 0 on a completion") {
    FakeHttpServer server;
    serve(server, "/dry", 402, k_deepseek_402);
    serve(server, "/live", 200, k_completion);
    server.start();
    TempDir dir;
    auto write = [&](const std::string& file, const std::string& prefix) {
      return dir.write(file, "storage:\n  path: " + dir.file("db.sqlite") +
                                 "\naccounts:\n"
                                 "  - name: ds-probe\n"
                                 "    provider: openai_probe\n"
                                 "    api_key: ${PROBE_KEY}\n"
                                 "    base_url: " + server.url() + prefix + "\n"
                                 "    model: deepseek-chat\n");
    };
    const std::map<std::string, std::string> env = {{"PROBE_KEY", k_key}};

    auto dry = run_creditwatch({"check", "-c", write("dry.yaml", "/dry"), "--json"}, env);
    INFO("stdout: " << dry.out << "\nstderr: " << dry.err);
    CHECK(dry.exit_code == 2);
    CHECK(dry.out.find(k_key) == std::string::npos);
    auto out = nlohmann::json::parse(dry.out, nullptr, false);
    REQUIRE(out.is_array());
    REQUIRE(out.size() == 1);
    CHECK(out[0]["state"] == "CRITICAL");
    CHECK(out[0]["error"]["kind"] == "exhausted");

    auto live = run_creditwatch({"check", "-c", write("live.yaml", "/live")}, env);
    INFO("stdout: " << live.out << "\nstderr: " << live.err);
    CHECK(live.exit_code == 0);
    CHECK(live.out.find("ds-probe") != std::string::npos);
    CHECK(live.out.find(k_key) == std::string::npos);
    auto live_json = run_creditwatch({"check", "-c", write("live.yaml", "/live"), "--json"}, env);
    CHECK(live_json.exit_code == 0);
    auto j = nlohmann::json::parse(live_json.out, nullptr, false);
    REQUIRE(j.is_array());
    CHECK(j[0]["state"] == "OK");
    CHECK(j[0]["balances"].empty());
    CHECK(j[0]["error"].is_null());
  }
}
