#include "creditwatch/config/config.hpp"

#include "creditwatch/common/time_format.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using creditwatch::config::ConfigErrors;
using creditwatch::config::load_config;
using creditwatch::testing::TempDir;

namespace {

const std::string k_one_account =
    "accounts:\n"
    "  - name: sim\n"
    "    provider: simulated\n";

std::vector<std::string> load_errors(const std::string& path) {
  std::vector<std::string> out;
  try {
    load_config(path);
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) out.push_back(error.to_string());
  }
  return out;
}

}  // namespace

TEST_SUITE("config_maintenance") {
  TEST_CASE("a maintenance window loads with its days, times, zone and matchers") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_one_account +
                                        "maintenance:\n"
                                        "  - name: weekend-deploys\n"
                                        "    days: [sat, Sunday]\n"
                                        "    start: \"22:00\"\n"
                                        "    end: \"02:00\"\n"
                                        "    timezone: Europe/Berlin\n"
                                        "    match: {account: \"ds-*\", team: billing}\n"
                                        "  - name: nightly\n"
                                        "    start: \"3:05\"\n"
                                        "    end: \"03:35\"\n");
    const auto config = load_config(path);
    REQUIRE(config.maintenance.size() == 2);
    const auto& weekend = config.maintenance[0];
    CHECK(weekend.name == "weekend-deploys");
    CHECK(weekend.when.days == std::array<bool, 7>{true, false, false, false, false, false, true});
    CHECK(weekend.when.start_minute == 22 * 60);
    CHECK(weekend.when.end_minute == 2 * 60);
    CHECK(weekend.when.zone.name() == "Europe/Berlin");
    CHECK(weekend.match == std::map<std::string, std::string>{{"account", "ds-*"}, {"team", "billing"}});
    CHECK(weekend.where.line == 5);
    const auto& nightly = config.maintenance[1];
    CHECK(nightly.when.days == std::array<bool, 7>{true, true, true, true, true, true, true});
    CHECK(nightly.when.start_minute == 185);
    CHECK(nightly.when.zone.name() == "UTC");
    CHECK(nightly.match.empty());
  }

  TEST_CASE("bad maintenance windows say where and why") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_one_account +                  // 1..3
                                        "maintenance:\n"             // 4
                                        "  - name: Bad Name\n"       // 5
                                        "    days: [mon, tues, xyz]\n"  // 6
                                        "    start: \"24:00\"\n"     // 7
                                        "    end: 2am\n"             // 8
                                        "    timezone: Europe/Berln\n"  // 9
                                        "    match: {\"bad name\": x, severity: critcal}\n"  // 10
                                        "    every: week\n"          // 11
                                        "  - name: nodays\n"         // 12
                                        "    days: []\n"             // 13
                                        "    timezone: ../etc/passwd\n");  // 14
    const auto errors = load_errors(path);
    const std::vector<std::string> expected{
        path + ":11:5: unknown key \"every\"",
        path + ":6:17: days: \"tues\" is not a day (mon, tue, wed, thu, fri, sat, sun)",
        path + ":6:23: days: \"xyz\" is not a day (mon, tue, wed, thu, fri, sat, sun)",
        path + ":7:12: start must be a time of day \"HH:MM\" (00:00 to 23:59), got \"24:00\"",
        path + ":8:10: end must be a time of day \"HH:MM\" (00:00 to 23:59), got \"2am\"",
        path + ":9:15: timezone: unknown time zone \"Europe/Berln\" (no /usr/share/zoneinfo/Europe/Berln; is the "
               "tzdata package installed?)",
        path + ":10:13: match: \"bad name\" is not a field or label name ([A-Za-z_][A-Za-z0-9_.-]*)",
        path + ":10:38: match: no severity is called \"critcal\" (info, warning, critical)",
        path + ":5:11: maintenance window name \"Bad Name\" must match [a-z0-9][a-z0-9_.-]*",
        path + ":13:11: days must list at least one day (leave it out for every day)",
        path + ":12:5: maintenance window needs start (\"HH:MM\")",
        path + ":12:5: maintenance window needs end (\"HH:MM\")",
        path + ":14:15: timezone: \"../etc/passwd\" is not a time zone name (like Europe/Berlin or UTC)",
    };
    CHECK(errors == expected);
  }

  TEST_CASE("maintenance must be a list of mappings") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_one_account + "maintenance: {name: x}\n");
    CHECK(load_errors(path) == std::vector<std::string>{path + ":4:14: maintenance must be a list"});
  }
}
