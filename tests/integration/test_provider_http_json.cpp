// The http_json provider in-process against a loopback fake, plus one end-to-end `check` run.
// Shapes from shared/reference/providers.md sections 0, 7.9 and 11 (numeric strings, 200 with
// an error inside, bodies that are not JSON).
#include "fakes/fake_clock.hpp"
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/providers/factory.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::testing;

namespace {

constexpr const char* k_key = "sk-SECRET-httpjson-777";

Decimal dec(const char* text) { return *Decimal::parse(text); }

config::Setting setting(std::string value, int line) {
  config::Setting s;
  s.value = std::move(value);
  s.where = {"test.yaml", line, 5};
  return s;
}

config::AccountConfig account(const std::string& url) {
  config::AccountConfig a;
  a.name = "relay";
  a.provider = "http_json";
  a.currency = "USD";
  a.where = {"test.yaml", 3, 5};
  a.settings["url"] = setting(url, 5);
  a.settings["balance_pointer"] = setting("/data/wallet/balance", 6);
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

// Serves one canned answer at `path` for GET and POST.
void serve(FakeHttpServer& server, const std::string& path, int status, std::string body,
           std::vector<std::pair<std::string, std::string>> headers = {}, std::string type = "application/json") {
  auto handler = [=](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    for (const auto& [k, v] : headers) res.set_header(k, v);
    res.set_content(body, type);
  };
  server.get(path, handler);
  server.post(path, handler);
}

std::string message_of(const providers::ProbeResult& r) { return r ? std::string() : r.error().message; }

// The fake records a request only after it has answered, so the client can get there first.
RecordedRequest only_request(const FakeHttpServer& server) {
  eventually([&] { return server.request_count() >= 1; }, std::chrono::seconds(2));
  REQUIRE(server.request_count() == 1);
  return server.requests()[0];
}

}  // namespace

TEST_SUITE("provider_http_json") {
  TEST_CASE("a nested string balance is read exactly, with the key as a bearer token and the headers sent") {
    FakeHttpServer server;
    serve(server, "/api/balance", 200, R"({"data":{"wallet":{"balance":"12.34","frozen":"0.50"}}})");
    server.start();
    auto a = account(server.url() + "/api/balance?user=7");
    a.api_key = Secret(k_key);
    a.settings["headers"].entries = {{"X-Team", "team-42"}};
    auto r = probe(a);
    REQUIRE_MESSAGE(r, message_of(r));
    CHECK(r->available);
    REQUIRE(r->balances.size() == 1);
    CHECK(r->balances[0].currency == "USD");
    CHECK(r->balances[0].balance == dec("12.34"));
    CHECK(r->balances[0].balance.to_string() == "12.34");
    CHECK_FALSE(r->balances[0].spend_total.has_value());
    auto request = only_request(server);
    CHECK(request.method == "GET");
    CHECK(request.path == "/api/balance");
    CHECK(request.header("Authorization") == std::string("Bearer ") + k_key);
    CHECK(request.header("X-Team") == "team-42");
  }

  TEST_CASE("numbers, cents with scale, a spend counter and a currency in the body") {
    FakeHttpServer server;
    serve(server, "/cents", 200, R"({"balance_cents":1234,"used_cents":"250.5","currency":"usd"})");
    serve(server, "/zero", 200, R"({"balance_cents":0,"used_cents":0,"currency":"EUR"})");
    serve(server, "/list", 200, R"([{"currency":"CNY","amount":7.5}])");
    server.start();

    SUBCASE("cents") {
      auto a = account(server.url() + "/cents");
      a.settings["balance_pointer"] = setting("/balance_cents", 6);
      a.settings["spend_pointer"] = setting("/used_cents", 7);
      a.settings["currency_pointer"] = setting("/currency", 8);
      a.settings["scale"] = setting("0.01", 9);
      auto r = probe(a);
      REQUIRE_MESSAGE(r, message_of(r));
      REQUIRE(r->balances.size() == 1);
      CHECK(r->balances[0].currency == "USD");
      CHECK(r->balances[0].balance == dec("12.34"));
      REQUIRE(r->balances[0].spend_total.has_value());
      CHECK(*r->balances[0].spend_total == dec("2.505"));
    }
    SUBCASE("zero, with the currency only in the body") {
      auto a = account(server.url() + "/zero");
      a.currency.reset();
      a.settings["balance_pointer"] = setting("/balance_cents", 6);
      a.settings["currency_pointer"] = setting("/currency", 8);
      auto r = probe(a);
      REQUIRE_MESSAGE(r, message_of(r));
      CHECK(r->balances[0].currency == "EUR");
      CHECK(r->balances[0].balance == Decimal());
    }
    SUBCASE("a body whose top is a list") {
      auto a = account(server.url() + "/list");
      a.settings["balance_pointer"] = setting("/0/amount", 6);
      a.settings["currency_pointer"] = setting("/0/currency", 8);
      a.currency.reset();
      auto r = probe(a);
      REQUIRE_MESSAGE(r, message_of(r));
      CHECK(r->balances[0].currency == "CNY");
      CHECK(r->balances[0].balance == dec("7.5"));
    }
    SUBCASE("a currency in the body that contradicts the account's") {
      auto a = account(server.url() + "/zero");
      a.settings["balance_pointer"] = setting("/balance_cents", 6);
      a.settings["currency_pointer"] = setting("/currency", 8);
      auto r = probe(a);
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == providers::ErrorKind::bad_response);
      CHECK(r.error().message.find("EUR") != std::string::npos);
      CHECK(r.error().message.find("USD") != std::string::npos);
    }
  }

  TEST_CASE("POST with a body - an Authorization header in headers wins over api_key") {
    FakeHttpServer server;
    serve(server, "/query", 200, R"({"data":{"wallet":{"balance":99}}})");
    server.start();
    auto a = account(server.url() + "/query");
    a.api_key = Secret(k_key);
    a.settings["method"] = setting("post", 7);
    a.settings["body"] = setting(R"({"account":"main"})", 8);
    a.settings["headers"].entries = {{"authorization", "Token abcdefgh12345678"}};
    auto r = probe(a);
    REQUIRE_MESSAGE(r, message_of(r));
    CHECK(r->balances[0].balance == dec("99"));
    auto request = only_request(server);
    CHECK(request.method == "POST");
    CHECK(request.body == R"({"account":"main"})");
    CHECK(request.header("Content-Type") == "application/json");
    CHECK(request.header("Authorization") == "Token abcdefgh12345678");
  }

  TEST_CASE("ok_pointer: a 200 with an error inside is reported with the provider's message") {
    FakeHttpServer server;
    serve(server, "/good", 200, R"({"code":20000,"status":true,"data":{"wallet":{"balance":"5.00"}}})");
    serve(server, "/bad", 200, R"({"code":40001,"status":false,"message":"Insufficient balance","data":null})");
    serve(server, "/relay", 200, R"({"error":{"message":"invalid token","type":"one_api_error"}})");
    server.start();
    SUBCASE("numeric code") {
      auto a = account(server.url() + "/good");
      a.settings["ok_pointer"] = setting("/code", 7);
      a.settings["ok_value"] = setting("20000", 8);
      auto r = probe(a);
      REQUIRE_MESSAGE(r, message_of(r));
      CHECK(r->balances[0].balance == dec("5"));
      a.settings["url"] = setting(server.url() + "/bad", 5);
      auto bad = probe(a);
      REQUIRE_FALSE(bad);
      CHECK(bad.error().kind == providers::ErrorKind::bad_response);
      CHECK(bad.error().message.find("Insufficient balance") != std::string::npos);
      CHECK(bad.error().message.find("40001") != std::string::npos);
    }
    SUBCASE("boolean status") {
      auto a = account(server.url() + "/good");
      a.settings["ok_pointer"] = setting("/status", 7);
      a.settings["ok_value"] = setting("true", 8);
      CHECK(probe(a));
      a.settings["url"] = setting(server.url() + "/bad", 5);
      CHECK_FALSE(probe(a));
    }
    SUBCASE("the ok field missing altogether (one-api wrapper)") {
      auto a = account(server.url() + "/relay");
      a.settings["ok_pointer"] = setting("/code", 7);
      a.settings["ok_value"] = setting("20000", 8);
      auto r = probe(a);
      REQUIRE_FALSE(r);
      CHECK(r.error().message.find("invalid token") != std::string::npos);
    }
  }

  TEST_CASE("HTTP errors: invalid key, out of balance, rate limit with Retry-After") {
    FakeHttpServer server;
    serve(server, "/401", 401, R"({"error":{"message":"Incorrect API key provided: abcdefgh12345678","type":"invalid_request_error"}})");
    serve(server, "/402", 402, R"({"error":{"message":"Insufficient Balance"}})");
    serve(server, "/429", 429, R"({"error":{"message":"slow down"}})", {{"Retry-After", "30"}});
    serve(server, "/500", 500, "<html>oops</html>", {}, "text/html");
    server.start();
    auto a = account(server.url() + "/401");
    a.settings["headers"].entries = {{"X-Api-Key", "abcdefgh12345678"}};
    auto r = probe(a);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == providers::ErrorKind::key_invalid);
    CHECK(r.error().http_status == 401);
    // The header's credential echoed by the provider is redacted.
    CHECK(r.error().message.find("abcdefgh12345678") == std::string::npos);
    CHECK(r.error().message.find("Incorrect API key") != std::string::npos);

    a.settings["url"] = setting(server.url() + "/402", 5);
    r = probe(a);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == providers::ErrorKind::exhausted);

    a.settings["url"] = setting(server.url() + "/429", 5);
    r = probe(a);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == providers::ErrorKind::rate_limited);
    REQUIRE(r.error().retry_after.has_value());
    CHECK(*r.error().retry_after == std::chrono::seconds(30));

    a.settings["url"] = setting(server.url() + "/500", 5);
    r = probe(a);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == providers::ErrorKind::server_error);
  }

  TEST_CASE("malformed answers are bad_response naming the field") {
    struct Case {
      const char* what;
      const char* body;
      const char* expect;
    };
    const std::vector<Case> cases = {
        {"missing leaf", R"({"data":{"wallet":{}}})", "/data/wallet has no \"balance\""},
        {"missing branch", R"({"data":{}})", "/data has no \"wallet\""},
        {"missing root key", R"({"other":1})", "the body has no \"data\""},
        {"through a scalar", R"({"data":{"wallet":"empty"}})", "/data/wallet is \"empty\""},
        {"an object where the amount should be", R"({"data":{"wallet":{"balance":{"usd":1}}}})", "an object"},
        {"a boolean", R"({"data":{"wallet":{"balance":true}}})", "true"},
        {"a word", R"({"data":{"wallet":{"balance":"lots"}}})", "\"lots\""},
        {"null", R"({"data":{"wallet":{"balance":null}}})", "null"},
        {"HTML", "<!doctype html><html><body>app</body></html>", "HTML"},
        {"truncated", R"({"data":{"wallet":{"bal)", "truncated"},
        {"empty", "", "empty body"},
    };
    FakeHttpServer server;
    for (std::size_t i = 0; i < cases.size(); ++i) serve(server, "/c" + std::to_string(i), 200, cases[i].body);
    server.start();
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].what);
      auto r = probe(account(server.url() + "/c" + std::to_string(i)));
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == providers::ErrorKind::bad_response);
      CHECK_MESSAGE(r.error().message.find(cases[i].expect) != std::string::npos, r.error().message);
    }
    // Leaf errors name the setting and the pointer.
    auto r = probe(account(server.url() + "/c0"));
    CHECK(r.error().message.find("balance_pointer /data/wallet/balance") != std::string::npos);
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
    SUBCASE("missing url: at the account") {
      auto a = account("x");
      a.settings.erase("url");
      auto b = build(a);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(has(b, 3, "needs url"), dump(b));
    }
    SUBCASE("a url that is not http(s)") {
      auto b = build(account("ftp://example.com/x"));
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(has(b, 5, "http://"), dump(b));
    }
    SUBCASE("malformed pointers: at the setting") {
      auto a = account("https://example.com/x");
      a.settings["balance_pointer"] = setting("data/balance", 6);
      a.settings["spend_pointer"] = setting("/a/~2", 7);
      auto b = build(a);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(has(b, 6, "not a JSON Pointer"), dump(b));
      CHECK_MESSAGE(has(b, 7, "not a JSON Pointer"), dump(b));
    }
    SUBCASE("missing balance_pointer and currency") {
      auto a = account("https://example.com/x");
      a.settings.erase("balance_pointer");
      a.currency.reset();
      auto b = build(a);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(has(b, 3, "needs balance_pointer"), dump(b));
      CHECK_MESSAGE(has(b, 3, "needs currency or currency_pointer"), dump(b));
    }
    SUBCASE("bad method, body on GET, zero scale, ok_pointer alone, unknown key") {
      auto a = account("https://example.com/x");
      a.settings["method"] = setting("PUT", 7);
      a.settings["scale"] = setting("0", 8);
      a.settings["ok_pointer"] = setting("/code", 9);
      a.settings["balance_pointr"] = setting("/x", 10);
      auto b = build(a);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(has(b, 7, "GET or POST"), dump(b));
      CHECK_MESSAGE(has(b, 8, "more than 0"), dump(b));
      CHECK_MESSAGE(has(b, 9, "needs ok_value"), dump(b));
      CHECK_MESSAGE(has(b, 10, "did you mean \"balance_pointer\""), dump(b));
      a = account("https://example.com/x");
      a.settings["body"] = setting("{}", 7);
      b = build(a);
      CHECK_MESSAGE(has(b, 7, "method: POST"), dump(b));
    }
    SUBCASE("base_url replaces the url's scheme and host") {
      FakeHttpServer server;
      serve(server, "/api/balance", 200, R"({"data":{"wallet":{"balance":"1.00"}}})");
      server.start();
      auto a = account("https://relay.example.com/api/balance");
      a.base_url = server.url();
      auto r = probe(a);
      REQUIRE_MESSAGE(r, message_of(r));
      CHECK(r->balances[0].balance == dec("1"));
    }
  }

  TEST_CASE("end to end: check --json reports a nested string balance to the cent") {
    FakeHttpServer server;
    serve(server, "/v1/wallet", 200, R"({"code":0,"data":{"wallet":{"balance":"12.34","currency":"USD"}}})");
    server.start();
    TempDir dir;
    auto config = dir.write("c.yaml", "storage:\n  path: " + dir.file("db.sqlite") +
                                          "\naccounts:\n"
                                          "  - name: relay\n"
                                          "    provider: http_json\n"
                                          "    url: " + server.url() + "/v1/wallet\n"
                                          "    headers:\n"
                                          "      Authorization: Bearer ${RELAY_KEY}\n"
                                          "    balance_pointer: /data/wallet/balance\n"
                                          "    currency_pointer: /data/wallet/currency\n"
                                          "    ok_pointer: /code\n"
                                          "    ok_value: 0\n");
    auto r = run_creditwatch({"check", "-c", config, "--json"}, {{"RELAY_KEY", k_key}});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(k_key) == std::string::npos);
    CHECK(r.err.find(k_key) == std::string::npos);
    auto out = nlohmann::json::parse(r.out, nullptr, false);
    REQUIRE(out.is_array());
    REQUIRE(out.size() == 1);
    CHECK(out[0]["state"] == "OK");
    CHECK(out[0]["currency"] == "USD");
    CHECK(out[0]["balance"].get<double>() == doctest::Approx(12.34).epsilon(1e-9));
    CHECK(only_request(server).header("Authorization") == std::string("Bearer ") + k_key);
    storage::SqliteStore store(dir.file("db.sqlite"));
    auto rows = store.samples("relay", TimePoint{});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].balance == dec("12.34"));
    CHECK(rows[0].currency == "USD");
  }
}
