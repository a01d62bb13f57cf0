#include "creditwatch/app/commands.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/scheduler/runtime.hpp"

#include <iostream>

namespace creditwatch::app {
namespace {

notify::Notification test_notification(const config::Config& c, TimePoint now) {
  notify::Notification n;
  n.test = true;
  n.at = now;
  n.account = c.accounts.empty() ? "example-account" : c.accounts.front().name;
  n.provider = c.accounts.empty() ? "simulated" : c.accounts.front().provider;
  n.dedup_key = "creditwatch-test-notify";
  n.rule = alerts::Rule::runway;
  n.severity = alerts::Severity::warning;
  n.summary = "test notification: if you can read this, the notifier works";
  n.balance = Decimal::parse("42.00");
  n.currency = "USD";
  n.burn_per_day = 3.5;
  n.runway_days = 12.0;
  n.runway_p10_days = 10.0;
  n.exhausted_at = now + std::chrono::hours(24 * 12);
  n.recommended_topup = Decimal::parse("70.00");
  return n;
}

}  // namespace

int test_notify_command(const std::string& config_path, const std::string& notifier_name) {
  SystemClock clock;
  auto runtime = scheduler::load_runtime(config_path, clock);
  auto it = runtime->notifiers.find(notifier_name);
  if (it == runtime->notifiers.end()) {
    std::vector<std::string> names;
    for (const auto& [name, sink] : runtime->notifiers) names.push_back(name);
    std::cerr << "creditwatch: no notifier named \"" << notifier_name << "\"";
    if (auto hint = closest_match(notifier_name, names)) std::cerr << " (did you mean \"" << *hint << "\"?)";
    std::cerr << "\n";
    return 1;
  }
  http::CurlClient client;
  auto result = it->second->deliver(test_notification(runtime->config, clock.now()), client);
  const std::string answer = redact(result.message, runtime->config.secrets());
  std::cout << notifier_name << ": " << notify::to_string(result.outcome) << (answer.empty() ? "" : " (" + answer + ")")
            << "\n";
  return result.outcome == notify::DeliveryResult::Outcome::delivered ? 0 : 1;
}

}  // namespace creditwatch::app
