// The generic webhook notifier: its documented JSON schema (README.md, "Notifiers"), the
// HMAC-SHA256 signature, configured headers, and Alertmanager-style status handling
// (shared/reference/sinks.md sections 0 and 1.4).
#include "creditwatch/http/curl_client.hpp"

#include "fakes/notify_fixtures.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <nlohmann/json.hpp>

#include <array>
#include <set>

using creditwatch::config::Settings;
using creditwatch::http::CurlClient;
using creditwatch::notify::DeliveryResult;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using nlohmann::json;
using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_path = "/hooks/creditwatch/tok3nInTheP4th";
constexpr const char* k_secret = "whsec-s3cr3t-for-signing";
constexpr const char* k_bearer = "Bearer hdr-t0ken-value";

// The receiver's side of the signature, as README.md tells receivers to compute it.
std::string hmac_sha256_hex(const std::string& key, const std::string& message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), digest.data(), &length);
  std::string out;
  char pair[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    out += pair;
  }
  return out;
}

Settings webhook_settings(const std::string& base, bool signed_) {
  Settings s = {{"url", secret_setting(base + k_path, 21)},
                {"headers", map_setting({{"Authorization", k_bearer}, {"X-Team", "bots"}}, 22, true)}};
  if (signed_) s["secret"] = secret_setting(k_secret, 23);
  return s;
}

std::set<std::string> keys_of(const json& object) {
  std::set<std::string> out;
  for (const auto& [k, v] : object.items()) out.insert(k);
  return out;
}

}  // namespace

TEST_SUITE("notify.webhook") {
  TEST_CASE("the test helper computes HMAC-SHA256 correctly") {
    // The well-known vector (Wikipedia, "HMAC"), so the signature check below cannot pass
    // by agreeing with a broken helper.
    CHECK(hmac_sha256_hex("key", "The quick brown fox jumps over the lazy dog") ==
          "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  }

  TEST_CASE("the body is the documented schema with every figure") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), true)));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::delivered);

    const auto request = hook.only_request();
    CHECK(request.method == "POST");
    CHECK(request.path == k_path);
    CHECK(request.header("Content-Type").find("application/json") == 0);
    const auto body = json::parse(request.body);
    CHECK(keys_of(body) ==
          std::set<std::string>{"ack", "version", "dedup_key",   "status",          "reason",       "test",
                                "time",         "account",     "provider",        "labels",       "rule",
                                "severity",     "title",       "summary",         "balance",      "currency",
                                "burn_per_day", "runway_days", "runway_p10_days", "exhausted_at", "recommended_topup"});
    CHECK(body["version"] == "1");
    CHECK(body["dedup_key"] == "creditwatch-deepseek-prod-runway");
    CHECK(body["status"] == "firing");
    CHECK(body["reason"] == "started");
    CHECK(body["test"] == false);
    CHECK(body["time"] == "2026-05-01T00:00:00Z");
    CHECK(body["account"] == "deepseek-prod");
    CHECK(body["provider"] == "deepseek");
    CHECK(body["labels"] == json{{"team", "bots"}});
    CHECK(body["rule"] == "runway");
    CHECK(body["severity"] == "critical");
    CHECK(body["title"] == "[CRITICAL] deepseek-prod runway: runway 2.5 days");
    CHECK(body["summary"] == "runway 2.5 days");
    CHECK(body["balance"] == "12.50");
    CHECK(body["currency"] == "USD");
    CHECK(body["burn_per_day"] == 5.0);
    CHECK(body["runway_days"] == 2.5);
    CHECK(body["runway_p10_days"] == 1.75);
    CHECK(body["exhausted_at"] == "2026-05-03T12:00:00Z");
    CHECK(body["recommended_topup"] == "170.00");
  }

  TEST_CASE("unknown figures are null and a resolution says resolved") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), false)));
    CurlClient client;
    auto n = resolved(critical_runway());
    n.balance.reset();
    n.burn_per_day.reset();
    n.runway_days.reset();
    n.runway_p10_days.reset();
    n.exhausted_at.reset();
    n.recommended_topup.reset();
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto body = json::parse(hook.only_request().body);
    CHECK(body["status"] == "resolved");
    CHECK(body["reason"] == "resolved");
    for (const char* key :
         {"balance", "burn_per_day", "runway_days", "runway_p10_days", "exhausted_at", "recommended_topup"}) {
      INFO(key);
      CHECK(body[key].is_null());
    }
  }

  TEST_CASE("text that is not valid UTF-8 is replaced and still delivered") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), false)));
    CurlClient client;
    auto n = critical_runway();
    n.summary = "provider said \xFF\xFE";
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    CHECK(json::parse(hook.only_request().body)["summary"] == "provider said \xEF\xBF\xBD\xEF\xBF\xBD");
  }

  TEST_CASE("with a secret the body is signed with HMAC-SHA256 of its exact bytes") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), true)));
    CurlClient client;
    auto n = critical_runway();
    n.summary = "runway 2.5 days — soon";  // non-ASCII: the signature covers the bytes as sent
    CHECK(notifier->deliver(n, client).outcome == Outcome::delivered);
    const auto request = hook.only_request();
    CHECK(request.header("X-Creditwatch-Signature") == "sha256=" + hmac_sha256_hex(k_secret, request.body));
    CHECK(request.header("X-Creditwatch-Signature") != "sha256=" + hmac_sha256_hex("another key", request.body));
  }

  TEST_CASE("without a secret there is no signature header") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), false)));
    CurlClient client;
    CHECK(notifier->deliver(critical_runway(), client).outcome == Outcome::delivered);
    CHECK(hook.only_request().header("X-Creditwatch-Signature").empty());
  }

  TEST_CASE("configured headers are sent") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), false)));
    CurlClient client;
    CHECK(notifier->deliver(critical_runway(), client).outcome == Outcome::delivered);
    const auto request = hook.only_request();
    CHECK(request.header("Authorization") == k_bearer);
    CHECK(request.header("X-Team") == "bots");
  }

  TEST_CASE("the receiver's answers are classified") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), true)));
    CurlClient client;
    DeliveryResult result;

    SUBCASE("204 is delivered") {
      hook.reply(204, "");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::delivered);
      CHECK(result.http_status == 204);
    }
    SUBCASE("500 is retried") {
      hook.reply(500, "upstream down", "text/plain");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
    }
    SUBCASE("429 with Retry-After is retried after it") {
      hook.reply(429, "", "text/plain", {{"Retry-After", "9"}});
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::retry);
      REQUIRE(result.retry_after);
      CHECK(*result.retry_after == 9s);
    }
    SUBCASE("400 is permanent and keeps the receiver's explanation") {
      hook.reply(400, R"({"error":"bad signature"})");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("bad signature") != std::string::npos);
    }
    SUBCASE("an answer that echoes the URL, the headers and the secret does not leak them") {
      const std::string echo = hook.url() + k_path + " " + k_bearer + " " + k_secret;
      hook.reply(401, "rejected: " + echo, "text/plain");
      result = notifier->deliver(critical_runway(), client);
      CHECK(result.outcome == Outcome::permanent);
      CHECK(result.message.find("rejected") != std::string::npos);
    }
    check_no_secrets(result, {k_path, k_bearer, k_secret, "tok3nInTheP4th"});
  }

  TEST_CASE("an unreachable receiver is retried and the message holds no URL") {
    const std::string base = closed_url();
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(base, true)));
    CurlClient client;
    auto result = notifier->deliver(critical_runway(), client);
    CHECK(result.outcome == Outcome::retry);
    check_no_secrets(result, {k_path, k_secret});
  }

  TEST_CASE("webhook config problems name their location") {
    SUBCASE("url is required") {
      auto errors = config_errors(notifier_config("webhook", {}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 20);
      CHECK(errors[0].message.find("url") != std::string::npos);
    }
    SUBCASE("a url that is not http(s) is rejected without repeating it") {
      auto errors = config_errors(notifier_config("webhook", {{"url", secret_setting("ftp://example.com/x", 21)}}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 21);
      CHECK(errors[0].message.find("example.com") == std::string::npos);
    }
    SUBCASE("headers must be a map") {
      auto errors = config_errors(notifier_config(
          "webhook", {{"url", secret_setting("https://example.com/x", 21)}, {"headers", scalar_setting("x", 22)}}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 22);
    }
    SUBCASE("the signature header cannot be configured") {
      auto errors = config_errors(
          notifier_config("webhook", {{"url", secret_setting("https://example.com/x", 21)},
                                      {"headers", map_setting({{"x-creditwatch-signature", "sha256=0"}}, 22, true)}}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].where.line == 22);
      CHECK(errors[0].message.find("x-creditwatch-signature") != std::string::npos);
    }
    SUBCASE("a header value with a line break is rejected") {
      auto errors = config_errors(
          notifier_config("webhook", {{"url", secret_setting("https://example.com/x", 21)},
                                      {"headers", map_setting({{"X-Team", "bots\r\nX-Evil: 1"}}, 22, true)}}));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].message.find("line break") != std::string::npos);
    }
  }

  TEST_CASE("hostile text arrives as valid UTF-8 JSON of safe text") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), true)));
    CurlClient client;
    CHECK(notifier->deliver(hostile_notification(), client).outcome == Outcome::delivered);
    const auto request = hook.only_request();
    const auto body = strict_json(request.body);
    CHECK(body["summary"].get<std::string>().find("请检查您的密钥是否正确") != std::string::npos);
    CHECK(body["labels"].contains("团队"));
    CHECK(request.header("X-Creditwatch-Signature") == "sha256=" + hmac_sha256_hex(k_secret, request.body));
  }

  TEST_CASE("the body carries the acknowledgement, and null without one") {
    FakeSink hook("/hooks/.*");
    auto notifier = build_notifier(notifier_config("webhook", webhook_settings(hook.url(), false)));
    CurlClient client;
    CHECK(notifier->deliver(critical_runway(), client).outcome == Outcome::delivered);
    CHECK(notifier->deliver(acknowledged(critical_runway()), client).outcome == Outcome::delivered);
    const auto requests = hook.requests(2);
    REQUIRE(requests.size() == 2);
    CHECK(json::parse(requests[0].body)["ack"].is_null());
    const auto body = json::parse(requests[1].body);
    CHECK(body["reason"] == "acknowledged");
    CHECK(body["status"] == "firing");
    CHECK(body["ack"] == json{{"by", "alice"}, {"at", "2026-05-01T01:00:00Z"}, {"comment", "topping up today"}});
  }
}
