// An openai_probe liveness check beside a balance provider on the same account (issue 4):
// the DeepSeek balance endpoint still shows money while the chat API already answers 402.
// Shapes from shared/reference/providers.md sections 1 and 10.
#include "fakes/fake_clock.hpp"
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/providers/factory.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-SECRET-liveness-7777";
constexpr const char* k_balance =
    R"({"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"25.40","granted_balance":"0.00","topped_up_balance":"25.40"}]})";
constexpr const char* k_completion =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1777593600,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"P"},"finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}})";
constexpr const char* k_insufficient =
    R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}})";
constexpr const char* k_auth =
    R"({"error":{"message":"Authentication Fails, Your api key: ****7777 is invalid","type":"authentication_error","param":null,"code":"invalid_request_error"}})";

config::Setting setting(std::string value, int line) {
  config::Setting s;
  s.value = std::move(value);
  s.where = {"test.yaml", line, 5};
  return s;
}

config::AccountConfig deepseek_account(const std::string& base) {
  config::AccountConfig a;
  a.name = "ds";
  a.provider = "deepseek";
  a.api_key = Secret(k_key);
  a.base_url = base;
  a.where = {"test.yaml", 3, 5};
  a.settings["liveness_model"] = setting("deepseek-chat", 8);
  return a;
}

// A DeepSeek fake: the balance always shows money; the chat API answers `chat_status`.
struct DeepSeekFake {
  FakeHttpServer server;
  std::atomic<int> chat_status{200};
  std::atomic<int> chats{0};

  DeepSeekFake() {
    server.get("/user/balance", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(k_balance, "application/json");
    });
    server.post("/chat/completions", [this](const httplib::Request&, httplib::Response& res) {
      ++chats;
      res.status = chat_status.load();
      res.set_content(res.status == 200 ? k_completion : res.status == 401 ? k_auth : k_insufficient,
                      "application/json");
    });
    server.start();
  }
};

}  // namespace

TEST_SUITE("provider_liveness") {
  TEST_CASE("a chat API out of credit marks the account unavailable and keeps the balance") {
    DeepSeekFake fake;
    FakeClock clock;
    std::vector<config::ConfigError> errors;
    auto provider = providers::make_provider(deepseek_account(fake.server.url()), clock, errors);
    REQUIRE(errors.empty());
    REQUIRE(provider);
    http::CurlClient client;

    auto alive = provider->probe(client);
    REQUIRE(alive);
    CHECK(alive->available);
    REQUIRE(alive->balances.size() == 1);
    CHECK(alive->balances[0].balance.to_string() == "25.40");
    CHECK(fake.chats == 1);

    // A good answer is trusted for the interval (1 h by default): no token spent meanwhile.
    clock.advance(std::chrono::minutes(30));
    REQUIRE(provider->probe(client));
    CHECK(fake.chats == 1);

    fake.chat_status = 402;
    clock.advance(std::chrono::minutes(31));
    auto dry = provider->probe(client);
    REQUIRE(dry);
    CHECK_FALSE(dry->available);
    CHECK(dry->unavailable_reason.find("liveness probe: HTTP 402 out of credit") != std::string::npos);
    CHECK(dry->balances.size() == 1);
    CHECK(fake.chats == 2);

    // A bad answer is asked again at every probe, so a top-up clears it at once.
    fake.chat_status = 200;
    clock.advance(std::chrono::minutes(1));
    auto again = provider->probe(client);
    REQUIRE(again);
    CHECK(again->available);
    CHECK(fake.chats == 3);
  }

  TEST_CASE("a rejected inference key fails the probe as key_invalid without the key") {
    DeepSeekFake fake;
    fake.chat_status = 401;
    FakeClock clock;
    std::vector<config::ConfigError> errors;
    auto provider = providers::make_provider(deepseek_account(fake.server.url()), clock, errors);
    REQUIRE(provider);
    http::CurlClient client;
    auto result = provider->probe(client);
    REQUIRE_FALSE(result);
    CHECK(result.error().kind == ErrorKind::key_invalid);
    CHECK(result.error().message.rfind("liveness probe:", 0) == 0);
    CHECK(result.error().message.find(k_key) == std::string::npos);
  }

  TEST_CASE("settings: liveness_base_url is needed where the inference root is unknown") {
    FakeClock clock;
    std::vector<config::ConfigError> errors;
    auto a = deepseek_account("http://127.0.0.1:9");
    a.provider = "novita";
    auto provider = providers::make_provider(a, clock, errors);
    CHECK_FALSE(provider);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].to_string().find("liveness_base_url is needed for provider novita") != std::string::npos);

    errors.clear();
    a.settings["liveness_base_url"] = setting("http://127.0.0.1:9/openai", 9);
    a.settings["liveness_intervall"] = setting("1h", 10);
    provider = providers::make_provider(a, clock, errors);
    CHECK_FALSE(provider);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].to_string().find("did you mean \"liveness_interval\"") != std::string::npos);

    errors.clear();
    auto probe = deepseek_account("http://127.0.0.1:9");
    probe.provider = "openai_probe";
    probe.settings["model"] = setting("m", 9);
    CHECK_FALSE(providers::make_provider(probe, clock, errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].to_string().find("openai_probe is itself a liveness probe") != std::string::npos);
  }

  TEST_CASE("end to end: check is CRITICAL exhausted while the balance endpoint shows money") {
    DeepSeekFake fake;
    fake.chat_status = 402;
    TempDir dir;
    const auto config = dir.write("c.yaml", "storage:\n  path: " + dir.file("db.sqlite") +
                                                "\naccounts:\n"
                                                "  - name: ds\n"
                                                "    provider: deepseek\n"
                                                "    api_key: ${DS_KEY}\n"
                                                "    base_url: " + fake.server.url() + "\n"
                                                "    liveness_model: deepseek-chat\n");
    auto run = run_creditwatch({"check", "-c", config, "--json"}, {{"DS_KEY", k_key}});
    INFO("stdout: " << run.out << "\nstderr: " << run.err);
    CHECK(run.exit_code == 2);
    CHECK(run.out.find(k_key) == std::string::npos);
    CHECK(run.err.find(k_key) == std::string::npos);
    auto out = nlohmann::json::parse(run.out, nullptr, false);
    REQUIRE(out.is_array());
    CHECK(out[0]["state"] == "CRITICAL");
    CHECK(out.dump().find("liveness probe: HTTP 402 out of credit") != std::string::npos);
    CHECK(out.dump().find("25.4") != std::string::npos);
  }
}
