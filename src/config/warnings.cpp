#include "creditwatch/config/warnings.hpp"

#include "creditwatch/config/routing.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

namespace creditwatch::config {
namespace {

bool is_field(const std::string& name) {
  return name == "account" || name == "provider" || name == "rule" || name == "severity";
}

std::set<std::string> label_names(const Config& config) {
  std::set<std::string> out;
  for (const auto& account : config.accounts) {
    for (const auto& [name, value] : account.labels) out.insert(name);
  }
  return out;
}

SourceLocation where_of(const RouteConfig& route, const std::string& name) {
  auto it = route.match_where.find(name);
  return it != route.match_where.end() ? it->second : route.where;
}

void check_route_conditions(const RouteConfig& route, std::size_t index, const std::set<std::string>& labels,
                            std::vector<ConfigWarning>& out) {
  const std::string which = "route " + std::to_string(index + 1);
  for (const auto& [name, value] : route.match.conditions()) {
    if (auto why = alerts::impossible_condition(name, value)) {
      out.push_back({where_of(route, name), which + " can never match: " + *why});
    } else if (!is_field(name) && !labels.count(name) && !alerts::glob_match(value, "")) {
      // A missing label reads as "", so only a pattern that "" cannot meet is hopeless.
      out.push_back({where_of(route, name), which + " can never match: no account has the label \"" + name + "\""});
    }
  }
}

void check_routes(const Config& config, std::vector<ConfigWarning>& out) {
  const auto labels = label_names(config);
  std::optional<std::size_t> catch_all;  // the first catch-all that stops the walk
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    const auto& route = config.routes[i];
    if (catch_all) {
      out.push_back({route.where, "route " + std::to_string(i + 1) + " can never match: route " +
                                      std::to_string(*catch_all + 1) +
                                      " before it matches every alert and has no `continue: true`"});
      continue;
    }
    check_route_conditions(route, i, labels, out);
    if (is_catch_all(route) && !route.continue_matching) catch_all = i;
  }
}

// Notifier names something sends to. Hook: a section that notifies (the digest's
// `digest.notify`) adds its names here, so its notifiers are not reported as unused.
std::set<std::string> named_notifiers(const Config& config) {
  std::set<std::string> out;
  for (const auto& route : config.routes) out.insert(route.notify.begin(), route.notify.end());
  for (const auto& account : config.accounts) out.insert(account.notify.begin(), account.notify.end());
  for (const auto& step : config.escalate) out.insert(step.notify.begin(), step.notify.end());
  if (config.digest) out.insert(config.digest->notify.begin(), config.digest->notify.end());
  return out;
}

// Whether some notification can end at the default: an account without its own `notify`
// list, and no route that matches everything first.
bool default_reachable(const Config& config) {
  const bool open_account = std::any_of(config.accounts.begin(), config.accounts.end(),
                                        [](const AccountConfig& a) { return a.notify.empty(); });
  const bool caught = std::any_of(config.routes.begin(), config.routes.end(), is_catch_all);
  return open_account && !caught;
}

void check_notifiers(const Config& config, std::vector<ConfigWarning>& out) {
  const auto named = named_notifiers(config);
  // With no routes, the default (every notifier) is the plain setup, not an oversight.
  if (config.routes.empty() && default_reachable(config)) return;
  for (const auto& notifier : config.notifiers) {
    if (named.count(notifier.name)) continue;
    const std::string who = "notifier \"" + notifier.name + "\"";
    if (default_reachable(config)) {
      out.push_back({notifier.where, who + " is named by no route, account notify, escalation step or digest: it only "
                                           "gets the alerts no route matches"});
    } else {
      out.push_back({notifier.where, who + " is never used: no route, account notify, escalation step or digest names it"});
    }
  }
}

}  // namespace

std::string ConfigWarning::to_string() const {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": warning: " + message;
}

std::vector<ConfigWarning> config_warnings(const Config& config) {
  std::vector<ConfigWarning> out;
  check_routes(config, out);
  check_notifiers(config, out);
  std::stable_sort(out.begin(), out.end(), [](const ConfigWarning& a, const ConfigWarning& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  return out;
}

}  // namespace creditwatch::config
