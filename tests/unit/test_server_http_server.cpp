// The embedded HTTP server on real loopback sockets with small limits: routes, auth and the
// token swap, keep-alive, the size and time limits, the per-client and total caps (clients
// on distinct loopback addresses 127.0.0.x), the priority lane and rebinding.
#include "creditwatch/server/http_server.hpp"

#include "fakes/raw_client.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using creditwatch::server::Endpoints;
using creditwatch::server::HttpServer;
using creditwatch::server::SamplesQuery;
using creditwatch::server::SeriesQuery;
using creditwatch::server::ServerLimits;
using creditwatch::testing::RawClient;
using namespace std::chrono_literals;

namespace {


std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

// One request on a new connection, with `Connection: close`.
std::string fetch(int port, const std::string& request) {
  RawClient client(port);
  REQUIRE(client.connected());
  client.send(request);
  return client.read_until_closed(5s);
}

// Whether connecting to `port` is refused within two seconds.
bool eventually_refused(int port) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!RawClient(port).connected()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

int status_of(const std::string& response) {
  return response.size() >= 12 && response.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(response.substr(9, 3)) : 0;
}

// Endpoints answering fixed bodies; the accounts endpoint can be made to wait.
struct TestEndpoints {
  std::mutex mutex;
  std::condition_variable released;
  bool hold_accounts = false;
  std::atomic<int> accounts_entered{0};
  std::optional<SamplesQuery> last_query;
  std::optional<creditwatch::server::AccountsQuery> last_accounts_query;
  std::optional<SeriesQuery> last_series_query;
  std::string last_account;

  Endpoints endpoints() {
    return Endpoints{
        [] { return std::make_pair(true, std::string()); },
        [] { return std::string("creditwatch_up 1\n"); },
        [this](const creditwatch::server::AccountsQuery& query) {
          ++accounts_entered;
          {
            std::lock_guard lock(mutex);
            last_accounts_query = query;
          }
          std::unique_lock lock(mutex);
          released.wait(lock, [&] { return !hold_accounts; });
          return nlohmann::json{{"accounts", nlohmann::json::array()}};
        },
        [this](const std::string& account, const SamplesQuery& query) -> std::optional<nlohmann::json> {
          std::lock_guard lock(mutex);
          last_account = account;
          last_query = query;
          if (account == "missing") return std::nullopt;
          return nlohmann::json{{"account", account}};
        },
        [] { return nlohmann::json{{"replicas", nlohmann::json::array({{{"id", "r1"}}})}}; },
        [] { return nlohmann::json{{"states", {{"OK", 1}}}}; },
        [this](const std::string& account, const SeriesQuery& query) -> std::optional<Endpoints::SeriesAnswer> {
          std::lock_guard lock(mutex);
          last_account = account;
          last_series_query = query;
          if (account == "missing") return std::nullopt;
          if (account == "refused") return Endpoints::SeriesAnswer{{{"error", "step too fine"}}, true};
          return Endpoints::SeriesAnswer{{{"account", account}}, false};
        },
    };
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      hold_accounts = false;
    }
    released.notify_all();
  }
};

ServerLimits small_limits() {
  ServerLimits limits;
  limits.request.max_head_bytes = 2048;
  limits.request.max_body_bytes = 256;
  limits.header_timeout = 400ms;
  limits.body_timeout = 400ms;
  limits.idle_timeout = 400ms;
  limits.write_timeout = 400ms;
  limits.max_connections = 8;
  limits.max_per_client = 3;
  limits.max_queued = 2;
  limits.general_threads = 1;
  return limits;
}

}  // namespace

TEST_SUITE("server_http_server") {
  TEST_CASE("routes, bearer auth with a swappable token, HEAD, 404 and 405") {
    TestEndpoints fake;
    HttpServer server(fake.endpoints(), "old-token", small_limits());
    const int port = server.start("127.0.0.1:0");

    auto health = fetch(port, get("/healthz", "Connection: close\r\n"));
    CHECK(status_of(health) == 200);
    CHECK(health.find("Content-Type: text/plain") != std::string::npos);
    CHECK(health.substr(health.size() - 3) == "ok\n");

    auto denied = fetch(port, get("/metrics", "Connection: close\r\n"));
    CHECK(status_of(denied) == 401);
    CHECK(denied.find("WWW-Authenticate: Bearer\r\n") != std::string::npos);
    CHECK(status_of(fetch(port, get("/nowhere", "Connection: close\r\n"))) == 303);  // to the sign-in form first
    CHECK(status_of(fetch(port, get("/api/v2/nothing", "Connection: close\r\n"))) == 401);  // auth comes first
    auto metrics = fetch(port, get("/metrics", "Authorization: Bearer old-token\r\nConnection: close\r\n"));
    CHECK(status_of(metrics) == 200);
    CHECK(metrics.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);

    // The token is swapped at once: the old one stops working, the new one works.
    server.set_auth_token("new-token");
    CHECK(status_of(fetch(port, get("/metrics", "Authorization: Bearer old-token\r\nConnection: close\r\n"))) == 401);
    CHECK(status_of(fetch(port, get("/metrics", "Authorization: Bearer new-token\r\nConnection: close\r\n"))) == 200);
    server.set_auth_token("");
    CHECK(status_of(fetch(port, get("/metrics", "Connection: close\r\n"))) == 200);

    auto head = fetch(port, "HEAD /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
    CHECK(status_of(head) == 200);
    CHECK(head.find("Content-Length: 17\r\n") != std::string::npos);
    CHECK(head.substr(head.size() - 4) == "\r\n\r\n");  // no body
    auto post = fetch(port, "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    CHECK(status_of(post) == 405);
    CHECK(post.find("Allow: GET, HEAD\r\n") != std::string::npos);
    CHECK(status_of(fetch(port, get("/api/v2/nothing", "Connection: close\r\n"))) == 404);
    CHECK(status_of(fetch(port, get("/api/v1/accounts/", "Connection: close\r\n"))) == 404);
    auto cluster = fetch(port, get("/api/v1/cluster", "Connection: close\r\n"));
    CHECK(status_of(cluster) == 200);
    CHECK(cluster.find(R"("replicas":)") != std::string::npos);
    CHECK(cluster.find(R"("r1")") != std::string::npos);
    auto page = fetch(port, get("/", "Connection: close\r\n"));
    CHECK(page.find("Content-Type: text/html; charset=utf-8") != std::string::npos);
    CHECK(page.find("Content-Security-Policy: default-src 'none'") != std::string::npos);
    // The page's files, embedded from web/ at build time; nothing else under /assets/.
    auto script = fetch(port, get("/assets/common.js", "Connection: close\r\n"));
    CHECK(status_of(script) == 200);
    CHECK(script.find("Content-Type: text/javascript; charset=utf-8") != std::string::npos);
    CHECK(script.find("Cache-Control: no-cache") != std::string::npos);
    CHECK(script.find("\"use strict\";") != std::string::npos);
    CHECK(status_of(fetch(port, get("/assets/status.css", "Connection: close\r\n"))) == 200);
    CHECK(status_of(fetch(port, get("/assets/vendor/uPlot.iife.min.js", "Connection: close\r\n"))) == 200);
    // The account page is one page for every name; the script asks the API about the name.
    auto account_page = fetch(port, get("/accounts/team%20a", "Connection: close\r\n"));
    CHECK(status_of(account_page) == 200);
    CHECK(account_page.find("Content-Type: text/html; charset=utf-8") != std::string::npos);
    CHECK(account_page.find("assets/account.js") != std::string::npos);
    for (const char* missing : {"/assets/", "/assets/nothing.js", "/assets/../CMakeLists.txt", "/assets//common.js",
                                "/accounts/", "/accounts/a/b"}) {
      CAPTURE(missing);
      CHECK(status_of(fetch(port, get(missing, "Connection: close\r\n"))) == 404);
    }
  }

  TEST_CASE("samples: decoded account, since, limit defaulted, clamped and checked") {
    TestEndpoints fake;
    HttpServer server(fake.endpoints(), "", small_limits());
    const int port = server.start("127.0.0.1:0");
    const auto samples = [&](const std::string& query) {
      return fetch(port, get("/api/v1/accounts/team%20a/samples" + query, "Connection: close\r\n"));
    };
    CHECK(status_of(samples("")) == 200);
    CHECK(fake.last_account == "team a");
    CHECK_FALSE(fake.last_query->since);
    CHECK(fake.last_query->limit == creditwatch::server::k_default_samples_limit);
    CHECK(status_of(samples("?since=2026-05-01T02:00:00%2B02:00&limit=25")) == 200);
    CHECK(fake.last_query->limit == 25);
    REQUIRE(fake.last_query->since);
    CHECK(creditwatch::to_unix_ms(*fake.last_query->since) == 1'777'593'600'000);
    CHECK(status_of(samples("?limit=999999999999")) == 200);
    CHECK(fake.last_query->limit == creditwatch::server::k_max_samples_limit);
    for (const char* bad : {"?limit=0", "?limit=-5", "?limit=ten", "?limit=", "?since=yesterday"}) {
      CAPTURE(bad);
      const auto response = samples(bad);
      CHECK(status_of(response) == 400);
      CHECK(response.find("application/json") != std::string::npos);
    }
    CHECK(status_of(fetch(port, get("/api/v1/accounts/missing/samples", "Connection: close\r\n"))) == 404);
  }

  TEST_CASE("accounts: the query is parsed and checked before the endpoint runs, summary is routed") {
    TestEndpoints e;
    HttpServer server(e.endpoints(), "");
    const int port = server.start("127.0.0.1:0");
    const auto ask = [&](const std::string& target) { return fetch(port, get(target, "Connection: close\r\n")); };
    CHECK(status_of(ask("/api/v1/accounts?limit=5&sort=-runway&state=critical&q=Pay&label=team:a")) == 200);
    {
      std::lock_guard lock(e.mutex);
      REQUIRE(e.last_accounts_query);
      CHECK(e.last_accounts_query->limit == 5);
      CHECK(e.last_accounts_query->sort == creditwatch::server::AccountSort::runway);
      CHECK(e.last_accounts_query->descending);
      CHECK(e.last_accounts_query->state == creditwatch::scheduler::CheckState::critical);
      CHECK(e.last_accounts_query->q == "pay");
      CHECK(e.last_accounts_query->label == std::make_pair(std::string("team"), std::string("a")));
    }
    CHECK(status_of(ask("/api/v1/accounts")) == 200);
    CHECK(e.last_accounts_query->limit == 100);
    const int before = e.accounts_entered.load();
    for (const char* bad : {"limit=0", "limit=1001", "sort=cost", "state=red", "cursor=xyz", "label=x"}) {
      CAPTURE(bad);
      const auto response = ask(std::string("/api/v1/accounts?") + bad);
      CHECK(status_of(response) == 400);
      CHECK(response.find("application/json") != std::string::npos);
      CHECK(response.find("\"error\"") != std::string::npos);
    }
    CHECK(e.accounts_entered.load() == before);  // a bad query never reaches the endpoint
    const auto summary = ask("/api/v1/summary");
    CHECK(status_of(summary) == 200);
    CHECK(summary.find("\"states\"") != std::string::npos);
  }

  TEST_CASE("series: from, to and step are checked, the account decoded, refusals and unknown accounts told apart") {
    TestEndpoints e;
    HttpServer server(e.endpoints(), "");
    const int port = server.start("127.0.0.1:0");
    const auto ask = [&](const std::string& target) { return fetch(port, get(target, "Connection: close\r\n")); };
    CHECK(status_of(ask("/api/v1/accounts/team%20a/series?from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z&step=2h")) ==
          200);
    {
      std::lock_guard lock(e.mutex);
      CHECK(e.last_account == "team a");
      REQUIRE(e.last_series_query);
      CHECK(e.last_series_query->from == creditwatch::from_unix_ms(1'777'593'600'000));
      CHECK(e.last_series_query->to == creditwatch::from_unix_ms(1'777'593'600'000 + 86'400'000));
      CHECK(e.last_series_query->step == std::chrono::hours(2));
    }
    CHECK(status_of(ask("/api/v1/accounts/a/series")) == 200);
    CHECK_FALSE(e.last_series_query->from);
    CHECK_FALSE(e.last_series_query->step);
    for (const char* bad : {"from=yesterday", "to=2026-13-01T00:00:00Z", "step=0s", "step=fast", "step=-1h",
                            "from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z"}) {
      CAPTURE(bad);
      CHECK(status_of(ask(std::string("/api/v1/accounts/a/series?") + bad)) == 400);
    }
    CHECK(status_of(ask("/api/v1/accounts/refused/series")) == 400);
    CHECK(status_of(ask("/api/v1/accounts/missing/series")) == 404);
  }

  TEST_CASE("keep-alive: pipelined requests on one connection are answered in order") {
    TestEndpoints fake;
    HttpServer server(fake.endpoints(), "", small_limits());
    const int port = server.start("127.0.0.1:0");
    RawClient client(port);
    client.send(get("/healthz") + get("/metrics") + "GET /healthz HTTP/1.0\r\n\r\n");
    const auto first = client.read_response();
    CHECK(status_of(first) == 200);
    CHECK(first.find("Connection: keep-alive") != std::string::npos);
    CHECK(client.read_response().find("creditwatch_up 1") != std::string::npos);
    bool closed = false;
    const auto last = client.read_until_closed(2s, &closed);
    CHECK(status_of(last) == 200);
    CHECK(last.find("Connection: close") != std::string::npos);
    CHECK(closed);  // HTTP/1.0 without keep-alive
  }

  TEST_CASE("an oversized head gets 431, a slow head 408, and the connection closes") {
    TestEndpoints fake;
    HttpServer server(fake.endpoints(), "", small_limits());
    const int port = server.start("127.0.0.1:0");
    {
      RawClient client(port);
      client.send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
      bool closed = false;
      const auto response = client.read_until_closed(3s, &closed);
      CHECK(status_of(response) == 431);
      CHECK(response.find("Connection: close") != std::string::npos);
      CHECK(closed);
    }
    {
      RawClient client(port);
      client.send("POST /healthz HTTP/1.1\r\nContent-Length: 257\r\n\r\n");
      CHECK(status_of(client.read_until_closed(3s)) == 413);
    }
    {
      RawClient client(port);
      client.send("GET /heal");
      const auto started = std::chrono::steady_clock::now();
      bool closed = false;
      const auto response = client.read_until_closed(3s, &closed);
      CHECK(status_of(response) == 408);
      CHECK(closed);
      CHECK(std::chrono::steady_clock::now() - started < 2s);
    }
    {
      // A byte at a time does not stretch the deadline.
      RawClient client(port);
      const auto started = std::chrono::steady_clock::now();
      bool closed = false;
      for (char c : std::string("GET /healthz HTTP/1.1\r\n")) {
        if (client.read_until_closed(100ms, &closed).size() > 0 || closed) break;
        client.send(std::string(1, c));
      }
      if (!closed) client.read_until_closed(3s, &closed);
      CHECK(closed);
      CHECK(std::chrono::steady_clock::now() - started < 2s);
    }
  }

  TEST_CASE("per-client cap: a new connection from a client at its cap closes that client's oldest idle one") {
    TestEndpoints fake;
    HttpServer server(fake.endpoints(), "", small_limits());  // 3 per client
    const int port = server.start("127.0.0.1:0");
    std::vector<std::unique_ptr<RawClient>> held;
    for (int i = 0; i < 3; ++i) {
      held.push_back(std::make_unique<RawClient>(port, "127.0.0.2"));
      held.back()->send("GET /hea");  // half a request line
      std::this_thread::sleep_for(20ms);
    }
    RawClient other(port, "127.0.0.3");
    other.send("GET /hea");
    RawClient fresh(port, "127.0.0.2");
    fresh.send(get("/healthz", "Connection: close\r\n"));
    CHECK(status_of(fresh.read_until_closed(2s)) == 200);
    bool closed = false;
    CHECK(held[0]->read_until_closed(1s, &closed).empty());
    CHECK(closed);  // the oldest of 127.0.0.2 made room
    held[1]->read_until_closed(50ms, &closed);
    CHECK_FALSE(closed);
    other.read_until_closed(50ms, &closed);
    CHECK_FALSE(closed);  // another client is not touched
  }

  TEST_CASE("total cap: when the server is full the oldest idle connection of anyone makes room") {
    TestEndpoints fake;
    auto limits = small_limits();
    limits.max_connections = 4;
    HttpServer server(fake.endpoints(), "", limits);
    const int port = server.start("127.0.0.1:0");
    std::vector<std::unique_ptr<RawClient>> held;
    for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<RawClient>(port, "127.0.0." + std::to_string(10 + i)));
      held.back()->send("GET /hea");
      std::this_thread::sleep_for(20ms);
    }
    RawClient fresh(port, "127.0.0.20");
    fresh.send(get("/healthz", "Connection: close\r\n"));
    CHECK(status_of(fresh.read_until_closed(2s)) == 200);
    bool closed = false;
    held[0]->read_until_closed(1s, &closed);
    CHECK(closed);
    for (std::size_t i = 1; i < held.size(); ++i) {
      held[i]->read_until_closed(50ms, &closed);
      CHECK_FALSE(closed);
    }
  }

  TEST_CASE("/healthz and /metrics answer while every API handler is stuck, and a full queue gets 503") {
    TestEndpoints fake;
    fake.hold_accounts = true;
    HttpServer server(fake.endpoints(), "", small_limits());  // one general thread, two queued
    const int port = server.start("127.0.0.1:0");
    std::vector<std::unique_ptr<RawClient>> stuck;
    for (int i = 0; i < 3; ++i) {
      stuck.push_back(std::make_unique<RawClient>(port, "127.0.0." + std::to_string(30 + i)));
      stuck.back()->send(get("/api/v1/accounts"));
      // One in the handler, then two in the queue, in that order.
      const auto sent = std::chrono::steady_clock::now();
      while (fake.accounts_entered < 1 && std::chrono::steady_clock::now() - sent < 2s) std::this_thread::sleep_for(10ms);
      std::this_thread::sleep_for(100ms);
    }
    REQUIRE(fake.accounts_entered == 1);
    RawClient overflow(port, "127.0.0.40");
    overflow.send(get("/api/v1/accounts", "Connection: close\r\n"));
    const auto busy = overflow.read_until_closed(2s);
    CHECK(status_of(busy) == 503);
    CHECK(busy.find("Retry-After: 1") != std::string::npos);
    const auto started = std::chrono::steady_clock::now();
    CHECK(status_of(fetch(port, get("/healthz", "Connection: close\r\n"))) == 200);
    CHECK(status_of(fetch(port, get("/metrics", "Connection: close\r\n"))) == 200);
    CHECK(std::chrono::steady_clock::now() - started < 1s);
    fake.release();
    for (auto& client : stuck) CHECK(status_of(client->read_response()) == 200);
  }

  TEST_CASE("rebind: the new address serves and the old one stops, an address in use keeps the old") {
    TestEndpoints fake;
    HttpServer server(fake.endpoints(), "", small_limits());
    const int first = server.start("127.0.0.1:0");
    RawClient kept(first);
    kept.send(get("/healthz"));
    CHECK(status_of(kept.read_response()) == 200);
    const int second = server.rebind("127.0.0.1:0");
    CHECK(second != first);
    CHECK(status_of(fetch(second, get("/healthz", "Connection: close\r\n"))) == 200);
    CHECK(eventually_refused(first));
    // A connection accepted before the switch is served to its end.
    kept.send(get("/healthz", "Connection: close\r\n"));
    CHECK(status_of(kept.read_until_closed(2s)) == 200);

    HttpServer other(fake.endpoints(), "", small_limits());
    const int taken = other.start("127.0.0.1:0");
    const auto in_use = "127.0.0.1:" + std::to_string(taken);
    const auto expected = "cannot listen on " + in_use;
    CHECK_THROWS_WITH_AS(server.rebind(in_use), doctest::Contains(expected.c_str()), std::runtime_error);
    CHECK(status_of(fetch(second, get("/healthz", "Connection: close\r\n"))) == 200);
  }
}
