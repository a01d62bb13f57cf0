// `routes:` and `escalate:` read from YAML: the typed values, and every mistake at its place.
#include "creditwatch/config/config.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using creditwatch::alerts::Severity;
using creditwatch::config::ConfigErrors;
using creditwatch::config::load_config;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& lines) {
    std::string out = "{";
    for (const auto& line : lines) out += "\n  " + line;
    return (out + "\n}").c_str();
  }
};
}  // namespace doctest

namespace {

std::vector<std::string> load_errors(const std::string& path) {
  std::vector<std::string> out;
  try {
    load_config(path);
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) out.push_back(error.to_string());
  }
  return out;
}

// Lines 1-9: two accounts, three notifiers. What a test adds starts at line 10.
const std::string k_base =
    "accounts:\n"                   // 1
    "  - {name: a, provider: simulated, labels: {team: a}}\n"  // 2
    "  - {name: b, provider: simulated, labels: {team: b}}\n"  // 3
    "notifiers:\n"                  // 4
    "  - {name: team-a, type: console}\n"  // 5
    "  - {name: team-b, type: console}\n"  // 6
    "  - name: pager\n"             // 7
    "    type: console\n"           // 8
    "    min_severity: critical\n";  // 9

}  // namespace

TEST_SUITE("config_routing_config") {
  TEST_CASE("routes and escalation steps load with every value typed") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_base +
                                        "routes:\n"
                                        "  - match: {team: a, severity: \"*\"}\n"
                                        "    notify: [team-a]\n"
                                        "    continue: true\n"
                                        "  - match: {account: \"b*\"}\n"
                                        "    notify: team-b\n"
                                        "  - notify: []\n"
                                        "escalate:\n"
                                        "  - after: 15s\n"
                                        "    notify: [pager]\n"
                                        "    min_severity: critical\n"
                                        "  - {after: 2h, notify: [team-a, team-b]}\n");
    const auto c = load_config(path);
    REQUIRE(c.routes.size() == 3);
    CHECK(c.routes[0].match.conditions() == std::map<std::string, std::string>{{"severity", "*"}, {"team", "a"}});
    CHECK(c.routes[0].notify == std::vector<std::string>{"team-a"});
    CHECK(c.routes[0].continue_matching);
    CHECK(c.routes[0].where.line == 11);
    CHECK(c.routes[0].match_where.at("team").line == 11);
    CHECK(c.routes[1].notify == std::vector<std::string>{"team-b"});
    CHECK_FALSE(c.routes[1].continue_matching);
    CHECK(c.routes[2].match.empty());
    CHECK(c.routes[2].notify.empty());
    REQUIRE(c.escalate.size() == 2);
    CHECK(c.escalate[0].after == 15s);
    CHECK(c.escalate[0].notify == std::vector<std::string>{"pager"});
    CHECK(c.escalate[0].min_severity == Severity::critical);
    CHECK(c.escalate[1].after == 2h);
    CHECK(c.escalate[1].min_severity == Severity::warning);
  }

  TEST_CASE("escalate may be one step on its own") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_base + "escalate: {after: 15s, notify: [pager], min_severity: critical}\n");
    const auto c = load_config(path);
    REQUIRE(c.escalate.size() == 1);
    CHECK(c.escalate[0].after == 15s);
    CHECK(c.escalate[0].min_severity == Severity::critical);
  }

  TEST_CASE("unknown notifiers in routes and steps are errors at the name, with a hint") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_base +
                                        "routes:\n"                                // 10
                                        "  - match: {team: a}\n"                   // 11
                                        "    notify: [team-a, taem-b]\n"           // 12
                                        "escalate:\n"                              // 13
                                        "  after: 15s\n"                           // 14
                                        "  notify: pagr\n");                       // 15
    CHECK(load_errors(path) ==
          std::vector<std::string>{
              path + ":12:22: route 1 notifies unknown notifier \"taem-b\" (did you mean \"team-b\"?)",
              path + ":15:11: escalation step 1 notifies unknown notifier \"pagr\" (did you mean \"pager\"?)"});
  }

  TEST_CASE("malformed routes and steps say where and what is wrong") {
    TempDir dir;
    SUBCASE("routes") {
      auto path = dir.write("c.yaml", k_base +
                                          "routes:\n"                                 // 10
                                          "  - match: {\"bad name\": x}\n"            // 11
                                          "    notify: [team-a]\n"                    // 12
                                          "  - match: [team]\n"                       // 13
                                          "    notify: [team-a]\n"                    // 14
                                          "  - match: {team: a}\n"                    // 15
                                          "  - notifiy: [team-a]\n"                   // 16
                                          "    continue: maybe\n"                     // 17
                                          "  - just-a-name\n");                       // 18
      CHECK(load_errors(path) ==
            std::vector<std::string>{
                path + ":11:13: matcher name \"bad name\" is not a field or label name ([A-Za-z_][A-Za-z0-9_.-]*)",
                path + ":13:12: match must be a mapping of account, provider, rule, severity or a label to a value or glob",
                path + ":15:5: a route needs notify: the notifiers it sends to",
                path + ":16:5: unknown key \"notifiy\" (did you mean \"notify\"?)",
                path + ":16:5: a route needs notify: the notifiers it sends to",
                path + ":17:15: continue: expected true or false, got \"maybe\"",
                path + ":18:5: each entry of routes must be a mapping"});
    }
    SUBCASE("escalation steps") {
      auto path = dir.write("c.yaml", k_base +
                                          "escalate:\n"                              // 10
                                          "  - notify: [pager]\n"                    // 11
                                          "  - after: soon\n"                        // 12
                                          "    notify: [pager]\n"                    // 13
                                          "  - after: 0s\n"                          // 14
                                          "    notify: []\n"                         // 15
                                          "    min_severity: severe\n");             // 16
      CHECK(load_errors(path) ==
            std::vector<std::string>{
                path + ":11:5: an escalation step needs after: how long an alert fires unanswered first",
                path + ":12:12: after: invalid duration \"soon\" (use e.g. 500ms, 30s, 5m, 2h, 7d)",
                path + ":14:12: after must be more than 0",
                path + ":15:13: an escalation step needs notify: the notifiers it escalates to",
                path + ":16:19: min_severity: \"severe\" is not one of info, warning, critical"});
    }
    SUBCASE("routes must be a list, escalate a step or a list") {
      auto path = dir.write("c.yaml", k_base + "routes: {team: a}\nescalate: 2h\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":10:9: routes must be a list of {match, notify, continue}",
                                     path + ":11:11: escalate must be a step {after, notify, min_severity} or a list of steps"});
    }
  }
}
