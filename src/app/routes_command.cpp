// `creditwatch routes`: where a notification would go, as `amtool config routes test` shows
// for Alertmanager. Reads the config only; nothing is sent.
#include "creditwatch/app/commands.hpp"
#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/config/routing.hpp"

#include <algorithm>
#include <iostream>

namespace creditwatch::app {
namespace {

std::vector<std::string> names_of(const std::vector<config::AccountConfig>& accounts) {
  std::vector<std::string> out;
  for (const auto& a : accounts) out.push_back(a.name);
  return out;
}

std::vector<std::string> rule_names() {
  std::vector<std::string> out;
  for (auto rule : alerts::all_rules()) out.push_back(alerts::to_string(rule));
  return out;
}

// Says why `value` is not one of `known` on stderr; returns 1.
int unknown(const std::string& what, const std::string& value, const std::vector<std::string>& known) {
  std::cerr << "creditwatch: no " << what << " \"" << value << "\"";
  if (auto hint = closest_match(value, known)) std::cerr << " (did you mean \"" << *hint << "\"?)";
  std::cerr << "\n";
  return 1;
}

struct Line {
  std::string notifier;
  std::string via;
};

// The escalation steps that would also send this alert, should it fire that long unanswered.
void add_escalations(const config::Config& c, alerts::Severity severity, std::vector<Line>& lines) {
  for (std::size_t i = 0; i < c.escalate.size(); ++i) {
    const auto& step = c.escalate[i];
    if (severity < step.min_severity) continue;
    for (const auto& name : config::escalation_notifiers(c, step, severity)) {
      lines.push_back({name, "escalation step " + std::to_string(i + 1) + " (after " + format_duration(step.after) +
                                 " unacknowledged at " + alerts::to_string(step.min_severity) + " or above)"});
    }
  }
}

}  // namespace

int routes_command(const RoutesOptions& options) {
  const auto c = config::load_config(options.config_path);
  const auto* account = c.find_account(options.account);
  if (!account) return unknown("account", options.account, names_of(c.accounts));
  const auto rule = alerts::parse_rule(options.rule);
  if (!rule) return unknown("rule", options.rule, rule_names());
  const auto severity = alerts::parse_severity(options.severity);
  if (!severity) return unknown("severity", options.severity, {"info", "warning", "critical"});

  std::vector<Line> lines;
  for (auto& d : config::route_notification(c, *account, *rule, *severity)) lines.push_back({d.notifier, d.via});
  if (lines.empty()) std::cout << "(no notifier: nothing is sent at once)\n";
  add_escalations(c, *severity, lines);
  std::size_t width = 0;
  for (const auto& line : lines) width = std::max(width, line.notifier.size());
  for (const auto& line : lines) {
    std::cout << line.notifier << std::string(width - line.notifier.size() + 2, ' ') << line.via << "\n";
  }
  return 0;
}

}  // namespace creditwatch::app
