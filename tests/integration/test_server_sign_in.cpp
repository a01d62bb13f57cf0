// Sign-in for browsers against the real daemon with `http.auth_token_file`, through a plain
// HTTP client (no redirects followed, cookies by hand): the form served without a session
// and naming no account, a wrong token refused without a cookie, the right one giving an
// HttpOnly, SameSite=Strict, Path=/ cookie with Max-Age (Secure when a proxy says https),
// the cookie opening the pages and the API, sign-out, a changed token on reload ending every
// session, failed sign-ins rate-limited per client and logged without any token, a form sent
// from another site refused, the bearer header still working, and no token: all open.
// Expiry is in tests/unit/test_server_sign_in.cpp (a fake clock).
#include "fakes/raw_client.hpp"
#include "http_daemon.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

const std::string k_token = "tok-S1GN-in-5ecret-a7";

std::string accounts() {
  return simulated_account("sim-burner", "500", "86400", "    labels: { team: bots }\n") +
         simulated_account("sim-calm", "2000", "1000");
}

httplib::Client client_of(const HttpDaemon& daemon) {
  httplib::Client client("127.0.0.1", daemon.port());
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  client.set_follow_location(false);
  return client;
}

httplib::Result get(const HttpDaemon& daemon, const std::string& path, const std::string& cookie = "",
                    httplib::Headers headers = {}) {
  if (!cookie.empty()) headers.emplace("Cookie", cookie);
  return client_of(daemon).Get(path, headers);
}

// POST path with a form body, as the browser sends the sign-in form.
httplib::Result post_form(const HttpDaemon& daemon, const std::string& path, const std::string& body,
                          httplib::Headers headers = {}) {
  return client_of(daemon).Post(path, headers, body, "application/x-www-form-urlencoded");
}

// "creditwatch_session=ID" from a Set-Cookie value, to send back as a Cookie header.
std::string cookie_pair(const std::string& set_cookie) { return set_cookie.substr(0, set_cookie.find(';')); }

// Signs in with the right token; returns the Cookie header to send from then on.
std::string sign_in(const HttpDaemon& daemon) {
  auto res = post_form(daemon, "/sign-in", "token=" + k_token);
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 303, res->body);
  REQUIRE(res->has_header("Set-Cookie"));
  return cookie_pair(res->get_header_value("Set-Cookie"));
}

// A daemon over two simulated accounts with the token from a file.
struct SignedDaemon {
  TempDir dir;
  std::string token_file = dir.write("http-token", k_token + "\n");
  HttpDaemon daemon{dir};

  SignedDaemon() {
    dir.write("creditwatch.yaml", daemon_yaml(dir, accounts(), "  auth_token_file: " + token_file + "\n"));
    daemon.start();
  }
};

}  // namespace

TEST_SUITE("server_sign_in") {
  TEST_CASE("without a session a browser gets the sign-in form, which names no account, and the API a JSON 401") {
    SignedDaemon d;
    auto& daemon = d.daemon;
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(daemon.wait_for_burn({"sim-burner"}, 20s, k_token));

    auto root = get(daemon, "/");
    REQUIRE(root);
    CHECK(root->status == 303);
    CHECK(root->get_header_value("Location") == "/sign-in");
    auto account = get(daemon, "/accounts/sim-burner?from=x");
    REQUIRE(account);
    CHECK(account->status == 303);
    // cpp-httplib hands header values back percent-decoded; the bytes on the wire
    // (`next=/accounts/sim-burner%3Ffrom%3Dx`) are checked over a raw socket in the unit test.
    CHECK(account->get_header_value("Location") == "/sign-in?next=/accounts/sim-burner?from=x");

    auto form = get(daemon, "/sign-in");
    REQUIRE(form);
    CHECK(form->status == 200);
    CHECK(form->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(form->body.find("<form method=\"post\" action=\"/sign-in\"") != std::string::npos);
    CHECK(form->body.find("type=\"password\"") != std::string::npos);
    CHECK(form->body.find("{{") == std::string::npos);
    CHECK(form->body.find("sim-") == std::string::npos);  // names no account
    CHECK(form->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'") != std::string::npos);
    CHECK(form->get_header_value("Cache-Control") == "no-store");
    // The page asked for comes back after the sign-in.
    auto onward = get(daemon, "/sign-in?next=/accounts/sim-burner");
    REQUIRE(onward);
    CHECK(onward->body.find("name=\"next\" value=\"/accounts/sim-burner\"") != std::string::npos);
    // A next that leaves the site is dropped.
    auto away = get(daemon, "/sign-in?next=//evil.example/x");
    REQUIRE(away);
    CHECK(away->body.find("evil.example") == std::string::npos);
    CHECK(away->body.find("name=\"next\" value=\"/\"") != std::string::npos);

    auto style = get(daemon, "/assets/sign-in.css");
    REQUIRE(style);
    CHECK(style->status == 200);
    CHECK(style->get_header_value("Content-Type").find("text/css") == 0);

    // Nothing else without a session: the pages' own files, the API, the metrics.
    for (const std::string path : {"/assets/status.js", "/assets/index.html", "/nowhere"}) {
      CAPTURE(path);
      auto res = get(daemon, path);
      REQUIRE(res);
      CHECK(res->status == 303);
      CHECK(res->body.find("sim-") == std::string::npos);
    }
    for (const std::string path : {"/api/v1/accounts", "/api/v1/summary", "/api/v1/accounts/sim-burner/series",
                                   "/api/v1/accounts/sim-burner/samples", "/metrics"}) {
      CAPTURE(path);
      auto res = get(daemon, path);
      REQUIRE(res);
      CHECK(res->status == 401);
      CHECK(res->get_header_value("WWW-Authenticate") == "Bearer");
      auto body = nlohmann::json::parse(res->body, nullptr, false);
      REQUIRE(body.is_object());
      CHECK(body["error"].get<std::string>().find("unauthorized") == 0);
      CHECK(res->body.find("sim-") == std::string::npos);
    }
    auto health = get(daemon, "/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("the right token gives a session cookie that opens the pages and the API, sign-out ends it") {
    SignedDaemon d;
    auto& daemon = d.daemon;
    INFO("daemon log:\n" << daemon.log());

    auto wrong = post_form(daemon, "/sign-in", "token=tok-wrong&next=%2F");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
    CHECK_FALSE(wrong->has_header("Set-Cookie"));
    CHECK(wrong->body.find("type=\"password\"") != std::string::npos);
    CHECK(wrong->body.find("not the token") != std::string::npos);
    CHECK(wrong->body.find("tok-wrong") == std::string::npos);

    auto right = post_form(daemon, "/sign-in", "token=" + k_token + "%0A&next=%2Faccounts%2Fsim-burner");
    REQUIRE(right);
    CHECK(right->status == 303);
    CHECK(right->get_header_value("Location") == "/accounts/sim-burner");
    const auto set_cookie = right->get_header_value("Set-Cookie");
    CAPTURE(set_cookie);
    CHECK(set_cookie.rfind("creditwatch_session=", 0) == 0);
    CHECK(cookie_pair(set_cookie).size() == std::string("creditwatch_session=").size() + 64);
    CHECK(set_cookie.find("; HttpOnly") != std::string::npos);
    CHECK(set_cookie.find("; SameSite=Strict") != std::string::npos);
    CHECK(set_cookie.find("; Path=/") != std::string::npos);
    CHECK(set_cookie.find("; Max-Age=43200") != std::string::npos);
    CHECK(set_cookie.find("Secure") == std::string::npos);  // plain HTTP
    CHECK(set_cookie.find(k_token) == std::string::npos);
    const auto cookie = cookie_pair(set_cookie);

    auto page = get(daemon, "/", cookie);
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
    auto api = get(daemon, "/api/v1/accounts", "other=1; " + cookie + "; more=2");
    REQUIRE(api);
    CHECK(api->status == 200);
    CHECK(api->body.find("sim-burner") != std::string::npos);
    auto signed_form = get(daemon, "/sign-in", cookie);  // already signed in: on to the page
    REQUIRE(signed_form);
    CHECK(signed_form->status == 303);

    // A made-up or altered session id opens nothing.
    auto forged = cookie;
    forged.back() = forged.back() == '0' ? '1' : '0';
    CHECK(get(daemon, "/api/v1/accounts", forged)->status == 401);
    CHECK(get(daemon, "/", forged)->status == 303);

    auto out = post_form(daemon, "/sign-out", "", {{"Cookie", cookie}});
    REQUIRE(out);
    CHECK(out->status == 303);
    CHECK(out->get_header_value("Location") == "/sign-in");
    CHECK(out->get_header_value("Set-Cookie").find("Max-Age=0") != std::string::npos);
    CHECK(get(daemon, "/api/v1/accounts", cookie)->status == 401);
    CHECK(get(daemon, "/", cookie)->status == 303);

    // Behind a TLS-terminating proxy the cookie is Secure.
    auto proxied = post_form(daemon, "/sign-in", "token=" + k_token, {{"X-Forwarded-Proto", "https"}});
    REQUIRE(proxied);
    CHECK(proxied->status == 303);
    CHECK(proxied->get_header_value("Set-Cookie").find("; Secure") != std::string::npos);

    // The bearer header works as before, with or without a cookie.
    auto bearer = get(daemon, "/api/v1/accounts", "", {{"Authorization", "Bearer " + k_token}});
    REQUIRE(bearer);
    CHECK(bearer->status == 200);
    CHECK(get(daemon, "/metrics", "", {{"Authorization", "Bearer " + k_token}})->status == 200);
    CHECK(get(daemon, "/api/v1/accounts", "", {{"Authorization", "Bearer tok-wrong"}})->status == 401);

    CHECK(daemon.terminate() == 0);
    const auto log = daemon.log();
    CHECK(log.find("signed in from 127.0.0.1") != std::string::npos);
    CHECK(log.find("signed out from 127.0.0.1") != std::string::npos);
    CHECK_MESSAGE(log.find(k_token) == std::string::npos, "the log leaks the token");
    CHECK_MESSAGE(log.find(cookie.substr(cookie.find('=') + 1)) == std::string::npos, "the log leaks a session id");
  }

  TEST_CASE("a sign-in form sent from another site is refused, one from our own page is not") {
    SignedDaemon d;
    auto& daemon = d.daemon;
    INFO("daemon log:\n" << daemon.log());
    const auto host = "127.0.0.1:" + std::to_string(daemon.port());
    for (const httplib::Headers& headers :
         {httplib::Headers{{"Origin", "http://evil.example"}}, httplib::Headers{{"Origin", "null"}},
          httplib::Headers{{"Origin", "http://127.0.0.1:1"}}, httplib::Headers{{"Sec-Fetch-Site", "cross-site"}},
          httplib::Headers{{"Origin", "http://" + host}, {"Sec-Fetch-Site", "same-site"}}}) {
      auto res = post_form(daemon, "/sign-in", "token=" + k_token, headers);
      REQUIRE(res);
      CHECK(res->status == 403);
      CHECK_FALSE(res->has_header("Set-Cookie"));
    }
    for (const httplib::Headers& headers :
         {httplib::Headers{{"Origin", "http://" + host}, {"Sec-Fetch-Site", "same-origin"}},
          httplib::Headers{{"Origin", "https://creditwatch.example"}, {"X-Forwarded-Host", "creditwatch.example"}},
          httplib::Headers{}}) {
      auto res = post_form(daemon, "/sign-in", "token=" + k_token, headers);
      REQUIRE(res);
      CHECK(res->status == 303);
      CHECK(res->has_header("Set-Cookie"));
    }
    // A cross-site sign-out is refused too: the session lives on.
    const auto cookie = sign_in(daemon);
    auto out = post_form(daemon, "/sign-out", "", {{"Cookie", cookie}, {"Origin", "http://evil.example"}});
    REQUIRE(out);
    CHECK(out->status == 403);
    CHECK(get(daemon, "/api/v1/accounts", cookie)->status == 200);
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("failed sign-ins are limited per client, 429 with Retry-After, and logged without any token") {
    SignedDaemon d;
    auto& daemon = d.daemon;
    INFO("daemon log:\n" << daemon.log());
    std::vector<std::string> tried;
    for (int i = 0; i < 5; ++i) {
      tried.push_back("tok-guess-" + std::to_string(i) + "-zq");
      auto res = post_form(daemon, "/sign-in", "token=" + tried.back());
      REQUIRE(res);
      CHECK(res->status == 401);
    }
    // Now even the right token waits: guessing cannot go on.
    for (const auto& token : {std::string("tok-guess-5-zq"), k_token}) {
      auto res = post_form(daemon, "/sign-in", "token=" + token);
      REQUIRE(res);
      CHECK(res->status == 429);
      CHECK_FALSE(res->has_header("Set-Cookie"));
      const auto retry = std::stoi(res->get_header_value("Retry-After"));
      CHECK(retry >= 1);
      CHECK(retry <= 60);
      CHECK(res->body.find("type=\"password\"") != std::string::npos);
    }
    tried.push_back("tok-guess-5-zq");
    // Another client is not held up.
    RawClient other(daemon.port(), "127.0.0.2");
    REQUIRE(other.connected());
    const std::string body = "token=" + k_token;
    other.send("POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    const auto answer = other.read_until_closed(5s);
    CHECK(answer.rfind("HTTP/1.1 303 ", 0) == 0);
    CHECK(answer.find("Set-Cookie: creditwatch_session=") != std::string::npos);
    // The bearer header is not a sign-in: API clients keep working from the limited address.
    CHECK(get(daemon, "/api/v1/accounts", "", {{"Authorization", "Bearer " + k_token}})->status == 200);

    CHECK(daemon.terminate() == 0);
    const auto log = daemon.log();
    CHECK(count_occurrences(log, "failed sign-in from 127.0.0.1") == 5);
    CHECK(log.find("further tries refused for") != std::string::npos);
    CHECK(log.find("signed in from 127.0.0.2") != std::string::npos);
    CHECK_MESSAGE(log.find(k_token) == std::string::npos, "the log leaks the token");
    for (const auto& guess : tried) CHECK_MESSAGE(log.find(guess) == std::string::npos, "the log shows a tried token");
  }

  TEST_CASE("a reload that changes the token ends every session, one that keeps it ends none") {
    SignedDaemon d;
    auto& daemon = d.daemon;
    INFO("daemon log:\n" << daemon.log());
    const auto cookie = sign_in(daemon);
    CHECK(get(daemon, "/api/v1/accounts", cookie)->status == 200);

    daemon.signal(SIGHUP);  // same token
    REQUIRE(eventually([&] { return daemon.count_in_log("reloaded") >= 1; }, 10s));
    CHECK(get(daemon, "/api/v1/accounts", cookie)->status == 200);

    d.dir.write("http-token", "tok-rotated-5ecret-b9\n");
    daemon.signal(SIGHUP);
    REQUIRE(eventually([&] { return daemon.count_in_log("http.auth_token changed; applied") >= 1; }, 10s));
    CHECK(get(daemon, "/api/v1/accounts", cookie)->status == 401);
    CHECK(get(daemon, "/", cookie)->status == 303);
    CHECK(daemon.terminate() == 0);
  }

  TEST_CASE("without http.auth_token everything is open as before and /sign-in leads to the page") {
    TempDir dir;
    dir.write("creditwatch.yaml", daemon_yaml(dir, accounts()));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    CHECK(get(daemon, "/")->status == 200);
    CHECK(get(daemon, "/api/v1/accounts")->status == 200);
    CHECK(get(daemon, "/metrics")->status == 200);
    auto form = get(daemon, "/sign-in");
    REQUIRE(form);
    CHECK(form->status == 303);
    CHECK(form->get_header_value("Location") == "/");
    auto post = post_form(daemon, "/sign-in", "token=anything");
    REQUIRE(post);
    CHECK(post->status == 303);
    CHECK_FALSE(post->has_header("Set-Cookie"));
    CHECK(daemon.terminate() == 0);
  }
}
