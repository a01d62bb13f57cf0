// What `validate` warns about: routes that can never match and notifiers nothing uses.
#include "creditwatch/config/warnings.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using creditwatch::config::config_warnings;
using creditwatch::config::load_config;
using creditwatch::testing::TempDir;

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

std::vector<std::string> warnings_of(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& w : config_warnings(load_config(path))) out.push_back(w.to_string());
  return out;
}

// Lines 1-7: two accounts with a team label, three notifiers.
const std::string k_base =
    "accounts:\n"                                                // 1
    "  - {name: a, provider: simulated, labels: {team: a}}\n"    // 2
    "  - {name: b, provider: simulated, labels: {team: b}}\n"    // 3
    "notifiers:\n"                                               // 4
    "  - {name: team-a, type: console}\n"                        // 5
    "  - {name: team-b, type: console}\n"                        // 6
    "  - {name: pager, type: console}\n";                        // 7

}  // namespace

TEST_SUITE("config_warnings") {
  TEST_CASE("a config whose routes and notifiers all serve a purpose has no warnings") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_base +
                                        "routes:\n"
                                        "  - {match: {team: a}, notify: [team-a]}\n"
                                        "  - {match: {team: b, rule: \"*\"}, notify: [team-b]}\n"
                                        "  - {match: {owner: \"\"}, notify: [team-a], continue: true}\n"
                                        "escalate: {after: 15s, notify: [pager], min_severity: critical}\n");
    CHECK(warnings_of(path).empty());
  }

  TEST_CASE("without routes every notifier is the default's: no warnings") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_base);
    CHECK(warnings_of(path).empty());
  }

  TEST_CASE("routes that can never match") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_base +
                                        "routes:\n"                                                  // 8
                                        "  - match: {rule: runwya}\n"                                // 9
                                        "    notify: [team-a]\n"                                     // 10
                                        "  - match: {severity: severe, team: a}\n"                   // 11
                                        "    notify: [team-a]\n"                                     // 12
                                        "  - match: {owner: billing}\n"                              // 13
                                        "    notify: [team-b]\n"                                     // 14
                                        "  - match: {}\n"                                            // 15
                                        "    notify: [team-a, team-b, pager]\n"                      // 16
                                        "  - match: {team: b}\n"                                     // 17
                                        "    notify: [team-b]\n");                                   // 18
    CHECK(warnings_of(path) ==
          std::vector<std::string>{
              path + ":9:13: warning: route 1 can never match: no rule is called \"runwya\"",
              path + ":11:13: warning: route 2 can never match: no severity is called \"severe\" (info, warning, "
                     "critical)",
              path + ":13:13: warning: route 3 can never match: no account has the label \"owner\"",
              path + ":17:5: warning: route 5 can never match: route 4 before it matches every alert and has no "
                     "`continue: true`"});
  }

  TEST_CASE("a route after a catch-all that continues is not shadowed") {
    TempDir dir;
    auto path = dir.write("c.yaml", k_base +
                                        "routes:\n"
                                        "  - {match: {account: \"*\"}, notify: [pager], continue: true}\n"
                                        "  - {match: {team: a}, notify: [team-a]}\n"
                                        "  - {match: {team: b}, notify: [team-b]}\n");
    CHECK(warnings_of(path).empty());
  }

  TEST_CASE("notifiers nothing sends to") {
    TempDir dir;
    SUBCASE("after a catch-all, an unnamed notifier is never used") {
      auto path = dir.write("c.yaml", k_base + "routes:\n  - notify: [team-a]\n");
      CHECK(warnings_of(path) ==
            std::vector<std::string>{
                path + ":6:5: warning: notifier \"team-b\" is never used: no route, account notify, escalation step or "
                       "digest names it",
                path + ":7:5: warning: notifier \"pager\" is never used: no route, account notify, escalation step or "
                       "digest names it"});
    }
    SUBCASE("when every account lists its own notifiers") {
      auto path = dir.write("c.yaml",
                            "accounts:\n"
                            "  - {name: a, provider: simulated, notify: [team-a]}\n"
                            "notifiers:\n"
                            "  - {name: team-a, type: console}\n"
                            "  - {name: spare, type: console}\n");
      CHECK(warnings_of(path) ==
            std::vector<std::string>{path + ":5:5: warning: notifier \"spare\" is never used: no route, account "
                                            "notify, escalation step or digest names it"});
    }
    SUBCASE("with routes but no catch-all, an unnamed notifier only gets what no route matches") {
      auto path = dir.write("c.yaml", k_base + "routes:\n  - {match: {team: a}, notify: [team-a]}\n" +
                                          "escalate: {after: 1h, notify: [pager]}\n");
      CHECK(warnings_of(path) ==
            std::vector<std::string>{path + ":6:5: warning: notifier \"team-b\" is named by no route, account notify, "
                                            "escalation step or digest: it only gets the alerts no route matches"});
    }
  }
}
