#include "creditwatch/common/html.hpp"
#include "creditwatch/common/text.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

using creditwatch::closest_match;
using creditwatch::cut_text;
using creditwatch::html_escape;
using creditwatch::LineBreaks;
using creditwatch::redact;
using creditwatch::safe_text;
using creditwatch::trim;
using creditwatch::valid_utf8;

namespace {

const std::string k_fffd = "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER

std::string repeat(const std::string& piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

}  // namespace

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

  TEST_CASE("safe_text keeps valid text as it is") {
    for (const std::string text : {"", "plain ASCII", "余额不足，请充值。", "emoji 😀 and é", "two\nlines\tand a tab",
                                   "\xF4\x8F\xBF\xBF is the last code point"}) {
      CHECK(safe_text(text) == text);
    }
  }

  TEST_CASE("safe_text replaces each ill-formed sequence by one U+FFFD") {
    SUBCASE("a stray continuation byte") { CHECK(safe_text("a\x80z") == "a" + k_fffd + "z"); }
    SUBCASE("bytes that never start a sequence") {
      CHECK(safe_text("\xFF\xFE") == k_fffd + k_fffd);
      CHECK(safe_text("\xF5\x80\x80\x80") == repeat(k_fffd, 4));
    }
    SUBCASE("a character cut short, at the end or before other text") {
      CHECK(safe_text("\xE4\xB8") == k_fffd);  // the first two bytes of 中: one maximal subpart
      CHECK(safe_text("\xE4\xB8x") == k_fffd + "x");
      CHECK(safe_text("\xF0\x9F\x98") == k_fffd);  // 😀 without its last byte
      CHECK(safe_text("\xC3") == k_fffd);
      CHECK(safe_text("\xC3\xC3\xA9") == k_fffd + "\xC3\xA9");  // the second lead starts é
    }
    SUBCASE("overlong encodings") {
      CHECK(safe_text("\xC0\xAF") == k_fffd + k_fffd);  // '/' in two bytes
      CHECK(safe_text("\xC1\xBF") == k_fffd + k_fffd);
      CHECK(safe_text("\xE0\x80\xAF") == repeat(k_fffd, 3));
      CHECK(safe_text("\xF0\x80\x80\xAF") == repeat(k_fffd, 4));
    }
    SUBCASE("UTF-16 surrogates encoded in UTF-8") {
      CHECK(safe_text("\xED\xA0\x80") == repeat(k_fffd, 3));          // U+D800
      CHECK(safe_text("\xED\xBF\xBF") == repeat(k_fffd, 3));          // U+DFFF
      CHECK(safe_text("\xED\x9F\xBF") == "\xED\x9F\xBF");             // U+D7FF is fine
      CHECK(safe_text("\xED\xA0\xBD\xED\xB8\x80") == repeat(k_fffd, 6));  // a CESU-8 pair
    }
    SUBCASE("values past U+10FFFF") { CHECK(safe_text("\xF4\x90\x80\x80") == repeat(k_fffd, 4)); }
  }

  TEST_CASE("safe_text drops NULs and neutralises control characters") {
    SUBCASE("NUL") { CHECK(safe_text(std::string("a\0b\0\0c", 6)) == "abc"); }
    SUBCASE("terminal escapes, backspace, DEL and C1 controls") {
      CHECK(safe_text("\x1B[31mred") == k_fffd + "[31mred");
      CHECK(safe_text("ok\bX") == "ok" + k_fffd + "X");
      CHECK(safe_text("a\x7F") == "a" + k_fffd);
      CHECK(safe_text("a\xC2\x85z") == "a" + k_fffd + "z");  // U+0085 NEXT LINE
    }
    SUBCASE("line breaks kept: CR LF and a lone CR become LF") {
      CHECK(safe_text("a\r\nb\rc\nd\te") == "a\nb\nc\nd\te");
    }
    SUBCASE("line breaks folded for one-line text") {
      CHECK(safe_text("a\r\nb\rc\nd\te", LineBreaks::fold) == "a b c d e");
      CHECK(safe_text("Subject\r\nBcc: victim@example.com", LineBreaks::fold) == "Subject Bcc: victim@example.com");
    }
  }

  TEST_CASE("safe_text always gives valid UTF-8 and is idempotent on random bytes") {
    std::mt19937 random(14);
    const std::string alphabet =
        std::string("a\0\n\r\t\x1B\x7F", 7) + "\x80\xBF\xC0\xC2\xDF\xE0\xE4\xED\xEF\xF0\xF4\xF5\xFF";
    for (int round = 0; round < 20000; ++round) {
      std::string bytes(random() % 12, ' ');
      for (auto& b : bytes) b = alphabet[random() % alphabet.size()];
      for (auto breaks : {LineBreaks::keep, LineBreaks::fold}) {
        const auto once = safe_text(bytes, breaks);
        INFO("round " << round);
        REQUIRE(valid_utf8(once));
        REQUIRE(once.find('\0') == std::string::npos);
        REQUIRE(safe_text(once, breaks) == once);
        if (breaks == LineBreaks::fold) REQUIRE(once.find_first_of("\r\n\t") == std::string::npos);
      }
    }
  }

  TEST_CASE("valid_utf8 tells well-formed text from the rest") {
    CHECK(valid_utf8("余额不足 😀"));
    CHECK(valid_utf8(std::string("nul\0inside", 10)));  // well formed, if unwelcome
    CHECK_FALSE(valid_utf8("\xE4\xB8"));
    CHECK_FALSE(valid_utf8("\xC0\xAF"));
    CHECK_FALSE(valid_utf8("\xED\xA0\x80"));
    CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));
  }

  TEST_CASE("cut_text cuts at a code point boundary with the ellipsis inside the limit") {
    for (const std::string character : {"é", "中", "😀"}) {
      const std::string text = "ab" + repeat(character, 6) + "z";
      for (const std::string ellipsis : {"\xE2\x80\xA6", "...", ""}) {
        for (std::size_t limit = 0; limit <= text.size() + 1; ++limit) {
          INFO(character << " ellipsis '" << ellipsis << "' limit " << limit);
          const auto cut = cut_text(text, limit, ellipsis);
          REQUIRE(cut.size() <= limit);
          REQUIRE(valid_utf8(cut));
          if (limit >= text.size()) {
            REQUIRE(cut == text);
            continue;
          }
          const bool with_ellipsis = limit >= ellipsis.size();
          const std::string kept = with_ellipsis ? cut.substr(0, cut.size() - ellipsis.size()) : cut;
          if (with_ellipsis) REQUIRE(cut.substr(kept.size()) == ellipsis);
          REQUIRE(text.compare(0, kept.size(), kept) == 0);
          // Nothing more would have fitted: the next code point is longer than what is left.
          const std::size_t room = limit - (with_ellipsis ? ellipsis.size() : 0);
          const std::size_t next = kept.size() < 2 ? 1 : (text[kept.size()] == 'z' ? 1 : character.size());
          REQUIRE(kept.size() + next > room);
        }
      }
    }
  }

  TEST_CASE("cut_text leaves text that fits alone and defaults to one ellipsis character") {
    CHECK(cut_text("short", 5) == "short");
    CHECK(cut_text("余额不足", 12) == "余额不足");
    CHECK(cut_text("余额不足", 11) == "余额\xE2\x80\xA6");
    CHECK(cut_text("余额不足", 2) == "");  // no whole character and no ellipsis fit
  }

  TEST_CASE("one MiB of hostile text is made safe and cut quickly") {
    std::string hostile;
    const char raw[] = "余额不足\xE4\xB8\0\x1B\xFF😀\r\n";
    const std::string piece(raw, sizeof raw - 1);
    while (hostile.size() < (1u << 20)) hostile += piece;
    const auto start = std::chrono::steady_clock::now();
    const auto safe = safe_text(hostile, LineBreaks::fold);
    const auto cut = cut_text(safe, 200);
    const auto all_invalid = safe_text(std::string(1u << 20, '\xFF'));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(valid_utf8(safe));
    CHECK(cut.size() <= 200);
    CHECK(valid_utf8(cut));
    CHECK(all_invalid.size() == 3 * (1u << 20));
    // Linear work is a few milliseconds; a quadratic pass over 1 MiB would take minutes.
    CHECK(elapsed < std::chrono::seconds(1));
  }

  TEST_CASE("html_escape turns markup and quotes into entities and keeps other text") {
    CHECK(html_escape("<b>Tom & \"Jerry's\"</b>") == "&lt;b&gt;Tom &amp; &quot;Jerry&#39;s&quot;&lt;/b&gt;");
    CHECK(html_escape("\xE2\x82\xAC 12.50, \xE4\xBD\x99\xE9\xA2\x9D") == "\xE2\x82\xAC 12.50, \xE4\xBD\x99\xE9\xA2\x9D");
    CHECK(html_escape("&amp;") == "&amp;amp;");  // text, not markup: escaped again
    CHECK(html_escape("").empty());
  }
}
