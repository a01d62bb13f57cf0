// Routing tables in the manner of Alertmanager's own (dispatch/route_test.go): one config,
// then a table of alerts and the notifiers each reaches, with what sent it there.
#include "creditwatch/config/routing.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using creditwatch::alerts::Matchers;
using creditwatch::alerts::Rule;
using creditwatch::alerts::Severity;
using creditwatch::config::AccountConfig;
using creditwatch::config::Config;
using creditwatch::config::Destination;
using creditwatch::config::EscalationStep;
using creditwatch::config::NotifierConfig;
using creditwatch::config::RouteConfig;
using creditwatch::config::route_notification;
using namespace std::chrono_literals;

namespace doctest {
template <>
struct StringMaker<std::vector<Destination>> {
  static String convert(const std::vector<Destination>& list) {
    std::string out = "{";
    for (const auto& d : list) out += " " + d.notifier + " <- " + d.via + ";";
    return (out + " }").c_str();
  }
};
}  // namespace doctest

namespace {

using Destinations = std::vector<Destination>;

NotifierConfig notifier(const std::string& name, const std::string& min_severity = "info") {
  NotifierConfig n;
  n.name = name;
  n.type = "webhook";
  n.min_severity = min_severity;
  return n;
}

AccountConfig account(const std::string& name, const std::string& provider, std::map<std::string, std::string> labels,
                      std::vector<std::string> notify = {}) {
  AccountConfig a;
  a.name = name;
  a.provider = provider;
  a.labels = std::move(labels);
  a.notify = std::move(notify);
  return a;
}

RouteConfig route(std::map<std::string, std::string> match, std::vector<std::string> notify, bool next = false) {
  RouteConfig r;
  r.match = Matchers(std::move(match));
  r.notify = std::move(notify);
  r.continue_matching = next;
  return r;
}

struct Case {
  const char* what;
  AccountConfig account;
  Rule rule;
  Severity severity;
  Destinations expected;
};

void check_table(const Config& config, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(route_notification(config, c.account, c.rule, c.severity) == c.expected);
  }
}

// A team split in the style of route_test.go's fixture: billing and bots route by label,
// deepseek accounts go to a channel of their own and then on, pagers take only critical.
Config team_config() {
  Config c;
  c.notifiers = {notifier("billing"), notifier("bots"), notifier("ds-chat"), notifier("oncall", "critical"),
                 notifier("fallback"), notifier("pager")};
  c.routes = {
      route({{"provider", "deepseek"}}, {"ds-chat"}, true),          // 1: continue
      route({{"team", "billing"}}, {"billing"}),                      // 2
      route({{"team", "bots"}, {"severity", "critical"}}, {"oncall", "bots"}),  // 3
      route({{"team", "bots"}}, {"bots"}),                            // 4
      route({{"account", "legacy-*"}}, {}),                           // 5: nowhere on purpose
  };
  EscalationStep step;
  step.after = 15min;
  step.notify = {"pager"};
  step.min_severity = Severity::critical;
  c.escalate = {step};
  return c;
}

}  // namespace

TEST_SUITE("config.routing") {
  TEST_CASE("first match wins, continue goes on, labels and globs and severity select") {
    const Config c = team_config();
    const auto billing = account("acme-billing", "openai", {{"team", "billing"}});
    const auto bots = account("bot-1", "openrouter", {{"team", "bots"}});
    const auto ds_bots = account("ds-bots", "deepseek", {{"team", "bots"}});
    const auto legacy = account("legacy-1", "xai", {});
    const auto loner = account("loner", "xai", {{"team", "research"}});
    check_table(c, {
        {"a label selects its route", billing, Rule::runway, Severity::warning, {{"billing", "route 2 {team=billing}"}}},
        {"first match wins: billing's critical does not fall through to later routes", billing, Rule::runway,
         Severity::critical, {{"billing", "route 2 {team=billing}"}}},
        {"severity is a matcher: critical bots take route 3", bots, Rule::exhausted, Severity::critical,
         {{"oncall", "route 3 {severity=critical, team=bots}"}, {"bots", "route 3 {severity=critical, team=bots}"}}},
        {"a warning skips route 3 and takes route 4", bots, Rule::runway, Severity::warning,
         {{"bots", "route 4 {team=bots}"}}},
        {"continue: the provider route and then the team's", ds_bots, Rule::runway, Severity::warning,
         {{"ds-chat", "route 1 {provider=deepseek}"}, {"bots", "route 4 {team=bots}"}}},
        {"continue and first match together", ds_bots, Rule::runway, Severity::critical,
         {{"ds-chat", "route 1 {provider=deepseek}"},
          {"oncall", "route 3 {severity=critical, team=bots}"},
          {"bots", "route 3 {severity=critical, team=bots}"}}},
        {"a glob on the account name; an empty notify list sends nowhere", legacy, Rule::stale, Severity::critical, {}},
        {"no route matches: the default, every notifier but the escalation's pager", loner, Rule::runway,
         Severity::warning,
         {{"billing", "default"}, {"bots", "default"}, {"ds-chat", "default"}, {"fallback", "default"}}},
        {"the default still honours min_severity", loner, Rule::runway, Severity::critical,
         {{"billing", "default"},
          {"bots", "default"},
          {"ds-chat", "default"},
          {"oncall", "default"},
          {"fallback", "default"}}},
    });
  }

  TEST_CASE("a catch-all route with no match takes everything the routes before it left") {
    Config c = team_config();
    c.routes.push_back(route({}, {"fallback"}));
    const auto loner = account("loner", "xai", {{"team", "research"}});
    const auto unlabelled = account("plain", "xai", {});
    check_table(c, {
        {"an unrouted team goes to the catch-all", loner, Rule::runway, Severity::info, {{"fallback", "route 6 {}"}}},
        {"so does an account without labels", unlabelled, Rule::key_invalid, Severity::critical,
         {{"fallback", "route 6 {}"}}},
    });
  }

  TEST_CASE("an account's own notify list wins over every route") {
    const Config c = team_config();
    const auto own = account("own", "deepseek", {{"team", "billing"}}, {"fallback", "oncall"});
    check_table(c, {
        {"warning: oncall's min_severity drops it", own, Rule::runway, Severity::warning,
         {{"fallback", "account notify"}}},
        {"critical: both", own, Rule::runway, Severity::critical,
         {{"fallback", "account notify"}, {"oncall", "account notify"}}},
    });
  }

  TEST_CASE("without routes every notifier takes what its min_severity allows, as before routes existed") {
    Config c;
    c.notifiers = {notifier("slack"), notifier("mail", "warning"), notifier("pd", "critical")};
    const auto a = account("a", "xai", {});
    check_table(c, {
        {"info", a, Rule::runway, Severity::info, {{"slack", "default"}}},
        {"critical", a, Rule::runway, Severity::critical, {{"slack", "default"}, {"mail", "default"}, {"pd", "default"}}},
    });
  }

  TEST_CASE("a matcher on a missing label reads the empty string, as in Alertmanager") {
    Config c;
    c.notifiers = {notifier("untagged"), notifier("tagged")};
    c.routes = {route({{"team", ""}}, {"untagged"}), route({{"team", "*"}}, {"tagged"})};
    check_table(c, {
        {"no team label", account("x", "xai", {}), Rule::runway, Severity::warning, {{"untagged", "route 1 {team=}"}}},
        {"a team label", account("y", "xai", {{"team", "a"}}), Rule::runway, Severity::warning,
         {{"tagged", "route 2 {team=*}"}}},
    });
  }

  TEST_CASE("a notifier named by two continuing routes is sent one notification") {
    Config c;
    c.notifiers = {notifier("both")};
    c.routes = {route({{"rule", "runway"}}, {"both"}, true), route({}, {"both"})};
    check_table(c, {{"one row", account("x", "xai", {}), Rule::runway, Severity::warning,
                     {{"both", "route 1 {rule=runway}"}}}});
  }

  TEST_CASE("escalation notifiers honour min_severity") {
    Config c = team_config();
    c.escalate[0].notify = {"pager", "oncall"};
    CHECK(creditwatch::config::escalation_notifiers(c, c.escalate[0], Severity::warning) ==
          std::vector<std::string>{"pager"});
    CHECK(creditwatch::config::escalation_notifiers(c, c.escalate[0], Severity::critical) ==
          std::vector<std::string>{"pager", "oncall"});
  }
}
