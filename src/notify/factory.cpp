#include "creditwatch/notify/factory.hpp"

#include "builders.hpp"

#include "creditwatch/common/text.hpp"

#include <functional>

namespace creditwatch::notify {
namespace {

using Builder = std::function<std::unique_ptr<Notifier>(const config::NotifierConfig&, config::SettingsReader&)>;

// The one list of notifier types: add a row here and a file beside this one.
const std::vector<std::pair<std::string, Builder>>& builders() {
  static const std::vector<std::pair<std::string, Builder>> table = {
      {"console", make_console},
      {"slack", make_slack},
      {"pagerduty", make_pagerduty},
      {"webhook", make_webhook},
      {"discord", make_discord},
      {"msteams", make_msteams},
      {"opsgenie", make_opsgenie},
      {"ntfy", make_ntfy},
      {"telegram", make_telegram},
      {"email", make_email},
      {"alertmanager", make_alertmanager},
  };
  return table;
}

}  // namespace

http::Request sink_request(std::string url) {
  http::Request request;
  request.method = "POST";
  request.url = std::move(url);
  request.connect_timeout = std::chrono::seconds(3);
  request.total_timeout = std::chrono::seconds(5);
  request.max_body_bytes = 64 * 1024;
  // The status decides a delivery: a 2xx with a huge body was delivered, never to be retried.
  request.truncate_body = true;
  request.headers.push_back({"Content-Type", "application/json"});
  return request;
}

const std::vector<std::string>& notifier_types() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, build] : builders()) out.push_back(name);
    return out;
  }();
  return names;
}

std::unique_ptr<Notifier> make_notifier(const config::NotifierConfig& config, std::vector<config::ConfigError>& errors) {
  for (const auto& [name, build] : builders()) {
    if (name != config.type) continue;
    config::SettingsReader settings(config.settings, config.where, "notifier type " + config.type,
                                    {"name", "type", "min_severity"}, errors);
    return build(config, settings);
  }
  std::string message = "unknown notifier type \"" + config.type + "\"";
  if (auto hint = closest_match(config.type, notifier_types())) message += " (did you mean \"" + *hint + "\"?)";
  errors.push_back({config.where, message});
  return nullptr;
}

}  // namespace creditwatch::notify
