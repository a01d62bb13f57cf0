#include "creditwatch/config/routing.hpp"

#include <algorithm>

namespace creditwatch::config {
namespace {

const NotifierConfig* find_notifier(const Config& config, const std::string& name) {
  for (const auto& n : config.notifiers) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

// Adds `name` once (the first reason wins), if it is a notifier taking `severity`.
void add(std::vector<Destination>& out, const Config& config, const std::string& name, const std::string& via,
         alerts::Severity severity) {
  const auto* notifier = find_notifier(config, name);
  if (!notifier || !takes_severity(*notifier, severity)) return;
  const bool seen = std::any_of(out.begin(), out.end(), [&](const Destination& d) { return d.notifier == name; });
  if (!seen) out.push_back({name, via});
}

// The routes' answer, or nothing when no route matched (`matched` says which).
std::vector<Destination> walk_routes(const Config& config, const alerts::AlertFacts& alert, bool& matched) {
  std::vector<Destination> out;
  matched = false;
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    const auto& route = config.routes[i];
    if (!route.match.matches(alert)) continue;
    matched = true;
    for (const auto& name : route.notify) add(out, config, name, describe_route(route, i), alert.severity);
    if (!route.continue_matching) break;
  }
  return out;
}

}  // namespace

bool takes_severity(const NotifierConfig& notifier, alerts::Severity severity) {
  return severity >= alerts::parse_severity(notifier.min_severity).value_or(alerts::Severity::info);
}

bool is_catch_all(const RouteConfig& route) {
  return std::all_of(route.match.conditions().begin(), route.match.conditions().end(), [](const auto& condition) {
    return condition.second.find_first_not_of('*') == std::string::npos;
  });
}

bool kept_for_escalation(const Config& config, const std::string& notifier) {
  return std::any_of(config.escalate.begin(), config.escalate.end(), [&](const EscalationStep& step) {
    return std::find(step.notify.begin(), step.notify.end(), notifier) != step.notify.end();
  });
}

std::string describe_route(const RouteConfig& route, std::size_t index) {
  std::string conditions;
  for (const auto& [name, value] : route.match.conditions()) {
    conditions += (conditions.empty() ? "" : ", ") + name + "=" + value;
  }
  return "route " + std::to_string(index + 1) + " {" + conditions + "}";
}

std::vector<Destination> route_notification(const Config& config, const AccountConfig& account, alerts::Rule rule,
                                            alerts::Severity severity) {
  std::vector<Destination> out;
  if (!account.notify.empty()) {
    for (const auto& name : account.notify) add(out, config, name, "account notify", severity);
    return out;
  }
  const alerts::AlertFacts alert{account.name, account.provider, rule, severity, &account.labels};
  bool matched = false;
  out = walk_routes(config, alert, matched);
  if (matched) return out;
  // The default. Leaving out the notifiers escalation steps name is a choice: without it
  // `escalate: {notify: [pager]}` would page the pager with every alert from the start.
  for (const auto& notifier : config.notifiers) {
    if (!kept_for_escalation(config, notifier.name)) add(out, config, notifier.name, "default", severity);
  }
  return out;
}

std::vector<std::string> escalation_notifiers(const Config& config, const EscalationStep& step,
                                              alerts::Severity severity) {
  std::vector<Destination> found;
  for (const auto& name : step.notify) add(found, config, name, "", severity);
  std::vector<std::string> out;
  for (auto& d : found) out.push_back(std::move(d.notifier));
  return out;
}

}  // namespace creditwatch::config
