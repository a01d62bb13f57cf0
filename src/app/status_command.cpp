#include "creditwatch/app/commands.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/assessment_json.hpp"
#include "creditwatch/scheduler/forecast_record.hpp"
#include "creditwatch/app/store_location.hpp"
#include "creditwatch/storage/store.hpp"

#include "sparkline.hpp"
#include "table.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace creditwatch::app {
namespace {

constexpr auto k_trend_span = std::chrono::hours(24 * 7);
constexpr std::size_t k_trend_width = 28;

struct AccountStatus {
  scheduler::Assessment assessment;
  std::vector<storage::AlertRow> alerts;  // firing only
  std::string trend;
};

bool use_colour() { return isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr; }

std::string coloured(const std::string& text, scheduler::CheckState state) {
  if (!use_colour()) return text;
  const char* code = state == scheduler::CheckState::critical  ? "\033[31m"
                     : state == scheduler::CheckState::warning ? "\033[33m"
                     : state == scheduler::CheckState::unknown ? "\033[35m"
                                                               : "\033[32m";
  return code + text + "\033[0m";
}

std::string alert_list(const std::vector<storage::AlertRow>& alerts) {
  std::string out;
  for (const auto& a : alerts) out += (out.empty() ? "" : ",") + a.rule + "(" + a.severity + ")";
  return out.empty() ? "-" : out;
}

void print_table(const std::vector<AccountStatus>& rows) {
  // RUNWAY(d) and P10(d) are the forecast band (median and conservative); P10 HIT is how often
  // spend outran the account's own earlier P10 runways ("12% of 40"; calibrated: 10%).
  Table table({"ACCOUNT", "PROVIDER", "BALANCE", "CURRENCY", "BURN/DAY", "RUNWAY(d)", "P10(d)", "P10 HIT", "EXHAUSTION",
               "TOP-UP", "STATE", "ALERTS", "LAST 7 DAYS"});
  for (const auto& r : rows) {
    const auto& a = r.assessment;
    const auto& f = a.forecast;
    table.add({a.account, a.provider, f ? f->balance.to_string() : "-", a.currency.empty() ? "-" : a.currency,
               f ? format_rate(f->burn_per_day) : "-", f ? format_days(f->runway_days) : "-",
               f ? format_days(f->runway_p10_days) : "-",
               scheduler::describe_p10_hits(f ? f->track_record : std::nullopt),
               f && f->exhausted_at ? format_rfc3339(*f->exhausted_at) : "-",
               f && f->recommended_topup > Decimal() ? f->recommended_topup.to_string() : "-",
               coloured(scheduler::to_string(a.state), a.state), alert_list(r.alerts),
               r.trend.empty() ? "-" : r.trend});
  }
  table.print(std::cout);
}

}  // namespace

int status_command(const StatusOptions& options) {
  SystemClock clock;
  // Only the config layer: status must work even when a provider key is missing here.
  const auto config = config::load_config(options.config_path);
  const auto opened = storage::open_store(store_location(config.storage));
  auto& store = *opened;
  scheduler::Assessor assessor(store, clock);
  std::vector<AccountStatus> rows;
  const TimePoint now = clock.now();
  for (const auto& account : config.accounts) {
    if (!options.account.empty() && account.name != options.account) continue;
    AccountStatus row{assessor.from_store(account), {}, ""};
    for (auto& alert : store.alerts(account.name)) {
      if (alert.state == "firing") row.alerts.push_back(std::move(alert));
    }
    row.trend = sparkline(store.samples(account.name, now - k_trend_span, row.assessment.currency), now - k_trend_span,
                          now, k_trend_width);
    rows.push_back(std::move(row));
  }
  if (rows.empty() && !options.account.empty()) {
    std::cerr << "creditwatch: no account named \"" << options.account << "\"\n";
    return 1;
  }
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
      auto j = scheduler::to_json(r.assessment);
      j["alerts"] = nlohmann::json::array();
      for (const auto& a : r.alerts) {
        j["alerts"].push_back({{"rule", a.rule}, {"severity", a.severity}, {"since", format_rfc3339(a.since)}});
      }
      j["sparkline"] = r.trend;
      out.push_back(std::move(j));
    }
    // Replace rather than throw: a message stored by an older version may hold invalid UTF-8.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    print_table(rows);
  }
  return 0;
}

}  // namespace creditwatch::app
