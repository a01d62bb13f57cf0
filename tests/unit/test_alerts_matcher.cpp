#include "creditwatch/alerts/matcher.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

using creditwatch::alerts::AlertFacts;
using creditwatch::alerts::check_matcher_name;
using creditwatch::alerts::glob_match;
using creditwatch::alerts::impossible_condition;
using creditwatch::alerts::Matchers;
// Spelled out: `Matchers({{"a", "b"}})` is ambiguous (a map of one pair, or of the range ["a", "b")).
using Conditions = std::map<std::string, std::string>;
using creditwatch::alerts::Rule;
using creditwatch::alerts::Severity;
// One {name, value} pair in bare braces is ambiguous (std::map also takes two iterators).
using Conditions = std::map<std::string, std::string>;

TEST_CASE("glob: star matches any run, everything else is literal") {
  CHECK(glob_match("ds-*", "ds-prod"));
  CHECK(glob_match("ds-*", "ds-"));
  CHECK_FALSE(glob_match("ds-*", "d-prod"));
  CHECK(glob_match("*-prod", "deepseek-prod"));
  CHECK_FALSE(glob_match("*-prod", "deepseek-prod2"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "x"));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK(glob_match("acct.0?", "acct.0?"));
  CHECK_FALSE(glob_match("acct.0?", "acct.01"));
  CHECK(glob_match("**", "anything"));
  CHECK_FALSE(glob_match("exact", "exactly"));
}

TEST_CASE("glob: a pattern built to backtrack stays fast and right") {
  const std::string text(5000, 'a');
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", text));
  CHECK(glob_match("*a*a*a*a*a*a*a*a*", text));
}

TEST_CASE("matchers: fields and labels, all must hold") {
  const std::map<std::string, std::string> labels{{"team", "bots"}, {"env", "prod"}};
  const AlertFacts alert{"ds-prod", "deepseek", Rule::runway, Severity::critical, &labels};
  CHECK(Matchers().matches(alert));
  CHECK(Matchers(Conditions{{"account", "ds-*"}}).matches(alert));
  CHECK(Matchers(Conditions{{"account", "ds-*"}, {"rule", "runway"}}).matches(alert));
  CHECK_FALSE(Matchers(Conditions{{"account", "ds-*"}, {"rule", "min_balance"}}).matches(alert));
  CHECK(Matchers(Conditions{{"provider", "deepseek"}, {"severity", "critical"}}).matches(alert));
  CHECK_FALSE(Matchers(Conditions{{"severity", "warning"}}).matches(alert));
  CHECK(Matchers(Conditions{{"team", "bots"}}).matches(alert));
  CHECK(Matchers(Conditions{{"team", "b*"}, {"env", "prod"}}).matches(alert));
  CHECK_FALSE(Matchers(Conditions{{"team", "billing"}}).matches(alert));
  SUBCASE("a missing label is the empty string") {
    CHECK_FALSE(Matchers(Conditions{{"region", "eu"}}).matches(alert));
    CHECK(Matchers(Conditions{{"region", ""}}).matches(alert));
    const AlertFacts bare{"x", "deepseek", Rule::stale, Severity::warning, nullptr};
    CHECK(Matchers(Conditions{{"team", "*"}}).matches(bare));
    CHECK_FALSE(Matchers(Conditions{{"team", "bots"}}).matches(bare));
  }
}

TEST_CASE("matchers: names and impossible values are reported") {
  CHECK_FALSE(check_matcher_name("account"));
  CHECK_FALSE(check_matcher_name("team"));
  CHECK_FALSE(check_matcher_name("app.kubernetes.io-name"));
  CHECK(check_matcher_name(""));
  CHECK(check_matcher_name("9team"));
  CHECK(check_matcher_name("te am"));
  CHECK(impossible_condition("rule", "runaway"));
  CHECK_FALSE(impossible_condition("rule", "runway"));
  CHECK_FALSE(impossible_condition("rule", "run*"));
  CHECK(impossible_condition("severity", "fatal"));
  CHECK_FALSE(impossible_condition("severity", "critical"));
  CHECK_FALSE(impossible_condition("team", "anything"));
}
