// The openai_costs provider in-process against a loopback fake of GET /v1/organization/costs
// (shared/reference/providers.md section 5a: buckets, number-or-string amounts, has_more/next_page).
#include "fakes/fake_clock.hpp"
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/providers/factory.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <mutex>
#include <string>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::testing;
using providers::ErrorKind;

namespace {

constexpr const char* k_key = "sk-admin-SECRET-costs-99";
constexpr const char* k_may_1 = "1777593600";  // 2026-05-01T00:00:00Z

Decimal dec(const char* text) { return *Decimal::parse(text); }
TimePoint at(const char* text) { return *parse_rfc3339(text); }

config::Setting setting(std::string value, int line) {
  config::Setting s;
  s.value = std::move(value);
  s.where = {"test.yaml", line, 5};
  return s;
}

config::AccountConfig account(const std::string& base) {
  config::AccountConfig a;
  a.name = "openai";
  a.provider = "openai_costs";
  a.api_key = Secret(k_key);
  a.base_url = base;
  a.where = {"test.yaml", 3, 5};
  a.settings["credit"] = setting("100", 7);
  a.settings["budget_start"] = setting("2026-05-01", 8);
  return a;
}

struct Built {
  std::unique_ptr<providers::Provider> provider;
  std::vector<config::ConfigError> errors;
  std::string dump() const {
    std::string out;
    for (const auto& e : errors) out += e.to_string() + "\n";
    return out;
  }
  bool has(int line, const std::string& text) const {
    for (const auto& e : errors) {
      if (e.where.line == line && e.message.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

Built build(const config::AccountConfig& a, const Clock& clock) {
  Built b;
  b.provider = providers::make_provider(a, clock, b.errors);
  return b;
}

// A fake costs API: pages keyed by the `page` cursor ("" for the first), every query recorded.
class CostsApi {
public:
  CostsApi() {
    m_server.get("/v1/organization/costs", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      m_queries.push_back(req.params);
      auto page = m_pages.find(req.get_param_value("page"));
      if (page == m_pages.end()) {
        res.status = 400;
        res.set_content(R"({"error":{"message":"unknown page"}})", "application/json");
        return;
      }
      res.status = page->second.status;
      for (const auto& [k, v] : page->second.headers) res.set_header(k, v);
      res.set_content(page->second.body, page->second.type);
    });
  }

  void page(const std::string& cursor, std::string body, int status = 200,
            std::vector<std::pair<std::string, std::string>> headers = {}, std::string type = "application/json") {
    std::lock_guard lock(m_mutex);
    m_pages[cursor] = Page{status, std::move(body), std::move(headers), std::move(type)};
  }
  void start() { m_server.start(); }
  std::string url() const { return m_server.url(); }
  std::vector<std::multimap<std::string, std::string>> queries() const {
    std::lock_guard lock(m_mutex);
    return m_queries;
  }
  FakeHttpServer& server() { return m_server; }

private:
  struct Page {
    int status;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string type;
  };
  mutable std::mutex m_mutex;
  std::map<std::string, Page> m_pages;
  std::vector<std::multimap<std::string, std::string>> m_queries;
  FakeHttpServer m_server;  // last: stops before the pages it reads go away
};

std::string param(const std::multimap<std::string, std::string>& query, const std::string& key) {
  auto it = query.find(key);
  return it == query.end() ? "<absent>" : it->second;
}

std::string bucket(const std::string& values) {
  return R"({"object":"bucket","start_time":1777593600,"end_time":1777680000,"results":[)" + values + "]}";
}
std::string result(const std::string& value) {
  return R"({"object":"organization.costs.result","amount":{"value":)" + value +
         R"(,"currency":"usd"},"line_item":null,"project_id":null,"api_key_id":null,"quantity":null,"quantity_unit":null})";
}
std::string page_body(const std::string& buckets, bool more = false, const std::string& next = "null") {
  return R"({"object":"page","data":[)" + buckets + R"(],"has_more":)" + (more ? "true" : "false") +
         R"(,"next_page":)" + next + "}";
}

struct Probe {
  FakeClock clock{at("2026-05-10T12:00:00Z")};
  http::CurlClient client;
  std::unique_ptr<providers::Provider> provider;

  explicit Probe(const config::AccountConfig& a) {
    auto built = build(a, clock);
    REQUIRE_MESSAGE(built.errors.empty(), built.dump());
    provider = std::move(built.provider);
    REQUIRE(provider);
  }
  providers::ProbeResult run() { return provider->probe(client); }
};

// The fake records a request only after it has answered, so the client can get there first.
RecordedRequest only_request(const FakeHttpServer& server) {
  eventually([&] { return server.request_count() >= 1; }, std::chrono::seconds(2));
  REQUIRE(server.request_count() == 1);
  return server.requests()[0];
}

}  // namespace

TEST_SUITE("provider_openai_costs") {
  TEST_CASE("spend since budget_start is summed exactly - balance = credit - spend") {
    CostsApi api;
    api.page("", page_body(bucket(result("0.06") + "," + result(R"("2.25")")) + "," + bucket(result("1.5"))));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE_MESSAGE(r, r.error().message);
    CHECK(r->available);
    REQUIRE(r->balances.size() == 1);
    const auto& b = r->balances[0];
    CHECK(b.currency == "USD");
    CHECK(b.balance == dec("96.19"));
    REQUIRE(b.spend_total.has_value());
    CHECK(*b.spend_total == dec("3.81"));
    CHECK(b.details["credit"] == "100.00");
    CHECK(b.details["since"] == "2026-05-01T00:00:00Z");

    auto request = only_request(api.server());
    CHECK(request.path == "/v1/organization/costs");
    CHECK(request.header("Authorization") == std::string("Bearer ") + k_key);
    auto query = api.queries().at(0);
    CHECK(param(query, "start_time") == k_may_1);
    CHECK(param(query, "bucket_width") == "1d");
    CHECK(param(query, "page") == "<absent>");
  }

  TEST_CASE("no spend yet: the whole credit is left") {
    CostsApi api;
    api.page("", page_body(""));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE_MESSAGE(r, r.error().message);
    CHECK(r->balances[0].balance == dec("100"));
    CHECK(*r->balances[0].spend_total == Decimal());
  }

  TEST_CASE("spend beyond the credit gives a negative balance") {
    CostsApi api;
    api.page("", page_body(bucket(result("100.25"))));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE(r);
    CHECK(r->balances[0].balance == dec("-0.25"));
  }

  TEST_CASE("pages are followed by cursor - the cursor is sent escaped") {
    CostsApi api;
    api.page("", page_body(bucket(result("1.10")), true, R"("page_AAAA+/=")"));
    api.page("page_AAAA+/=", page_body(bucket(result("2.20")), true, R"("page_BBBB")"));
    api.page("page_BBBB", page_body(bucket(result("3.30"))));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE_MESSAGE(r, r.error().message);
    CHECK(*r->balances[0].spend_total == dec("6.60"));
    auto queries = api.queries();
    REQUIRE(queries.size() == 3);
    CHECK(param(queries[1], "page") == "page_AAAA+/=");
    CHECK(param(queries[2], "page") == "page_BBBB");
    for (const auto& q : queries) CHECK(param(q, "start_time") == k_may_1);
  }

  TEST_CASE("a repeated cursor or a missing one is a bad_response, not a loop") {
    CostsApi api;
    api.page("", page_body(bucket(result("1")), true, R"("c1")"));
    api.page("c1", page_body(bucket(result("1")), true, R"("c2")"));
    api.page("c2", page_body(bucket(result("1")), true, R"("c1")"));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::bad_response);
    CHECK(r.error().message.find("repeats") != std::string::npos);
    CHECK(api.queries().size() == 3);

    CostsApi missing;
    missing.page("", page_body(bucket(result("1")), true, "null"));
    missing.start();
    Probe q(account(missing.url()));
    r = q.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::bad_response);
    CHECK(r.error().message.find("next_page") != std::string::npos);
  }

  TEST_CASE("a monthly budget counts from the start of the current UTC month and renews") {
    CostsApi api;
    api.page("", page_body(bucket(result("12.5"))));
    api.start();
    auto a = account(api.url());
    a.settings.erase("credit");
    a.settings.erase("budget_start");
    a.settings["budget"] = setting("50", 7);
    Probe p(a);
    auto r = p.run();
    REQUIRE_MESSAGE(r, r.error().message);
    CHECK(r->balances[0].balance == dec("37.50"));
    CHECK(r->balances[0].details["budget"] == "50.00");
    CHECK(param(api.queries().at(0), "start_time") == k_may_1);

    p.clock.set(at("2026-06-02T08:00:00Z"));
    REQUIRE(p.run());
    CHECK(param(api.queries().at(1), "start_time") == "1780272000");  // 2026-06-01T00:00:00Z
  }

  TEST_CASE("budget_start anchors a monthly budget's renewal day, clamped to short months") {
    CostsApi api;
    api.page("", page_body(""));
    api.start();
    auto a = account(api.url());
    a.settings.erase("credit");
    a.settings["budget"] = setting("50", 7);
    a.settings["budget_start"] = setting("2026-01-31T00:00:00Z", 8);
    Probe p(a);
    REQUIRE(p.run());
    CHECK(param(api.queries().at(0), "start_time") == "1777507200");  // 2026-04-30T00:00:00Z
  }

  TEST_CASE("the API is asked at most once an hour - within that the last spend is reused") {
    CostsApi api;
    api.page("", page_body(bucket(result("4"))));
    api.start();
    Probe p(account(api.url()));
    REQUIRE(p.run());
    api.page("", page_body(bucket(result("5"))));
    p.clock.advance(std::chrono::minutes(5));
    auto cached = p.run();
    REQUIRE(cached);
    CHECK(*cached->balances[0].spend_total == dec("4"));
    CHECK(api.queries().size() == 1);
    p.clock.advance(std::chrono::minutes(55));
    auto fresh = p.run();
    REQUIRE(fresh);
    CHECK(*fresh->balances[0].spend_total == dec("5"));
    CHECK(api.queries().size() == 2);
  }

  TEST_CASE("HTTP errors: a non-admin key, rate limits, server errors - failures are not cached") {
    CostsApi api;
    api.page("", R"({"error":{"message":"You have insufficient permissions for this operation. Missing scopes: api.usage.read.","type":"invalid_request_error","param":null,"code":null}})",
             403);
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::key_invalid);
    CHECK(r.error().http_status == 403);
    CHECK(r.error().message.find("Admin key") != std::string::npos);
    CHECK(r.error().message.find("insufficient permissions") != std::string::npos);

    api.page("", R"({"error":{"message":"Incorrect API key provided: sk-admin-***-99.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
             401);
    r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::key_invalid);
    CHECK(r.error().message.find("Admin key") != std::string::npos);

    api.page("", R"({"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}})",
             429, {{"Retry-After", "42"}});
    r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::rate_limited);
    REQUIRE(r.error().retry_after.has_value());
    CHECK(*r.error().retry_after == std::chrono::seconds(42));

    api.page("", "<html><body>502 Bad Gateway</body></html>", 502, {}, "text/html");
    r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::server_error);
    CHECK(api.queries().size() == 4);
  }

  TEST_CASE("malformed pages are bad_response naming the field") {
    struct Case {
      const char* what;
      std::string body;
      const char* expect;
    };
    const std::vector<Case> cases = {
        {"no data", R"({"object":"page","has_more":false})", "data is missing"},
        {"data not a list", R"({"object":"page","data":{},"has_more":false})", "data: expected a list"},
        {"results missing", page_body(R"({"object":"bucket"})"), "data[0].results is missing"},
        {"amount missing", page_body(bucket(R"({"object":"organization.costs.result"})")), "data[0].results[0].amount is missing"},
        {"value a word", page_body(bucket(result(R"("lots")"))), "data[0].results[0].amount.value"},
        {"value null", page_body(bucket(result("0") + "," + result("null"))), "data[0].results[1].amount.value"},
        {"other currency", page_body(bucket(R"({"amount":{"value":1,"currency":"eur"}})")), "expected usd"},
        {"has_more a string", R"({"data":[],"has_more":"yes"})", "has_more"},
        {"HTML", "<!DOCTYPE html><html></html>", "HTML"},
        {"truncated", R"({"object":"page","data":[{"object":"bu)", "truncated"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.what);
      CostsApi api;
      api.page("", c.body);
      api.start();
      Probe p(account(api.url()));
      auto r = p.run();
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == ErrorKind::bad_response);
      CHECK_MESSAGE(r.error().message.find(c.expect) != std::string::npos, r.error().message);
    }
  }

  TEST_CASE("config errors say where") {
    FakeClock clock(at("2026-05-10T12:00:00Z"));
    SUBCASE("neither credit nor budget: at the account") {
      auto a = account("");
      a.settings.clear();
      auto b = build(a, clock);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(b.has(3, "needs credit"), b.dump());
    }
    SUBCASE("both") {
      auto a = account("");
      a.settings["budget"] = setting("10", 9);
      auto b = build(a, clock);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(b.has(9, "not both"), b.dump());
    }
    SUBCASE("credit without budget_start, and no key") {
      auto a = account("");
      a.settings.erase("budget_start");
      a.api_key = Secret();
      auto b = build(a, clock);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(b.has(7, "needs budget_start"), b.dump());
      CHECK_MESSAGE(b.has(3, "Admin key"), b.dump());
    }
    SUBCASE("bad values") {
      auto a = account("");
      a.settings["credit"] = setting("a lot", 7);
      a.settings["budget_start"] = setting("May 1st", 8);
      auto b = build(a, clock);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(b.has(7, "expected a number"), b.dump());
      CHECK_MESSAGE(b.has(8, "RFC 3339"), b.dump());
    }
    SUBCASE("a future start, a zero credit, a non-USD currency, a typo") {
      auto a = account("");
      a.settings["credit"] = setting("0", 7);
      a.settings["budget_start"] = setting("2026-06-01T00:00:00Z", 8);
      a.settings["budgte"] = setting("5", 9);
      a.currency = "EUR";
      auto b = build(a, clock);
      CHECK_FALSE(b.provider);
      CHECK_MESSAGE(b.has(7, "more than 0"), b.dump());
      CHECK_MESSAGE(b.has(8, "in the future"), b.dump());
      CHECK_MESSAGE(b.has(9, "did you mean"), b.dump());
      CHECK_MESSAGE(b.has(3, "USD"), b.dump());
    }
    SUBCASE("an offset start is accepted") {
      auto a = account("");
      a.settings["budget_start"] = setting("2026-05-01T02:00:00+02:00", 8);
      auto b = build(a, clock);
      CHECK_MESSAGE(b.provider, b.dump());
    }
  }
}
