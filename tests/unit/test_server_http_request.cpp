#include "creditwatch/server/http_request.hpp"

#include <doctest/doctest.h>

#include <string>

using creditwatch::server::HttpRequest;
using creditwatch::server::percent_decode;
using creditwatch::server::RequestLimits;
using creditwatch::server::RequestParser;
using Status = RequestParser::Status;

namespace {

// Parses `text` fed in one piece; the whole of it must be one request.
HttpRequest parse_whole(const std::string& text, RequestLimits limits = {}) {
  RequestParser parser(limits);
  const auto step = parser.parse(text);
  INFO("error: " << step.error_status << " " << step.error);
  REQUIRE(step.status == Status::complete);
  CHECK(step.consumed == text.size());
  return parser.take();
}

RequestParser::Step parse_once(const std::string& text, RequestLimits limits = {}) {
  RequestParser parser(limits);
  return parser.parse(text);
}

}  // namespace

TEST_SUITE("server_http_request") {
  TEST_CASE("request line, headers, decoded path segments and query") {
    const auto r = parse_whole(
        "GET /api/v1/accounts/my%20acct%2Fx/samples?since=2020-01-01T02:00:00%2B02:00&limit=5&a+b=c+d&flag HTTP/1.1\r\n"
        "Host: localhost\r\nAuthorization:  Bearer t0k  \r\nX-Empty:\r\n\r\n");
    CHECK(r.method == "GET");
    CHECK(r.minor_version == 1);
    CHECK(r.path == "/api/v1/accounts/my acct/x/samples");
    REQUIRE(r.segments.size() == 5);
    CHECK(r.segments[3] == "my acct/x");  // an encoded '/' stays inside its segment
    CHECK(r.query_value("since") == "2020-01-01T02:00:00+02:00");
    CHECK(r.query_value("limit") == "5");
    CHECK(r.query_value("a b") == "c d");
    CHECK(r.query_value("flag") == "");
    CHECK_FALSE(r.query_value("nothing"));
    CHECK(r.header("authorization") == "Bearer t0k");
    CHECK(r.header("host") == "localhost");
    CHECK(r.header("x-empty") == "");
    CHECK(r.keep_alive());
  }

  TEST_CASE("keep-alive follows the version and the Connection header") {
    CHECK_FALSE(parse_whole("GET / HTTP/1.0\r\n\r\n").keep_alive());
    CHECK(parse_whole("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
    CHECK_FALSE(parse_whole("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive());
    CHECK(parse_whole("GET / HTTP/1.1\n\n").keep_alive());  // bare LF line ends are read too
  }

  TEST_CASE("a request arriving a byte at a time, then a pipelined one behind it") {
    const std::string first = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    const std::string second = "\r\nHEAD /metrics HTTP/1.1\r\n\r\n";
    const std::string wire = first + second;
    RequestParser parser;
    std::string input;
    std::size_t i = 0;
    RequestParser::Step step;
    for (; i < wire.size(); ++i) {
      input.push_back(wire[i]);
      step = parser.parse(input);
      if (step.status != Status::incomplete) break;
      CHECK(parser.head_complete() == (i + 1 >= first.size() - 3));
    }
    REQUIRE(step.status == Status::complete);
    CHECK(i + 1 == first.size());
    CHECK(parser.take().body == "abc");
    input.erase(0, step.consumed);
    input += wire.substr(i + 1);
    step = parser.parse(input);
    REQUIRE(step.status == Status::complete);
    CHECK(step.consumed == input.size());  // the stray CRLF before it included
    CHECK(parser.take().method == "HEAD");
  }

  TEST_CASE("oversized heads are 431, a request line without end 414, big bodies 413") {
    RequestLimits limits;
    limits.max_head_bytes = 1024;
    limits.max_body_bytes = 100;
    limits.max_headers = 10;
    const std::string big(2000, 'a');
    auto step = parse_once("GET / HTTP/1.1\r\nX-Big: " + big + "\r\n\r\n", limits);
    CHECK(step.status == Status::failed);
    CHECK(step.error_status == 431);
    // Still incomplete but already past the limit: no need to wait for the rest.
    step = parse_once("GET / HTTP/1.1\r\nX-Big: " + big, limits);
    CHECK(step.error_status == 431);
    step = parse_once("GET /" + big, limits);
    CHECK(step.error_status == 414);
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 11; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
    CHECK(parse_once(many + "\r\n", limits).error_status == 431);
    CHECK(parse_once("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", limits).error_status == 413);
    CHECK(parse_once("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n", limits).status == Status::incomplete);
    // Just under the limit is fine.
    CHECK(parse_once("GET / HTTP/1.1\r\nX-Big: " + std::string(900, 'a') + "\r\n\r\n", limits).status ==
          Status::complete);
  }

  TEST_CASE("malformed requests are 400, unknown versions 505, chunked bodies 501") {
    for (const char* bad : {"GET\r\n\r\n", "GET /\r\n\r\n", "GET / FOO/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
                            "GET nothing HTTP/1.1\r\n\r\n", "GET /%zz HTTP/1.1\r\n\r\n", "GET /?a=%4 HTTP/1.1\r\n\r\n",
                            "GET / HTTP/1.1\r\nNo colon here\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                            "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
                            "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                            "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"}) {
      CAPTURE(bad);
      const auto step = parse_once(bad);
      CHECK(step.status == Status::failed);
      CHECK(step.error_status == 400);
    }
    CHECK(parse_once("GET / HTTP/2.0\r\n\r\n").error_status == 505);
    CHECK(parse_once("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").error_status == 501);
  }

  TEST_CASE("absolute-form targets and percent-decoding") {
    CHECK(parse_whole("GET http://example.test:9477/metrics?x=1 HTTP/1.1\r\n\r\n").path == "/metrics");
    CHECK(percent_decode("a%41%62+c", true) == "aAb c");
    CHECK(percent_decode("a%41%62+c", false) == "aAb+c");
    CHECK_FALSE(percent_decode("%", false));
    CHECK_FALSE(percent_decode("%4", false));
    CHECK_FALSE(percent_decode("%g0", false));
  }
}
