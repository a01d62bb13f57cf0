// Sign-in on the embedded server over real loopback sockets, with a fake clock: a session
// ends at its Max-Age, a changed token ends every session (the same token none), failed
// sign-ins wait out the window; and the pieces alone: the Cookie header, the https signal
// from a proxy, the same-origin check and the redirect target kept on the site.
#include "creditwatch/server/cookies.hpp"
#include "creditwatch/server/http_server.hpp"
#include "creditwatch/server/sign_in.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/raw_client.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::server;
using creditwatch::testing::FakeClock;
using creditwatch::testing::RawClient;
using namespace std::chrono_literals;

namespace {

Endpoints open_endpoints() {
  Endpoints endpoints;
  endpoints.health = [] { return std::make_pair(true, std::string()); };
  endpoints.metrics = [] { return std::string("creditwatch_up 1\n"); };
  endpoints.accounts = [](const AccountsQuery&) { return nlohmann::json{{"accounts", nlohmann::json::array()}}; };
  endpoints.summary = [] { return nlohmann::json::object(); };
  return endpoints;
}

std::string round_trip(int port, const std::string& request) {
  RawClient client(port);
  REQUIRE(client.connected());
  client.send(request);
  return client.read_until_closed(5s);
}

std::string get(int port, const std::string& path, const std::string& cookie = "") {
  return round_trip(port, "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + (cookie.empty() ? "" : "Cookie: " + cookie + "\r\n") +
                            "Connection: close\r\n\r\n");
}

std::string post_token(int port, const std::string& token) {
  const auto body = "token=" + token;
  return round_trip(port, "POST /sign-in HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        "Content-Length: " +
                            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

int status_of(const std::string& response) {
  return response.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(response.substr(9, 3)) : 0;
}

std::string header_of(const std::string& response, const std::string& name) {
  const auto at = response.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 4;
  return response.substr(start, response.find("\r\n", start) - start);
}

// The Cookie to send back after a sign-in answer.
std::string cookie_from(const std::string& response) {
  const auto set = header_of(response, "Set-Cookie");
  return set.substr(0, set.find(';'));
}

HttpRequest request_with(std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest request;
  request.method = "POST";
  request.headers = std::move(headers);
  return request;
}

}  // namespace

TEST_SUITE("server_sign_in") {
  TEST_CASE("a session ends at its Max-Age of 12 hours on the server's clock") {
    FakeClock clock;
    HttpServer server(open_endpoints(), "tok-unit", {}, &clock);
    const int port = server.start("127.0.0.1:0");
    const auto signed_in = post_token(port, "tok-unit");
    REQUIRE(status_of(signed_in) == 303);
    CHECK(header_of(signed_in, "Set-Cookie").find("Max-Age=43200;") != std::string::npos);
    const auto cookie = cookie_from(signed_in);
    CHECK(status_of(get(port, "/api/v1/accounts", cookie)) == 200);
    clock.advance(12h - 1s);
    CHECK(status_of(get(port, "/api/v1/accounts", cookie)) == 200);
    clock.advance(1s);
    CHECK(status_of(get(port, "/api/v1/accounts", cookie)) == 401);
    const auto page = get(port, "/", cookie);
    CHECK(status_of(page) == 303);
    CHECK(header_of(page, "Location") == "/sign-in");
  }

  TEST_CASE("a page asked for without a session is remembered percent-encoded in the way to the form") {
    FakeClock clock;
    HttpServer server(open_endpoints(), "tok-unit", {}, &clock);
    const int port = server.start("127.0.0.1:0");
    const auto page = get(port, "/accounts/team%20a?from=x&to=y");
    CHECK(status_of(page) == 303);
    // Read off the wire: cpp-httplib's client decodes header values, so only a raw socket
    // shows what a browser gets.
    CHECK(header_of(page, "Location") == "/sign-in?next=/accounts/team%2520a%3Ffrom%3Dx%26to%3Dy");
  }

  TEST_CASE("setting the same token keeps the sessions, a different one ends them all") {
    FakeClock clock;
    HttpServer server(open_endpoints(), "tok-one", {}, &clock);
    const int port = server.start("127.0.0.1:0");
    const auto first = cookie_from(post_token(port, "tok-one"));
    const auto second = cookie_from(post_token(port, "tok-one"));
    CHECK(first != second);
    server.set_auth_token("tok-one");
    CHECK(status_of(get(port, "/api/v1/accounts", first)) == 200);
    server.set_auth_token("tok-two");
    CHECK(status_of(get(port, "/api/v1/accounts", first)) == 401);
    CHECK(status_of(get(port, "/api/v1/accounts", second)) == 401);
    CHECK(status_of(post_token(port, "tok-one")) == 401);
    CHECK(status_of(post_token(port, "tok-two")) == 303);
    // Back to no token: open to all, cookie or not.
    server.set_auth_token("");
    CHECK(status_of(get(port, "/api/v1/accounts")) == 200);
  }

  TEST_CASE("after five failures a minute the client waits, Retry-After says how long") {
    FakeClock clock;
    HttpServer server(open_endpoints(), "tok-unit", {}, &clock);
    const int port = server.start("127.0.0.1:0");
    for (int i = 0; i < 5; ++i) CHECK(status_of(post_token(port, "nope")) == 401);
    auto refused = post_token(port, "tok-unit");
    CHECK(status_of(refused) == 429);
    CHECK(header_of(refused, "Retry-After") == "60");
    CHECK(header_of(refused, "Set-Cookie").empty());
    clock.advance(59s);
    CHECK(header_of(post_token(port, "tok-unit"), "Retry-After") == "1");
    clock.advance(1s);
    CHECK(status_of(post_token(port, "tok-unit")) == 303);
    // A success cleared the count: five more failures before a wait.
    for (int i = 0; i < 5; ++i) CHECK(status_of(post_token(port, "nope")) == 401);
    CHECK(status_of(post_token(port, "nope")) == 429);
  }

  TEST_CASE("cookie_value reads one cookie among several, in any Cookie header") {
    auto request = request_with({{"cookie", "a=1; creditwatch_session=abc ;b=2"}});
    CHECK(cookie_value(request, "creditwatch_session") == "abc");
    CHECK(cookie_value(request, "b") == "2");
    CHECK_FALSE(cookie_value(request, "creditwatch").has_value());
    CHECK_FALSE(cookie_value(request, "session").has_value());
    request = request_with({{"cookie", "x=\"quoted\""}, {"cookie", "creditwatch_session=def"}});
    CHECK(cookie_value(request, "x") == "quoted");
    CHECK(cookie_value(request, "creditwatch_session") == "def");
    CHECK_FALSE(cookie_value(request_with({{"cookie", "novalue; ;="}}), "novalue").has_value());
  }

  TEST_CASE("came_over_https trusts the first scheme a proxy names") {
    CHECK(came_over_https(request_with({{"x-forwarded-proto", "https"}})));
    CHECK(came_over_https(request_with({{"x-forwarded-proto", "HTTPS, http"}})));
    CHECK_FALSE(came_over_https(request_with({{"x-forwarded-proto", "http, https"}})));
    CHECK(came_over_https(request_with({{"forwarded", "for=192.0.2.1;proto=https;host=x"}})));
    CHECK_FALSE(came_over_https(request_with({{"forwarded", "for=192.0.2.1;proto=http"}})));
    CHECK_FALSE(came_over_https(request_with({})));
    CHECK(set_cookie("c", "v", 60s, true) == "c=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
    CHECK(set_cookie("c", "", 0s, false) == "c=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  }

  TEST_CASE("from_own_page: Origin must name the Host (or X-Forwarded-Host), Sec-Fetch-Site same-origin or none") {
    CHECK(from_own_page(request_with({})));
    CHECK(from_own_page(request_with({{"host", "cw.example:9477"}, {"origin", "http://cw.example:9477"}})));
    CHECK(from_own_page(request_with({{"host", "CW.example"}, {"origin", "https://cw.example"}})));
    CHECK(from_own_page(request_with(
        {{"host", "127.0.0.1:9477"}, {"x-forwarded-host", "cw.example"}, {"origin", "https://cw.example"}})));
    CHECK(from_own_page(request_with({{"sec-fetch-site", "none"}})));
    CHECK_FALSE(from_own_page(request_with({{"host", "cw.example"}, {"origin", "https://evil.example"}})));
    CHECK_FALSE(from_own_page(request_with({{"host", "cw.example"}, {"origin", "null"}})));
    CHECK_FALSE(from_own_page(request_with({{"host", "cw.example"}, {"origin", "ftp://cw.example"}})));
    CHECK_FALSE(from_own_page(request_with({{"origin", "http://cw.example"}})));  // no Host to match
    CHECK_FALSE(from_own_page(request_with({{"host", "cw.example"}, {"origin", "http://cw.example/path"}})));
    CHECK_FALSE(from_own_page(request_with({{"sec-fetch-site", "cross-site"}})));
    CHECK_FALSE(from_own_page(request_with({{"sec-fetch-site", "same-site"}})));
  }

  TEST_CASE("local_target keeps paths on the site and turns anything else into /") {
    CHECK(local_target("/accounts/x?y=1") == "/accounts/x?y=1");
    CHECK(local_target("/") == "/");
    for (const auto& away : std::vector<std::string>{"", "accounts", "//evil.example/", "/\\evil.example", "https://evil.example/",
                                   "/x\r\nSet-Cookie: a=b", std::string("/x\0y", 4)}) {
      CAPTURE(away);
      CHECK(local_target(away) == "/");
    }
    CHECK(local_target("/" + std::string(3000, 'a')) == "/");
  }
}
