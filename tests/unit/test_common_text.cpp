#include "creditwatch/common/text.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using creditwatch::closest_match;
using creditwatch::redact;
using creditwatch::trim;

TEST_SUITE("common_text") {
  TEST_CASE("closest_match suggests a plausible typo") {
    const std::vector<std::string> keys = {"storage", "http",     "defaults", "alerting",
                                           "logging", "accounts", "notifiers"};
    SUBCASE("one letter missing") { CHECK(closest_match("acounts", keys) == "accounts"); }
    SUBCASE("one letter extra") { CHECK(closest_match("storagee", keys) == "storage"); }
    SUBCASE("a transposition") { CHECK(closest_match("alertign", keys) == "alerting"); }
    SUBCASE("a substitution") { CHECK(closest_match("notifyers", keys) == "notifiers"); }
    SUBCASE("an exact match is its own best match") { CHECK(closest_match("http", keys) == "http"); }
    SUBCASE("the nearest of several candidates wins") {
      CHECK(closest_match("spend_per_dya", {"start", "spend_per_day", "noise"}) == "spend_per_day");
      CHECK(closest_match("warn_day", {"warn_days", "critical_days", "target_days"}) == "warn_days");
    }
  }

  TEST_CASE("closest_match stays quiet when nothing is close") {
    const std::vector<std::string> keys = {"storage", "http", "defaults", "alerting"};
    CHECK_FALSE(closest_match("completely_unrelated", keys));
    CHECK_FALSE(closest_match("xyz", keys));
    CHECK_FALSE(closest_match("accounts", {}));
    SUBCASE("long words allow proportionally more edits") {
      // A third of the letters may differ: 16 letters allow up to 5 edits.
      CHECK(closest_match("topup_lead_tim", {"topup_lead_time"}) == "topup_lead_time");
      CHECK(closest_match("topup_leadtimexx", {"topup_lead_time"}) == "topup_lead_time");
      CHECK_FALSE(closest_match("interval", {"topup_lead_time"}));
    }
  }

  TEST_CASE("trim removes surrounding whitespace only") {
    CHECK(trim("  sk-abc\n") == "sk-abc");
    CHECK(trim("\t\r\n value \t") == "value");
    CHECK(trim("inner space kept") == "inner space kept");
    CHECK(trim("   ") == "");
    CHECK(trim("") == "");
    CHECK(trim("x") == "x");
  }

  TEST_CASE("redact hides every occurrence of each credential") {
    SUBCASE("one needle, several occurrences") {
      CHECK(redact("key=sk-secret-1 again sk-secret-1", {"sk-secret-1"}) == "key=*** again ***");
    }
    SUBCASE("several needles") {
      CHECK(redact("url https://hooks/T000/abcd token=zzzz9999", {"T000/abcd", "zzzz9999"}) ==
            "url https://hooks/*** token=***");
    }
    SUBCASE("adjacent occurrences") { CHECK(redact("abcdabcd", {"abcd"}) == "******"); }
    SUBCASE("empty and very short needles are ignored so text is not mangled") {
      CHECK(redact("a b c abc", {"", "a", "abc"}) == "a b c abc");
    }
    SUBCASE("text without the needle is unchanged") {
      CHECK(redact("nothing to hide here", {"sk-secret-1"}) == "nothing to hide here");
    }
    SUBCASE("a needle that contains the mask does not loop") { CHECK(redact("x****y", {"****"}) == "x***y"); }
  }
}
