#include "creditwatch/alerts/silence.hpp"
#include "creditwatch/common/time_format.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

using creditwatch::TimePoint;
using creditwatch::alerts::AlertFacts;
using creditwatch::alerts::Matchers;
// Spelled out: `Matchers({{"a", "b"}})` is ambiguous (a map of one pair, or of the range ["a", "b")).
using Conditions = std::map<std::string, std::string>;
using creditwatch::alerts::Rule;
using creditwatch::alerts::Severity;
using creditwatch::alerts::Silence;
using creditwatch::alerts::silence_from_request;
using namespace std::chrono_literals;

namespace {

const TimePoint k_now = *creditwatch::parse_rfc3339("2026-05-01T12:00:00Z");

std::string refusal(const std::string& body) {
  auto s = silence_from_request(nlohmann::json::parse(body), k_now);
  REQUIRE_FALSE(s.ok());
  return s.error();
}

Silence accepted(const std::string& body) {
  auto s = silence_from_request(nlohmann::json::parse(body), k_now);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
  return *s;
}

}  // namespace

TEST_SUITE("alerts_silence") {
  TEST_CASE("a silence is active from its start up to, not including, its end") {
    Silence s;
    s.starts_at = k_now + 1h;
    s.ends_at = k_now + 3h;
    s.matchers = Matchers(Conditions{{"account", "ds-*"}});
    const std::map<std::string, std::string> labels{{"team", "billing"}};
    const AlertFacts ds{"ds-prod", "deepseek", Rule::runway, Severity::critical, &labels};
    const AlertFacts other{"or-prod", "openrouter", Rule::runway, Severity::critical, &labels};

    CHECK_FALSE(s.active_at(k_now));  // starts in the future: pending
    CHECK(std::string(creditwatch::alerts::silence_status(s, k_now)) == "pending");
    CHECK_FALSE(s.silences(ds, k_now + 1h - 1ms));
    CHECK(s.silences(ds, k_now + 1h));
    CHECK(s.silences(ds, k_now + 3h - 1ms));
    CHECK_FALSE(s.silences(ds, k_now + 3h));  // ends exactly now: over
    CHECK(std::string(creditwatch::alerts::silence_status(s, k_now + 3h)) == "expired");
    CHECK_FALSE(s.silences(other, k_now + 2h));  // active, but another account
    CHECK(std::string(creditwatch::alerts::silence_status(s, k_now + 2h)) == "active");
  }

  TEST_CASE("a request with a duration starts now and ends that long after") {
    const auto s = accepted(
        R"({"matchers": {"account": "ds-*", "rule": "runway"}, "duration": "2h", "comment": "top-up", "created_by": "ana"})");
    CHECK(s.starts_at == k_now);
    CHECK(s.ends_at == k_now + 2h);
    CHECK(s.created_at == k_now);
    CHECK(s.comment == "top-up");
    CHECK(s.created_by == "ana");
    CHECK(s.matchers.conditions() == std::map<std::string, std::string>{{"account", "ds-*"}, {"rule", "runway"}});
    CHECK(s.id.empty());  // the caller draws one
  }

  TEST_CASE("a request with a start and an end, a start in the past meaning now, comment and author optional") {
    const auto s = accepted(
        R"({"matchers": {"team": "billing"}, "starts_at": "2026-05-01T13:00:00Z", "ends_at": "2026-05-01T15:00:00Z"})");
    CHECK(s.starts_at == k_now + 1h);
    CHECK(s.ends_at == k_now + 3h);
    CHECK(s.comment.empty());
    const auto past = accepted(R"({"matchers": {"team": "billing"}, "starts_at": "2026-05-01T10:00:00Z", "duration": "1h"})");
    CHECK(past.starts_at == k_now);
    CHECK(past.ends_at == k_now + 1h);
  }

  TEST_CASE("bad silence requests are refused with the reason") {
    CHECK(refusal(R"([1])") == "the body must be a JSON object");
    CHECK(refusal(R"({"duration": "2h"})").find("matchers is required") == 0);
    CHECK(refusal(R"({"matchers": {}, "duration": "2h"})").find("at least one condition") != std::string::npos);
    CHECK(refusal(R"({"matchers": "ds-*", "duration": "2h"})").find("matchers must be an object") == 0);
    CHECK(refusal(R"({"matchers": {"9team": "x"}, "duration": "2h"})").find("is not a field or label name") !=
          std::string::npos);
    CHECK(refusal(R"({"matchers": {"rule": "runwya"}, "duration": "2h"})") ==
          "matchers.rule: no rule is called \"runwya\"");
    CHECK(refusal(R"({"matchers": {"severity": "page"}, "duration": "2h"})").find("no severity is called") !=
          std::string::npos);
    CHECK(refusal(R"({"matchers": {"account": 3}, "duration": "2h"})") ==
          "matchers.account must be a string (exact, or a glob with *)");
    CHECK(refusal(R"({"matchers": {"account": "a"}})").find("a silence needs an end") == 0);
    CHECK(refusal(R"({"matchers": {"account": "a"}, "duration": "2h", "ends_at": "2026-05-02T00:00:00Z"})") ==
          "give duration or ends_at, not both");
    CHECK(refusal(R"({"matchers": {"account": "a"}, "duration": "soon"})").find("duration must be a positive") == 0);
    CHECK(refusal(R"({"matchers": {"account": "a"}, "duration": "0s"})").find("duration must be a positive") == 0);
    CHECK(refusal(R"({"matchers": {"account": "a"}, "ends_at": "tomorrow"})").find("ends_at must be an RFC 3339") == 0);
    CHECK(refusal(R"({"matchers": {"account": "a"}, "ends_at": "2026-05-01T11:00:00Z"})") ==
          "ends_at must be after starts_at (and after now)");
    CHECK(refusal(R"({"matchers": {"account": "a"}, "ends_at": "2026-05-01T12:00:00Z"})") ==
          "ends_at must be after starts_at (and after now)");
    CHECK(refusal(R"({"matchers": {"account": "a"}, "duraton": "2h"})").find("unknown field \"duraton\"") == 0);
    CHECK(refusal(R"({"matchers": {"account": "a"}, "duration": "2h", "comment": 5})") == "comment must be a string");
    CHECK(refusal(R"({"matchers": {"account": "a"}, "duration": "2h", "created_by": ")" + std::string(300, 'x') + "\"}")
              .find("created_by must be UTF-8 text of at most 200 bytes") == 0);
  }

  TEST_CASE("matchers round-trip through their stored JSON") {
    const Matchers m({{"account", "ds-*"}, {"team", ""}});
    const auto back = creditwatch::alerts::matchers_from_json_text(creditwatch::alerts::matchers_to_json_text(m));
    CHECK(back.conditions() == m.conditions());
    CHECK(creditwatch::alerts::matchers_from_json_text("not json").empty());
  }
}
