// A sink's 2xx with a huge body is a delivery: the client keeps the status and the first
// max_body_bytes when the request asks for it (every sink request does), so the outbox
// classifies the answer by its status instead of retrying a body_too_large forever.
#include "fakes/fake_clock.hpp"
#include "fakes/notify_fixtures.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <string>

using namespace creditwatch;
using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t k_huge = 2 << 20;  // 2 MiB
constexpr std::size_t k_cap = 64 << 10;

// Answers `path` with 200 and 2 MiB of text, with a Content-Length or chunked.
void serve_huge(FakeHttpServer& server, const std::string& path, bool chunked) {
  auto handler = [chunked](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    if (!chunked) {
      res.set_content(std::string(k_huge, 'x'), "text/plain");
      return;
    }
    res.set_chunked_content_provider("text/plain", [](std::size_t offset, httplib::DataSink& sink) {
      if (offset >= k_huge) {
        sink.done();
        return true;
      }
      const std::string chunk(64 << 10, 'y');
      return sink.write(chunk.data(), chunk.size());
    });
  };
  server.get(path, handler);
  server.post(path, handler);
}

}  // namespace

TEST_SUITE("http.large_answers") {
  TEST_CASE("truncate_body keeps the status and the first max_body_bytes") {
    FakeHttpServer server;
    serve_huge(server, "/sized", false);
    serve_huge(server, "/chunked", true);
    server.start();
    http::CurlClient client;
    for (const std::string path : {"/sized", "/chunked"}) {
      CAPTURE(path);
      http::Request request;
      request.url = server.url() + path;
      request.max_body_bytes = k_cap;
      request.truncate_body = true;
      auto outcome = client.send(request);
      REQUIRE_MESSAGE(outcome.ok(), outcome.error().message);
      CHECK(outcome->status == 200);
      CHECK(outcome->body.size() == k_cap);
      CHECK(outcome->body_truncated);

      // Without it, a provider's answer must be whole: too large is a failure.
      request.truncate_body = false;
      auto whole = client.send(request);
      REQUIRE_FALSE(whole.ok());
      CHECK(whole.error().kind == http::FailureKind::body_too_large);
    }
  }

  TEST_CASE("a body within the cap is not marked truncated") {
    FakeHttpServer server;
    server.get("/small", [](const httplib::Request&, httplib::Response& res) { reply_json(res, 200, "{}"); });
    server.start();
    http::CurlClient client;
    http::Request request;
    request.url = server.url() + "/small";
    request.truncate_body = true;
    auto outcome = client.send(request);
    REQUIRE(outcome.ok());
    CHECK(outcome->body == "{}");
    CHECK_FALSE(outcome->body_truncated);
  }

  TEST_CASE("a webhook answering 200 with a 2 MiB body is delivered once") {
    FakeHttpServer sink;
    serve_huge(sink, "/hook", false);
    sink.start();
    TempDir dir;
    FakeClock clock;
    storage::SqliteStore store(dir.file("creditwatch.db"));
    const notify::RetryPolicy policy{1s, 1min, 24h, 0.2};
    notify::Outbox outbox(store, clock, policy);
    auto webhook = build_notifier(notifier_config("webhook", {{"url", scalar_setting(sink.url() + "/hook", 21)}}));

    const auto n = critical_runway();
    const TimePoint now = clock.now();
    store.save_alert(storage::AlertRow{n.account, "runway", "firing", "critical", now, now, "{}"},
                     {storage::OutboxRow{0, now, "hook", n.dedup_key, notify::to_json(n).dump(), 0, now,
                                         storage::OutboxState::pending, "", "", {}}});
    // An hour of retries would show as many requests if the answer were taken for a failure.
    http::CurlClient client;
    for (int round = 0; round < 60; ++round) {
      outbox.deliver_due("hook", *webhook, client);
      clock.advance(1min);
    }
    CHECK(sink.request_count() == 1);
    const auto rows = store.notifications();
    REQUIRE(rows.size() == 1);
    INFO("last error: " << rows.front().last_error);
    CHECK(rows.front().state == storage::OutboxState::delivered);
    CHECK(outbox.counts()["hook"].delivered == 1);
    CHECK(outbox.counts()["hook"].retried == 0);
  }
}
