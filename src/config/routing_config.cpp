#include "routing_config.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"

#include <set>

namespace creditwatch::config {
namespace {

const std::vector<std::string> k_route_keys = {"match", "notify", "continue"};
const std::vector<std::string> k_step_keys = {"after", "notify", "min_severity"};
const std::vector<std::string> k_severities = {"info", "warning", "critical"};

// `match:` maps a matcher name to a value or glob. A name no alert has is an error; a value
// no alert can have (`rule: runwya`) is only a warning, from `validate` (config/warnings.hpp).
void read_match(ConfigReader& r, const YAML::Node& route_node, RouteConfig& route) {
  const YAML::Node node = route_node["match"];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    r.error(node, "match must be a mapping of account, provider, rule, severity or a label to a value or glob");
    return;
  }
  std::map<std::string, std::string> conditions;
  r.string_map(route_node, "match", conditions);
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    if (auto why = alerts::check_matcher_name(name)) r.error(entry.first, *why);
    route.match_where[name] = r.location(entry.first);
  }
  route.match = alerts::Matchers(std::move(conditions));
}

RouteConfig read_route(ConfigReader& r, const YAML::Node& node) {
  RouteConfig route;
  route.where = r.location(node);
  r.check_keys(node, k_route_keys);
  read_match(r, node, route);
  // `notify: []` is allowed on purpose: what the route matches is then sent nowhere (as
  // Alertmanager's empty receiver), and later routes do not see it.
  if (!r.string_list(node, "notify", route.notify) && !node["notify"].IsDefined()) {
    r.error(node, "a route needs notify: the notifiers it sends to");
  }
  r.boolean(node, "continue", route.continue_matching);
  return route;
}

EscalationStep read_step(ConfigReader& r, const YAML::Node& node) {
  EscalationStep step;
  step.where = r.location(node);
  r.check_keys(node, k_step_keys);
  if (!node["after"].IsDefined()) {
    r.error(node, "an escalation step needs after: how long an alert fires unanswered first");
  } else if (r.duration(node, "after", step.after) && step.after <= Duration(0)) {
    r.error(node["after"], "after must be more than 0");
  }
  if (!r.string_list(node, "notify", step.notify) || step.notify.empty()) {
    r.error(r.at(node, "notify"), "an escalation step needs notify: the notifiers it escalates to");
  }
  std::string severity;
  if (r.one_of(node, "min_severity", k_severities, severity)) {
    step.min_severity = alerts::parse_severity(severity).value_or(alerts::Severity::warning);
  }
  return step;
}

// `notify:` of `owner` (a route or a step node): a list, or one name on its own.
void check_names(ConfigReader& r, const YAML::Node& owner, const std::vector<std::string>& names,
                 const std::set<std::string>& known, const std::string& what) {
  const std::vector<std::string> candidates(known.begin(), known.end());
  const YAML::Node notify = r.at(owner, "notify");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (known.count(names[i])) continue;
    std::string message = what + " notifies unknown notifier \"" + names[i] + "\"";
    if (auto hint = closest_match(names[i], candidates)) message += " (did you mean \"" + *hint + "\"?)";
    r.error(notify.IsSequence() && i < notify.size() ? notify[i] : notify, message);
  }
}

}  // namespace

void read_routes(ConfigReader& r, const YAML::Node& node, std::vector<RouteConfig>& out) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    r.error(node, "routes must be a list of {match, notify, continue}");
    return;
  }
  for (const auto& item : node) {
    if (!item.IsMap()) {
      r.error(item, "each entry of routes must be a mapping");
      continue;
    }
    out.push_back(read_route(r, item));
  }
}

void read_escalation(ConfigReader& r, const YAML::Node& node, std::vector<EscalationStep>& out) {
  if (node.IsNull()) return;
  if (node.IsMap()) {  // one step on its own
    out.push_back(read_step(r, node));
    return;
  }
  if (!node.IsSequence()) {
    r.error(node, "escalate must be a step {after, notify, min_severity} or a list of steps");
    return;
  }
  for (const auto& item : node) {
    if (!item.IsMap()) {
      r.error(item, "each step of escalate must be a mapping");
      continue;
    }
    out.push_back(read_step(r, item));
  }
}

void check_route_notifiers(ConfigReader& r, const Config& c, const YAML::Node& root) {
  std::set<std::string> known;
  for (const auto& n : c.notifiers) known.insert(n.name);
  const YAML::Node routes = root["routes"];
  for (std::size_t i = 0; i < c.routes.size(); ++i) {
    check_names(r, routes[i], c.routes[i].notify, known, "route " + std::to_string(i + 1));
  }
  const YAML::Node escalate = root["escalate"];
  for (std::size_t i = 0; i < c.escalate.size(); ++i) {
    const YAML::Node step = escalate.IsMap() ? escalate : escalate[i];
    check_names(r, step, c.escalate[i].notify, known, "escalation step " + std::to_string(i + 1));
  }
}

}  // namespace creditwatch::config
