// `digest:` in the config (src/config/digest_config.cpp): its schedule, its notifiers, and
// every mistake reported as FILE:LINE:COL.
#include "creditwatch/config/config.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using creditwatch::config::ConfigErrors;
using creditwatch::config::load_config;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// Lines 1-9: one account and four notifiers; `digest:` starts at line 10.
const std::string k_head =
    "accounts:\n"
    "  - name: sim\n"
    "    provider: simulated\n"
    "notifiers:\n"
    "  - {name: chat, type: slack, webhook_url: https://hooks.slack.com/services/T/B/X}\n"
    "  - {name: hook, type: webhook, url: https://hooks.example.com/cw}\n"
    "  - {name: pager, type: pagerduty, routing_key: R0123456789012345678901234567890}\n"
    "  - {name: am, type: alertmanager, url: http://127.0.0.1:9093}\n"
    "  - {name: log, type: console}\n";

std::vector<std::string> errors_of(const TempDir& dir, const std::string& digest) {
  std::vector<std::string> out;
  try {
    load_config(dir.write("c.yaml", k_head + digest));
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) out.push_back(error.to_string());
  }
  return out;
}

}  // namespace

TEST_SUITE("config_digest_config") {
  TEST_CASE("digest reads its schedule, notifiers and grouping") {
    TempDir dir;
    const auto c = load_config(dir.write("c.yaml", k_head +
                                                       "digest:\n"
                                                       "  every: 14d\n"
                                                       "  at: \"Tue 07:30\"\n"
                                                       "  timezone: UTC\n"
                                                       "  notify: [chat, hook]\n"
                                                       "  group_by: team\n"));
    REQUIRE(c.digest);
    CHECK(c.digest->every == 24h * 14);
    CHECK(c.digest->weekday == 2);
    CHECK(c.digest->time_of_day == 7h + 30min);
    CHECK(c.digest->timezone.name() == "UTC");
    CHECK(c.digest->notify == std::vector<std::string>{"chat", "hook"});
    CHECK(c.digest->group_by == "team");
    CHECK(c.digest->where.line == 11);  // the mapping under `digest:`
  }

  TEST_CASE("digest defaults to Monday 09:00 weekly, and 09:00 for shorter periods") {
    TempDir dir;
    SUBCASE("weekly") {
      const auto c = load_config(dir.write("c.yaml", k_head + "digest: {notify: log}\n"));
      REQUIRE(c.digest);
      CHECK(c.digest->every == 24h * 7);
      CHECK(c.digest->weekday == 1);
      CHECK(c.digest->time_of_day == 9h);
      CHECK(c.digest->notify == std::vector<std::string>{"log"});
    }
    SUBCASE("daily") {
      const auto c = load_config(dir.write("c.yaml", k_head + "digest: {every: 1d, notify: [log]}\n"));
      REQUIRE(c.digest);
      CHECK_FALSE(c.digest->weekday);
      CHECK(c.digest->time_of_day == 9h);
    }
    SUBCASE("a zone from the tz database") {
      const auto c = load_config(dir.write("c.yaml", k_head + "digest: {timezone: Europe/Berlin, notify: log}\n"));
      REQUIRE(c.digest);
      CHECK(c.digest->timezone.name() == "Europe/Berlin");
    }
    SUBCASE("no digest section, no digest") {
      CHECK_FALSE(load_config(dir.write("c.yaml", k_head)).digest);
    }
  }

  TEST_CASE("digest refuses incident tools and unknown notifiers at their place in the file") {
    TempDir dir;
    const auto errors = errors_of(dir,
                                  "digest:\n"
                                  "  notify: [chat, pager, am, hooks]\n");
    const std::string file = dir.file("c.yaml");
    CHECK(errors == std::vector<std::string>{
                        file + ":11:18: digest cannot go to \"pager\": pagerduty opens incidents, and a periodic report "
                               "is not one (use a chat, email or webhook notifier)",
                        file + ":11:25: digest cannot go to \"am\": alertmanager opens incidents, and a periodic report "
                               "is not one (use a chat, email or webhook notifier)",
                        file + ":11:29: digest notifies unknown notifier \"hooks\" (did you mean \"hook\"?)"});
  }

  TEST_CASE("digest schedule mistakes say where and what to write instead") {
    TempDir dir;
    const std::string file = dir.file("c.yaml");
    SUBCASE("a time that is not one") {
      CHECK(errors_of(dir, "digest:\n  at: \"Mon 9am\"\n  notify: [log]\n") ==
            std::vector<std::string>{file + ":11:7: at: \"Mon 9am\" is not a time (use \"HH:MM\" or a weekday and a "
                                            "time, e.g. \"Mon 09:00\")"});
    }
    SUBCASE("a weekday with a period that is not whole weeks") {
      CHECK(errors_of(dir, "digest:\n  every: 1d\n  at: \"Mon 09:00\"\n  notify: [log]\n") ==
            std::vector<std::string>{file + ":12:7: at names a weekday, so every must be a whole number of weeks "
                                            "(7d, 14d...), not 1d"});
    }
    SUBCASE("a period under an hour") {
      CHECK(errors_of(dir, "digest:\n  every: 10m\n  at: \"09:00\"\n  notify: [log]\n") ==
            std::vector<std::string>{file + ":11:10: every must be at least 1h"});
    }
    SUBCASE("a time zone the tz database does not have") {
      const auto errors = errors_of(dir, "digest:\n  timezone: Mars/Olympus\n  notify: [log]\n");
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].rfind(file + ":11:13: timezone: unknown time zone \"Mars/Olympus\"", 0) == 0);
    }
    SUBCASE("a time zone with a period of hours") {
      CHECK(errors_of(dir, "digest:\n  every: 12h\n  at: \"09:00\"\n  timezone: Europe/Berlin\n  notify: [log]\n") ==
            std::vector<std::string>{file + ":13:13: timezone needs every to be a whole number of days (12h periods "
                                            "are counted in UTC; leave timezone out)"});
    }
    SUBCASE("no notifiers") {
      CHECK(errors_of(dir, "digest:\n  every: 7d\n") ==
            std::vector<std::string>{file + ":11:3: digest needs notify: the notifiers to send the report to"});
    }
    SUBCASE("an unknown key") {
      CHECK(errors_of(dir, "digest:\n  notify: [log]\n  group: team\n") ==
            std::vector<std::string>{file + ":12:3: unknown key \"group\""});
    }
  }
}
