// The anthropic_costs provider in-process against a loopback fake of
// GET /v1/organizations/cost_report (shared/reference/providers.md section 6a: amounts are
// decimal strings in cents, has_more/next_page pagination, Admin key in x-api-key).
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

constexpr const char* k_key = "sk-ant-admin01-SECRET-costs";

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
  a.name = "claude";
  a.provider = "anthropic_costs";
  a.api_key = Secret(k_key);
  a.base_url = base;
  a.where = {"test.yaml", 3, 5};
  a.settings["credit"] = setting("500", 7);
  a.settings["budget_start"] = setting("2026-05-01T00:00:00Z", 8);
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

// A fake cost report: pages keyed by the `page` cursor ("" for the first), every query recorded.
class CostReport {
public:
  CostReport() {
    m_server.get("/v1/organizations/cost_report", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      m_queries.push_back(req.params);
      auto page = m_pages.find(req.get_param_value("page"));
      if (page == m_pages.end()) {
        res.status = 400;
        res.set_content(R"({"type":"error","error":{"type":"invalid_request_error","message":"bad page"}})",
                        "application/json");
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

std::string bucket(const std::string& results) {
  return R"({"starting_at":"2026-05-01T00:00:00Z","ending_at":"2026-05-02T00:00:00Z","results":[)" + results + "]}";
}
std::string result(const std::string& amount) {
  return R"({"currency":"USD","amount":)" + amount +
         R"(,"workspace_id":null,"description":null,"cost_type":null,"context_window":null,"model":null,"service_tier":null,"token_type":null})";
}
std::string page_body(const std::string& buckets, bool more = false, const std::string& next = "null") {
  return R"({"data":[)" + buckets + R"(],"has_more":)" + (more ? "true" : "false") + R"(,"next_page":)" + next + "}";
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

TEST_SUITE("provider_anthropic_costs") {
  TEST_CASE("amounts are cents as decimal strings: \"123.45\" is $1.2345, summed exactly") {
    CostReport api;
    api.page("", page_body(bucket(result(R"("123.45")") + "," + result(R"("2500")")) + "," +
                           bucket(result(R"("0.5")"))));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE_MESSAGE(r, r.error().message);
    CHECK(r->available);
    REQUIRE(r->balances.size() == 1);
    const auto& b = r->balances[0];
    CHECK(b.currency == "USD");
    REQUIRE(b.spend_total.has_value());
    CHECK(*b.spend_total == dec("26.2395"));
    CHECK(b.balance == dec("473.7605"));
    CHECK(b.details["credit"] == "500.00");
    CHECK(b.details["spend"] == "26.2395");

    auto request = only_request(api.server());
    CHECK(request.path == "/v1/organizations/cost_report");
    CHECK(request.header("x-api-key") == k_key);
    CHECK(request.header("anthropic-version") == "2023-06-01");
    CHECK(request.header("Authorization").empty());
    auto query = api.queries().at(0);
    CHECK(param(query, "starting_at") == "2026-05-01T00:00:00Z");
    CHECK(param(query, "bucket_width") == "1d");
  }

  TEST_CASE("the documented example: \"123.78912\" cents") {
    CostReport api;
    api.page("", page_body(bucket(result(R"("123.78912")"))));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE(r);
    CHECK(*r->balances[0].spend_total == dec("1.237891"));  // 1.2378912 to Decimal's six places
  }

  TEST_CASE("no spend yet, and numbers accepted as well as strings") {
    CostReport api;
    api.page("", page_body(""));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE(r);
    CHECK(r->balances[0].balance == dec("500"));
    CHECK(*r->balances[0].spend_total == Decimal());
    api.page("", page_body(bucket(result("1000") + "," + result(R"("0")"))));
    r = p.run();  // nothing is cached for Anthropic
    REQUIRE(r);
    CHECK(r->balances[0].balance == dec("490"));
  }

  TEST_CASE("pages are followed by cursor - a repeated cursor is a bad_response") {
    CostReport api;
    api.page("", page_body(bucket(result(R"("100")")), true, R"("page_MjAyNi0wNS0wOA==")"));
    api.page("page_MjAyNi0wNS0wOA==", page_body(bucket(result(R"("250")"))));
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE_MESSAGE(r, r.error().message);
    CHECK(*r->balances[0].spend_total == dec("3.50"));
    auto queries = api.queries();
    REQUIRE(queries.size() == 2);
    CHECK(param(queries[1], "page") == "page_MjAyNi0wNS0wOA==");
    CHECK(param(queries[1], "starting_at") == "2026-05-01T00:00:00Z");

    CostReport loop;
    loop.page("", page_body(bucket(result(R"("1")")), true, R"("x")"));
    loop.page("x", page_body(bucket(result(R"("1")")), true, R"("x")"));
    loop.start();
    Probe q(account(loop.url()));
    r = q.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::bad_response);
    CHECK(r.error().message.find("repeats") != std::string::npos);
    CHECK(loop.queries().size() == 2);
  }

  TEST_CASE("a monthly budget starts at the 1st of the UTC month") {
    CostReport api;
    api.page("", page_body(bucket(result(R"("1234")"))));
    api.start();
    auto a = account(api.url());
    a.settings.clear();
    a.settings["budget"] = setting("200", 7);
    Probe p(a);
    p.clock.set(at("2026-12-31T23:59:59Z"));
    auto r = p.run();
    REQUIRE(r);
    CHECK(r->balances[0].balance == dec("187.66"));
    CHECK(param(api.queries().at(0), "starting_at") == "2026-12-01T00:00:00Z");
    p.clock.set(at("2027-01-01T00:00:00Z"));
    REQUIRE(p.run());
    CHECK(param(api.queries().at(1), "starting_at") == "2027-01-01T00:00:00Z");
  }

  TEST_CASE("HTTP errors: a non-admin key, rate limits with retry-after, overload") {
    CostReport api;
    api.page("", R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_1"})",
             401);
    api.start();
    Probe p(account(api.url()));
    auto r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::key_invalid);
    CHECK(r.error().message.find("Admin key") != std::string::npos);
    CHECK(r.error().message.find("invalid x-api-key") != std::string::npos);

    api.page("", R"({"type":"error","error":{"type":"permission_error","message":"This API requires an admin key"}})", 403);
    r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::key_invalid);
    CHECK(r.error().message.find("sk-ant-admin") != std::string::npos);

    api.page("", R"({"type":"error","error":{"type":"rate_limit_error","message":"Rate limited"}})", 429,
             {{"retry-after", "15"}});
    r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::rate_limited);
    REQUIRE(r.error().retry_after.has_value());
    CHECK(*r.error().retry_after == std::chrono::seconds(15));

    api.page("", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", 529);
    r = p.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::server_error);
  }

  TEST_CASE("malformed pages are bad_response naming the field") {
    struct Case {
      const char* what;
      std::string body;
      const char* expect;
    };
    const std::vector<Case> cases = {
        {"no data", R"({"has_more":false})", "data is missing"},
        {"bucket not an object", page_body(R"("day")"), "data[0]: expected an object"},
        {"results null", page_body(R"({"starting_at":"x","results":null})"), "data[0].results: expected a list"},
        {"amount missing", page_body(bucket(R"({"currency":"USD"})")), "data[0].results[0].amount is missing"},
        {"amount a word", page_body(bucket(result(R"("12 cents")"))), "data[0].results[0].amount"},
        {"amount an object", page_body(bucket(result(R"({"value":"1"})"))), "an object"},
        {"other currency", page_body(bucket(R"({"currency":"EUR","amount":"1"})")), "expected USD"},
        {"has_more true, no cursor", page_body(bucket(result(R"("1")")), true), "next_page"},
        {"HTML", "<html><head><title>Cloudflare</title></head></html>", "HTML"},
        {"bare string", R"("oops")", "expected a JSON object"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.what);
      CostReport api;
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
    auto a = account("");
    a.settings.erase("credit");
    a.settings["budget_start"] = setting("2026-13-01", 8);
    a.api_key = Secret();
    auto b = build(a, clock);
    CHECK_FALSE(b.provider);
    CHECK_MESSAGE(b.has(3, "needs credit"), b.dump());
    CHECK_MESSAGE(b.has(3, "sk-ant-admin"), b.dump());

    a = account("");
    a.settings["credit"] = setting("-5", 7);
    a.settings["budget_start"] = setting("2026-13-01", 8);
    b = build(a, clock);
    CHECK_FALSE(b.provider);
    CHECK_MESSAGE(b.has(7, "more than 0"), b.dump());
    CHECK_MESSAGE(b.has(8, "budget_start"), b.dump());
  }
}
