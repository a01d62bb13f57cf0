#pragma once

#include "creditwatch/config/settings_reader.hpp"
#include "creditwatch/notify/notifier.hpp"

#include <memory>

namespace creditwatch::notify {

// One builder per notifier file; the table in factory.cpp maps type names to these.
std::unique_ptr<Notifier> make_console(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_slack(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_pagerduty(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_webhook(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_discord(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_msteams(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_opsgenie(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_ntfy(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_telegram(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_email(const config::NotifierConfig& config, config::SettingsReader& settings);
std::unique_ptr<Notifier> make_alertmanager(const config::NotifierConfig& config, config::SettingsReader& settings);

// Sink requests get a short timeout: a slow sink must not hold its queue for long.
http::Request sink_request(std::string url);

}  // namespace creditwatch::notify
