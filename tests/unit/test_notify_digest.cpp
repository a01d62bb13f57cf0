// The digest as each sink renders it (notify/digest.hpp, and send_digest in slack.cpp,
// email.cpp, webhook.cpp; the plain-text default through ntfy's text path), against the
// loopback fakes and a real SMTP server, and its way through the outbox with retries.
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/digest.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/fake_clock.hpp"
#include "fakes/notify_fixtures.hpp"
#include "fakes/real_peers.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <deque>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::TimePoint;
using creditwatch::config::Settings;
using creditwatch::http::CurlClient;
using creditwatch::notify::Digest;
using creditwatch::notify::DigestAccount;
using creditwatch::notify::DeliveryResult;
using creditwatch::notify::Notification;
using creditwatch::notify::Notifier;
using creditwatch::notify::Outbox;
using creditwatch::notify::RetryPolicy;
using creditwatch::storage::OutboxRow;
using creditwatch::storage::OutboxState;
using creditwatch::storage::SqliteStore;
using creditwatch::testing::build_notifier;
using creditwatch::testing::FakeClock;
using creditwatch::testing::FakeSink;
using creditwatch::testing::notifier_config;
using creditwatch::testing::scalar_setting;
using creditwatch::testing::secret_setting;
using creditwatch::testing::SmtpServer;
using creditwatch::testing::strict_json;
using creditwatch::testing::TempDir;
using Outcome = creditwatch::notify::DeliveryResult::Outcome;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

TimePoint at(const char* rfc3339) { return *creditwatch::parse_rfc3339(rfc3339); }

DigestAccount line(const std::string& name, const std::string& team, const char* spend,
                   std::optional<const char*> previous) {
  DigestAccount a;
  a.account = name;
  a.provider = "deepseek";
  a.currency = "USD";
  if (!team.empty()) a.labels = {{"team", team}};
  a.spend = *Decimal::parse(spend);
  if (previous) a.previous_spend = *Decimal::parse(*previous);
  a.balance = *Decimal::parse("110");
  a.runway_days = 12.5;
  return a;
}

// Three accounts in two teams and one without the label; ds-prod spent 30 against 10, took a
// deposit, needs a top-up and had a critical runway alert.
Digest known_digest() {
  Digest d;
  d.period_start = at("2026-11-30T09:00:00Z");
  d.period_end = at("2026-12-07T09:00:00Z");
  d.group_by = "team";
  auto ds = line("ds-prod", "bots", "30", "10");
  ds.deposits = *Decimal::parse("50");
  ds.recommended_topup = *Decimal::parse("90");
  ds.alerts = {"runway (critical)"};
  auto idle = line("or-dev", "research", "0", "0");
  idle.runway_days = std::numeric_limits<double>::infinity();
  auto stray = line("misc", "", "5", std::nullopt);
  stray.runway_days.reset();
  d.accounts = {stray, idle, ds};
  return d;
}

// A sink that records what the outbox hands it and answers from a script.
class DigestRecorder final : public Notifier {
public:
  DeliveryResult deliver(const Notification&, creditwatch::http::Client&) override {
    return {Outcome::permanent, "not an alert sink", 0, std::nullopt};
  }
  DeliveryResult send_digest(const Digest& d, creditwatch::http::Client&) override {
    std::lock_guard lock(m_mutex);
    m_sent.push_back(d.dedup_key());
    if (m_script.empty()) return {Outcome::delivered, "ok", 200, std::nullopt};
    auto next = m_script.front();
    m_script.pop_front();
    return next;
  }
  void then(DeliveryResult result) { m_script.push_back(std::move(result)); }
  std::vector<std::string> sent() const {
    std::lock_guard lock(m_mutex);
    return m_sent;
  }

private:
  mutable std::mutex m_mutex;
  std::deque<DeliveryResult> m_script;
  std::vector<std::string> m_sent;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("notify.digest") {
  TEST_CASE("digest text: totals, then each team's accounts with every figure, unlabelled last") {
    const std::string text = creditwatch::notify::digest_text(known_digest());
    INFO(text);
    CHECK(text.rfind("creditwatch digest 2026-11-30 09:00 to 2026-12-07 09:00 UTC: 3 accounts, 1 alert fired, "
                     "1 top-up recommended\n",
                     0) == 0);
    CHECK(contains(text, "Spend 35.00 USD (+250.0% vs 10.00), deposits 50.00 USD\n"));
    CHECK(contains(text, "- ds-prod (deepseek): spent 30.00 USD (+200.0% vs 10.00), deposits 50.00 USD, balance "
                         "110.00 USD, runway 12.5 days, top up 90.00 USD, alerts: runway (critical)\n"));
    CHECK(contains(text, "- or-dev (deepseek): spent 0.00 USD (unchanged), balance 110.00 USD, runway not burning\n"));
    CHECK(contains(text, "- misc (deepseek): spent 5.00 USD (no earlier data), balance 110.00 USD, runway -\n"));
    const auto bots = text.find("team: bots\n");
    const auto research = text.find("team: research\n");
    const auto none = text.find("team: (none)\n");
    REQUIRE(bots != std::string::npos);
    REQUIRE(research != std::string::npos);
    REQUIRE(none != std::string::npos);
    CHECK(bots < research);
    CHECK(research < none);
    CHECK(text.find("ds-prod") > bots);
    CHECK(text.find("ds-prod") < research);

    SUBCASE("ungrouped: one list by name, no headings") {
      Digest d = known_digest();
      d.group_by.clear();
      const std::string flat = creditwatch::notify::digest_text(d);
      CHECK_FALSE(contains(flat, "team:"));
      CHECK(flat.find("- ds-prod") < flat.find("- misc"));
      CHECK(flat.find("- misc") < flat.find("- or-dev"));
    }
  }

  TEST_CASE("digest JSON keeps every figure through the outbox and folds hostile text") {
    Digest d = known_digest();
    d.accounts[0].labels["team"] = std::string("ops\n\0evil", 10);
    const json j = creditwatch::notify::to_json(d);
    CHECK(j["kind"] == "digest");
    CHECK(creditwatch::notify::is_digest_payload(j));
    CHECK_FALSE(creditwatch::notify::is_digest_payload(creditwatch::notify::to_json(creditwatch::testing::critical_runway())));
    const Digest back = creditwatch::notify::digest_from_json(json::parse(creditwatch::notify::json_text(j)));
    CHECK(back.period_start == d.period_start);
    CHECK(back.period_end == d.period_end);
    CHECK(back.group_by == "team");
    REQUIRE(back.accounts.size() == 3);
    CHECK(creditwatch::notify::digest_text(back).find("top up 90.00 USD") != std::string::npos);
    for (const auto& a : back.accounts) {
      const auto& original = *std::find_if(d.accounts.begin(), d.accounts.end(),
                                           [&](const DigestAccount& x) { return x.account == a.account; });
      CHECK(a.spend == original.spend);
      CHECK(a.previous_spend == original.previous_spend);
      CHECK(a.deposits == original.deposits);
      CHECK(a.recommended_topup == original.recommended_topup);
      CHECK(a.alerts == original.alerts);
      CHECK(a.runway_days.has_value() == original.runway_days.has_value());
    }
    const auto& misc = *std::find_if(back.accounts.begin(), back.accounts.end(),
                                     [](const DigestAccount& x) { return x.account == "misc"; });
    CHECK(creditwatch::safe_text(misc.labels.at("team")) == misc.labels.at("team"));
    CHECK(misc.labels.at("team").find('\n') == std::string::npos);
  }

  TEST_CASE("slack gets the digest as Block Kit: a header, the totals and a section per team") {
    FakeSink sink;
    sink.reply(200, "ok", "text/plain");
    Settings s;
    s["webhook_url"] = secret_setting(sink.url() + "/services/T0/B0/SECRET", 21);
    auto slack = build_notifier(notifier_config("slack", s));
    CurlClient client;
    const auto result = slack->send_digest(known_digest(), client);
    CHECK(result.outcome == Outcome::delivered);
    const json body = strict_json(sink.only_request().body);
    const auto& blocks = body["blocks"];
    REQUIRE(blocks.size() == 6);  // header, totals, three groups, context
    CHECK(blocks[0]["type"] == "header");
    CHECK(blocks[0]["text"]["text"].get<std::string>().rfind("creditwatch digest 2026-11-30 09:00", 0) == 0);
    CHECK(blocks[1]["text"]["text"] == ":bar_chart: Spend 35.00 USD (+250.0% vs 10.00), deposits 50.00 USD");
    const std::string bots = blocks[2]["text"]["text"];
    CHECK(bots.rfind("*team: bots*\n• ds-prod (deepseek): spent 30.00 USD (+200.0% vs 10.00)", 0) == 0);
    CHECK(blocks[4]["text"]["text"].get<std::string>().rfind("*team: (none)*", 0) == 0);
    CHECK(blocks[5]["type"] == "context");
    CHECK(body["text"] == creditwatch::notify::digest_text(known_digest()));

    SUBCASE("hundreds of accounts stay within Slack's 50 blocks, the text keeps them all") {
      Digest big = known_digest();
      for (int i = 0; i < 200; ++i) {
        big.accounts.push_back(line("acct-" + std::to_string(i), "team-" + std::to_string(i % 60), "1", "1"));
      }
      REQUIRE(slack->send_digest(big, client).outcome == Outcome::delivered);
      const json many = strict_json(sink.requests(2).back().body);
      CHECK(many["blocks"].size() <= 50);
      const std::string context = many["blocks"].back()["elements"][0]["text"];
      CHECK(contains(context, "more lines in the message text"));
      CHECK(contains(many["text"].get<std::string>(), "acct-199"));
    }
    SUBCASE("mrkdwn control characters in names are escaped") {
      Digest d = known_digest();
      d.accounts[0].account = "a<b>&c";
      REQUIRE(slack->send_digest(d, client).outcome == Outcome::delivered);
      const std::string text = strict_json(sink.requests(2).back().body).dump();
      CHECK(contains(text, "a&lt;b&gt;&amp;c"));
    }
  }

  TEST_CASE("webhook gets the digest's own JSON, signed like an alert") {
    FakeSink sink;
    Settings s;
    s["url"] = secret_setting(sink.url() + "/hook", 21);
    s["secret"] = secret_setting("hmac-key", 22);
    auto hook = build_notifier(notifier_config("webhook", s));
    CurlClient client;
    REQUIRE(hook->send_digest(known_digest(), client).outcome == Outcome::delivered);
    const auto request = sink.only_request();
    const json body = strict_json(request.body);
    CHECK(body["kind"] == "digest");
    CHECK(body["version"] == "1");
    CHECK(body["period_start"] == "2026-11-30T09:00:00Z");
    CHECK(body["period_end"] == "2026-12-07T09:00:00Z");
    CHECK(body["dedup_key"] == "creditwatch-digest-2026-12-07T09:00:00Z");
    CHECK(body["group_by"] == "team");
    CHECK(body["alerts_fired"] == 1);
    CHECK(body["topups_recommended"] == 1);
    CHECK(body["groups"][0] == json{{"name", "bots"}, {"accounts", {"ds-prod"}}});
    const auto& ds = body["accounts"][0];
    CHECK(ds["account"] == "ds-prod");
    CHECK(ds["spend"] == "30.00");
    CHECK(ds["previous_spend"] == "10.00");
    CHECK(ds["spend_change_percent"].get<double>() == doctest::Approx(200.0));
    CHECK(ds["deposits"] == "50.00");
    CHECK(ds["balance"] == "110.00");
    CHECK(ds["runway_days"].get<double>() == doctest::Approx(12.5));
    CHECK(ds["recommended_topup"] == "90.00");
    CHECK(ds["alerts"] == json{"runway (critical)"});
    const auto& idle = body["accounts"][1];
    CHECK(idle["runway_days"].is_null());
    CHECK(idle["burning"] == false);
    CHECK(body["accounts"][2]["previous_spend"].is_null());
    CHECK(request.header("X-Creditwatch-Signature").rfind("sha256=", 0) == 0);
  }

  TEST_CASE("email gets the digest as a text part and an HTML table per team") {
    SmtpServer smtp;
    Settings s;
    s["smtp_url"] = scalar_setting(smtp.url(), 21);
    s["starttls"] = scalar_setting("off", 22);
    s["from"] = scalar_setting("creditwatch@example.com", 23);
    s["to"] = creditwatch::testing::list_setting({"billing@example.com"}, 24);
    auto mail = build_notifier(notifier_config("email", s));
    CurlClient client;
    Digest d = known_digest();
    d.accounts[2].labels["team"] = "<b>bots</b> & co";
    const auto result = mail->send_digest(d, client);
    INFO(result.message << "\n" << smtp.log());
    REQUIRE(result.outcome == Outcome::delivered);
    const auto messages = smtp.messages();
    REQUIRE(messages.size() == 1);
    const auto& m = messages[0];
    CHECK(m["headers"]["Subject"] ==
          "creditwatch digest 2026-11-30 09:00 to 2026-12-07 09:00 UTC: 3 accounts, 1 alert fired, 1 top-up recommended");
    CHECK(m["headers"]["X-Creditwatch-Dedup-Key"] == "creditwatch-digest-2026-12-07T09:00:00Z");
    const std::string text = m["parts"]["text/plain"];
    const std::string html = m["parts"]["text/html"];
    CHECK(contains(text, "ds-prod (deepseek): spent 30.00 USD (+200.0% vs 10.00)"));
    CHECK(contains(html, "<h3>team: &lt;b&gt;bots&lt;/b&gt; &amp; co</h3>"));
    CHECK_FALSE(contains(html, "<b>bots"));
    CHECK(contains(html, "<th>Account</th><th>Provider</th><th>Spend</th><th>Change</th><th>Deposits</th>"));
    CHECK(contains(html, "<tr><td>ds-prod</td><td>deepseek</td><td align=\"right\">30.00 USD</td><td>+200.0% vs "
                         "10.00</td><td align=\"right\">50.00 USD</td>"));
    CHECK(contains(html, "runway (critical)"));
  }

  TEST_CASE("sinks without a format of their own send the digest's text through their text path") {
    FakeSink sink;
    Settings s;
    s["url"] = scalar_setting(sink.url(), 21);
    s["topic"] = scalar_setting("billing", 22);
    auto ntfy = build_notifier(notifier_config("ntfy", s));
    CurlClient client;
    REQUIRE(ntfy->send_digest(known_digest(), client).outcome == Outcome::delivered);
    const auto request = sink.only_request();
    CHECK(request.body == creditwatch::notify::digest_text(known_digest()));
    CHECK(contains(request.header("Title"), "creditwatch digest 2026-11-30 09:00"));
    CHECK(request.header("Priority") == "2");
  }

  TEST_CASE("incident tools refuse a digest without calling out") {
    FakeSink sink;
    Settings s;
    s["routing_key"] = secret_setting("R0123456789012345678901234567890", 21);
    s["url"] = scalar_setting(sink.url() + "/v2/enqueue", 22);
    auto pager = build_notifier(notifier_config("pagerduty", s));
    CurlClient client;
    const auto result = pager->send_digest(known_digest(), client);
    CHECK(result.outcome == Outcome::permanent);
    CHECK(result.message == "this notifier does not take digests");
    CHECK(sink.server.request_count() == 0);
  }

  TEST_CASE("a queued digest goes through the outbox with retries and backoff like an alert") {
    TempDir dir;
    SqliteStore store(dir.file("creditwatch.db"));
    FakeClock clock(at("2026-12-07T09:00:01Z"));
    const Digest d = known_digest();
    OutboxRow row;
    row.created = clock.now();
    row.notifier = "chat";
    row.dedup_key = d.dedup_key();
    row.payload_json = creditwatch::notify::json_text(creditwatch::notify::to_json(d));
    row.next_attempt = clock.now();
    REQUIRE(store.enqueue_once(row));
    CHECK_FALSE(store.enqueue_once(row));  // the period's digest is in the outbox once

    Outbox outbox(store, clock, RetryPolicy{1s, 5min, 24h, 0.2});
    DigestRecorder chat;
    chat.then({Outcome::retry, "HTTP 503: busy", 503, std::nullopt});
    CurlClient client;
    const auto next = outbox.deliver_due("chat", chat, client);
    REQUIRE(next);
    CHECK(*next - clock.now() >= 800ms);
    CHECK(*next - clock.now() <= 1200ms);
    auto rows = store.notifications();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].state == OutboxState::pending);
    CHECK(rows[0].last_error == "HTTP 503: busy");

    clock.set(*next);
    CHECK_FALSE(outbox.deliver_due("chat", chat, client));
    CHECK(chat.sent() == std::vector<std::string>{d.dedup_key(), d.dedup_key()});
    rows = store.notifications();
    CHECK(rows[0].state == OutboxState::delivered);
    CHECK(rows[0].attempts == 2);
    CHECK_FALSE(store.enqueue_once(row));  // delivered still counts: no second digest for the period
  }
}
