// One CurlClient serves every account a probe thread picks up, and between plain GETs it
// keeps its options instead of resetting them (the probe path's CPU): nothing one request
// set may leak into the next one: not a header (another account's key), not a method or
// body, not basic auth, not a body cap.
#include "fakes/fake_http_server.hpp"

#include "creditwatch/http/curl_client.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <string>

using namespace creditwatch;
using namespace creditwatch::testing;

namespace {

http::Request get(const std::string& url) {
  http::Request request;
  request.url = url;
  return request;
}

}  // namespace

TEST_SUITE("http.client_reuse") {
  TEST_CASE("nothing of one request carries over to the next on the same client") {
    FakeHttpServer server;
    auto ok = [](const httplib::Request&, httplib::Response& res) { reply_json(res, 200, R"({"ok":true})"); };
    server.get("/a", ok);
    server.post("/a", ok);
    server.get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(4096, 'x'), "text/plain");
    });
    server.start();
    http::CurlClient client;

    SUBCASE("a header of one GET is not sent with the next") {
      auto first = get(server.url() + "/a");
      first.headers.push_back({"Authorization", "Bearer sk-first-account"});
      REQUIRE(client.send(first));
      REQUIRE(client.send(get(server.url() + "/a")));
      const auto seen = server.requests();
      REQUIRE(seen.size() == 2);
      CHECK(seen[0].header("Authorization") == "Bearer sk-first-account");
      CHECK(seen[1].header("Authorization").empty());
    }
    SUBCASE("a POST's method, body and basic auth are not sent with the next GET") {
      auto post = get(server.url() + "/a");
      post.method = "POST";
      post.body = R"({"text":"hello"})";
      post.basic_auth = "user:secret";
      REQUIRE(client.send(post));
      REQUIRE(client.send(get(server.url() + "/a")));
      const auto seen = server.requests();
      REQUIRE(seen.size() == 2);
      CHECK(seen[0].method == "POST");
      CHECK(seen[1].method == "GET");
      CHECK(seen[1].body.empty());
      CHECK(seen[1].header("Authorization").empty());
    }
    SUBCASE("a GET's body cap does not carry over, in either direction") {
      auto capped = get(server.url() + "/big");
      capped.max_body_bytes = 1024;
      auto truncated = capped;
      truncated.truncate_body = true;
      auto roomy = get(server.url() + "/big");
      roomy.max_body_bytes = 1 << 20;

      auto refused = client.send(capped);
      REQUIRE_FALSE(refused);
      CHECK(refused.error().kind == http::FailureKind::body_too_large);
      auto cut = client.send(truncated);
      REQUIRE(cut);
      CHECK(cut->body_truncated);
      CHECK(cut->body.size() == 1024);
      auto whole = client.send(roomy);
      REQUIRE(whole);
      CHECK(whole->body.size() == 4096);
      CHECK_FALSE(client.send(capped));
    }
  }
}
