#include "creditwatch/http/redirect_policy.hpp"

#include <doctest/doctest.h>

#include <string>

using creditwatch::http::is_redirect;
using creditwatch::http::redirect_refusal;

namespace {

bool contains(const std::optional<std::string>& text, const std::string& part) {
  return text && text->find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("http.redirect_policy") {
  TEST_CASE("only the statuses that send the client elsewhere are redirects") {
    for (long status : {301L, 302L, 303L, 307L, 308L}) CHECK(is_redirect(status));
    for (long status : {200L, 204L, 300L, 304L, 305L, 400L, 500L}) CHECK_FALSE(is_redirect(status));
  }

  TEST_CASE("a GET may follow a redirect on its own origin") {
    SUBCASE("another path") {
      CHECK_FALSE(redirect_refusal("GET", "https://api.example.com/v1/a", 302, "https://api.example.com/v2/a?x=1"));
    }
    SUBCASE("the default port spelled out") {
      CHECK_FALSE(redirect_refusal("GET", "https://api.example.com/a", 301, "https://api.example.com:443/b"));
      CHECK_FALSE(redirect_refusal("GET", "http://127.0.0.1:8080/a", 307, "http://127.0.0.1:8080/b"));
    }
    SUBCASE("host names differ in case only") {
      CHECK_FALSE(redirect_refusal("GET", "https://API.example.com/a", 308, "https://api.EXAMPLE.com/b"));
    }
  }

  TEST_CASE("another origin is refused, naming its host but not its path or query") {
    SUBCASE("another host") {
      auto why = redirect_refusal("GET", "https://api.anthropic.com/v1/x", 302,
                                  "https://evil.example.net/collect?key=sk-ant-admin01-SECRET");
      CHECK(contains(why, "redirected (HTTP 302) to evil.example.net; not followed"));
      CHECK(contains(why, "credentials stay with the configured host"));
      CHECK_FALSE(contains(why, "collect"));
      CHECK_FALSE(contains(why, "SECRET"));
    }
    SUBCASE("another port on the same host") {
      auto why = redirect_refusal("GET", "http://127.0.0.1:8080/a", 302, "http://127.0.0.1:9090/a");
      CHECK(contains(why, "to 127.0.0.1:9090; not followed"));
    }
    SUBCASE("user info in the Location is never shown") {
      auto why = redirect_refusal("GET", "https://a.example.com/", 302, "https://user:pa55word@b.example.com/");
      CHECK(contains(why, "b.example.com"));
      CHECK_FALSE(contains(why, "pa55word"));
      CHECK_FALSE(contains(why, "user"));
    }
    SUBCASE("http upgraded to https is another origin too") {
      CHECK(contains(redirect_refusal("GET", "http://a.example.com/", 301, "https://a.example.com/"), "not followed"));
    }
    SUBCASE("another scheme altogether") {
      CHECK(contains(redirect_refusal("GET", "https://a.example.com/", 302, "file:///etc/passwd"), "file: URL"));
    }
    SUBCASE("an unreadable target") {
      CHECK(contains(redirect_refusal("GET", "https://a.example.com/", 302, "http://"), "not followed"));
    }
  }

  TEST_CASE("https is never followed to plain http, not even on the same host") {
    auto why = redirect_refusal("GET", "https://api.example.com/balance", 301, "http://api.example.com/balance");
    CHECK(contains(why, "to plain http at api.example.com; not followed"));
    CHECK(contains(redirect_refusal("GET", "https://api.example.com:8443/", 302, "http://api.example.com:8443/"),
                   "plain http"));
  }

  TEST_CASE("a POST is not followed even on its own origin: its body is sent once") {
    for (long status : {301L, 302L, 303L, 307L, 308L}) {
      CAPTURE(status);
      CHECK(contains(redirect_refusal("POST", "https://hooks.example.com/a", status, "https://hooks.example.com/b"),
                     "a POST is not followed"));
    }
  }
}
