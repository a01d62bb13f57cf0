#pragma once

#include "creditwatch/config/config.hpp"

#include <string>
#include <vector>

namespace creditwatch::config {

// One notifier a notification goes to, and what sent it there: "route 2 {team=a}",
// "account notify" or "default" (what `creditwatch routes` prints beside it).
struct Destination {
  std::string notifier;
  std::string via;

  bool operator==(const Destination&) const = default;
};

// Where a notification about `rule` at `severity` on `account` goes, each notifier once:
//  1. the account's own `notify` list, when it has one (it wins over every route);
//  2. else the routes in order: the first that matches, and the ones after it for as long
//     as each matching route says `continue: true`;
//  3. else (no routes, or none matched) the default: every notifier that no escalation step
//     names, so a pager kept for escalation is not paged by every alert.
// Each notifier's min_severity applies in all three cases. Pure: no I/O, no clock.
std::vector<Destination> route_notification(const Config& config, const AccountConfig& account, alerts::Rule rule,
                                            alerts::Severity severity);

// The notifiers escalation `step` sends an alert at `severity` to: its `notify` list, less
// those whose min_severity is above `severity`.
std::vector<std::string> escalation_notifiers(const Config& config, const EscalationStep& step,
                                              alerts::Severity severity);

// Whether `notifier` takes notifications at `severity` (its min_severity).
bool takes_severity(const NotifierConfig& notifier, alerts::Severity severity);

// A route that matches every alert: no conditions, or only ones like `*`.
bool is_catch_all(const RouteConfig& route);

// Whether an escalation step names `notifier` (it then gets nothing by default).
bool kept_for_escalation(const Config& config, const std::string& notifier);

// "route 2 {rule=runway, team=a}" (1-based, as a person counts the list), "route 3 {}" for a
// catch-all.
std::string describe_route(const RouteConfig& route, std::size_t index);

}  // namespace creditwatch::config
