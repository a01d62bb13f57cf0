// The log as a sink: for the demo and for trying rules without a real channel.
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

#include <spdlog/spdlog.h>

namespace creditwatch::notify {
namespace {

class Console final : public Notifier {
public:
  explicit Console(std::string name) : m_name(std::move(name)) {}

  DeliveryResult deliver(const Notification& n, http::Client&) override {
    const auto level = n.event == alerts::Event::resolved ? spdlog::level::info
                       : n.severity == alerts::Severity::critical ? spdlog::level::err
                       : n.severity == alerts::Severity::warning  ? spdlog::level::warn
                                                                  : spdlog::level::info;
    spdlog::log(level, "notify {}: {} | balance {} {} | burn/day {} | exhaustion {} | top-up {}", m_name, n.title(),
                n.balance ? n.balance->to_string() : "-", safe_text(n.currency, LineBreaks::fold),
                format_number(n.burn_per_day, 2), n.exhausted_at ? format_rfc3339(*n.exhausted_at) : "-",
                n.recommended_topup ? n.recommended_topup->to_string() : "-");
    return {DeliveryResult::Outcome::delivered, "logged", 0, std::nullopt};
  }

  DeliveryResult deliver_text(const std::string& title, const std::string& text, http::Client&) override {
    spdlog::info("notify {}: {}\n{}", m_name, title, text);
    return {DeliveryResult::Outcome::delivered, "logged", 0, std::nullopt};
  }

private:
  std::string m_name;
};

}  // namespace

std::unique_ptr<Notifier> make_console(const config::NotifierConfig& config, config::SettingsReader& settings) {
  if (!settings.finish()) return nullptr;
  return std::make_unique<Console>(config.name);
}

}  // namespace creditwatch::notify
