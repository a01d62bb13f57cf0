// A notification's text on its way into and out of the outbox: whatever bytes a label, a
// summary (a provider's message) or a stored row hold, the payload serialises without an
// exception and a sink is handed one line of safe text per field.
#include "creditwatch/common/text.hpp"
#include "creditwatch/notify/notification.hpp"

#include "fakes/notify_fixtures.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using creditwatch::valid_utf8;
using creditwatch::notify::json_text;
using creditwatch::notify::Notification;
using creditwatch::notify::notification_from_json;
using creditwatch::notify::to_json;
using namespace creditwatch::testing;

namespace {

void check_one_line(const std::string& text) {
  check_safe_text(text);
  CHECK(text.find('\n') == std::string::npos);
}

void check_fields(const Notification& n) {
  for (const auto* text : {&n.account, &n.provider, &n.summary, &n.currency, &n.dedup_key}) check_one_line(*text);
  for (const auto& [k, v] : n.labels) {
    check_one_line(k);
    check_one_line(v);
  }
}

}  // namespace

TEST_SUITE("notify_notification") {
  TEST_CASE("an acknowledgement and the silenced flag survive the outbox") {
    Notification n;
    n.account = "ds-prod";
    n.reason = creditwatch::alerts::Reason::acknowledged;
    n.ack = creditwatch::notify::Acknowledgement{"alice", creditwatch::from_unix_ms(1'777'593'600'000), "topping up"};
    n.silenced = true;
    const auto back = notification_from_json(nlohmann::json::parse(json_text(to_json(n))));
    CHECK(back.reason == creditwatch::alerts::Reason::acknowledged);
    REQUIRE(back.ack);
    CHECK(back.ack->by == "alice");
    CHECK(back.ack->comment == "topping up");
    CHECK(creditwatch::to_unix_ms(back.ack->at) == 1'777'593'600'000);
    CHECK(back.silenced);
    CHECK(n.title().find("[ACK]") != std::string::npos);
    CHECK(n.body_text().find("Acknowledged: by alice at 2026-05-01T00:00:00Z: topping up") != std::string::npos);
    const auto plain = notification_from_json(to_json(Notification{}));
    CHECK_FALSE(plain.ack);
    CHECK_FALSE(plain.silenced);
  }

  TEST_CASE("a payload with hostile text serialises strictly and comes back as safe text") {
    const auto hostile = hostile_notification();
    const auto payload = to_json(hostile);
    std::string strict;
    CHECK_NOTHROW(strict = payload.dump());  // what the alert engine stored with, before
    CHECK(valid_utf8(strict));
    const auto back = notification_from_json(nlohmann::json::parse(strict));
    check_fields(back);
    CHECK(back.summary.find("请检查您的密钥是否正确") != std::string::npos);
    CHECK(back.labels.count("团队") == 1);
    CHECK(back.currency == "CNY");
  }

  TEST_CASE("a stored row with control characters is cleaned on the way out") {
    // Rows written by an older version, or by hand, may hold escaped NULs and line breaks.
    const auto row = nlohmann::json::parse(
        R"({"dedup_key":"k\u0000","account":"acct\r\nBcc: x","summary":"s\u001b[2J","currency":"USD\u0007",)"
        R"("labels":{"team\n":"bots\u0000","n":7},"rule":"key_invalid","severity":"critical"})");
    const auto n = notification_from_json(row);
    check_fields(n);
    CHECK(n.account == "acct Bcc: x");
    CHECK(n.labels.size() == 1);  // a label that is not text is left out, not an exception
  }

  TEST_CASE("title and body text are safe whatever the fields hold") {
    const auto n = hostile_notification();
    check_one_line(n.title());
    const auto body = n.body_text();
    check_safe_text(body);
    CHECK(body.find("\nBcc:") == std::string::npos);  // each value stays on its own line
  }

  TEST_CASE("json_text never throws and replaces invalid UTF-8") {
    const nlohmann::json j = {{"summary", "cut \xE4\xB8"}};
    CHECK_THROWS((void)j.dump());
    const auto text = json_text(j);
    CHECK(valid_utf8(text));
    CHECK(text.rfind("{\"summary\":\"cut \xEF\xBF\xBD", 0) == 0);
  }
}
