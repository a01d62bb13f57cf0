// `creditwatch backtest`: replays a balance trace through the daemon's own path — the same
// Assessor (storage, ledger, forecaster, rules), AlertEngine (lifecycle, hysteresis, routing)
// and outbox — with an in-memory database, a replay clock and no network or sinks.
#include "creditwatch/alerts/lifecycle.hpp"
#include "creditwatch/app/commands.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/scheduler/alert_engine.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace creditwatch::app {
namespace {

constexpr const char* k_backtest_notifier = "backtest";

class ReplayClock final : public Clock {
public:
  TimePoint now() const override { return from_unix_ms(m_now_ms.load()); }
  void set(TimePoint t) { m_now_ms = to_unix_ms(t); }

private:
  std::atomic<std::int64_t> m_now_ms{0};
};

// Answers each probe with the trace's current row.
class ReplayProvider final : public providers::Provider {
public:
  explicit ReplayProvider(std::string currency) : m_currency(std::move(currency)) {}
  void set(Decimal balance) { m_balance = balance; }
  providers::ProbeResult probe(http::Client&) override {
    providers::Reading reading;
    reading.available = m_balance > Decimal();
    reading.balances.push_back({m_currency, m_balance, std::nullopt, nlohmann::json::object()});
    return reading;
  }

private:
  std::string m_currency;
  Decimal m_balance;
};

class NoNetwork final : public http::Client {
public:
  http::Outcome send(const http::Request&) override {
    return http::Failure{http::FailureKind::internal, "backtest has no network", Duration(0)};
  }
};

struct TraceRow {
  TimePoint at;
  Decimal balance;
};

std::vector<TraceRow> read_trace(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<TraceRow> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty()) continue;
    if (number == 1 && line.rfind("timestamp", 0) == 0) continue;  // header
    const auto comma = line.find(',');
    if (comma == std::string::npos) throw std::runtime_error(path + ":" + std::to_string(number) + ": expected timestamp,balance");
    const std::string stamp = trim(line.substr(0, comma));
    const auto balance = Decimal::parse(line.substr(comma + 1));
    std::optional<TimePoint> at;
    if (auto seconds = Decimal::parse(stamp); seconds && stamp.find_first_not_of("0123456789.") == std::string::npos) {
      at = from_unix_ms(seconds->micros() / 1000);
    } else {
      at = parse_rfc3339(stamp);
    }
    if (!at || !balance) throw std::runtime_error(path + ":" + std::to_string(number) + ": cannot read \"" + line + "\"");
    if (!rows.empty() && *at <= rows.back().at) continue;  // out of order or repeated: the daemon would ignore it too
    rows.push_back({*at, *balance});
  }
  return rows;
}

nlohmann::json nullable(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// The runtime the replay routes through: the account as configured, one catch-all notifier.
scheduler::Runtime replay_runtime(const config::Config& source, const config::AccountConfig& account) {
  scheduler::Runtime runtime;
  runtime.config.alerting = source.alerting;
  auto replayed = account;
  replayed.notify.clear();
  runtime.config.accounts.push_back(std::move(replayed));
  runtime.config.notifiers.push_back(config::NotifierConfig{k_backtest_notifier, "console", "info", {}, {}});
  return runtime;
}

// One sample of --series: the runways and what the calibrated quantiles were built from (the
// trend, the account's bias and spread factors, its track record), so a replay shows which
// quantiles an alert was decided on.
nlohmann::json series_line(TimePoint at, const Decimal& balance, const std::optional<forecast::Forecast>& f) {
  nlohmann::json line{{"ts", format_rfc3339(at)},
                      {"balance", balance.to_double()},
                      {"burn_per_day", f ? nullable(f->burn_per_day) : nullptr},
                      {"runway_days", f ? nullable(f->runway_days) : nullptr},
                      {"runway_p10_days", f ? nullable(f->runway_p10_days) : nullptr}};
  if (f && f->calibration) {
    line["calibration"] = {{"growth_per_week", f->calibration->growth_per_week},
                           {"bias_factor", f->calibration->bias_factor},
                           {"spread_factor", f->calibration->spread_factor},
                           {"weekly_checks", f->calibration->weekly_checks}};
  }
  if (f && f->track_record) {
    line["track_record"] = {{"checked", f->track_record->forecasts_checked},
                            {"p10_coverage", f->track_record->p10_coverage},
                            {"p50_coverage", f->track_record->p50_coverage}};
  }
  return line;
}

}  // namespace

int backtest_command(const BacktestOptions& options) {
  const auto config = config::load_config(options.config_path);
  const auto* configured = config.find_account(options.account);
  if (!configured) throw std::runtime_error("no account named \"" + options.account + "\" in " + options.config_path);
  const auto trace = read_trace(options.csv_path);
  const auto runtime = replay_runtime(config, *configured);
  const auto& account = runtime.config.accounts.front();

  ReplayClock clock;
  storage::SqliteStore store(":memory:");
  scheduler::Assessor assessor(store, clock);
  scheduler::AlertEngine engine(store, clock);
  ReplayProvider provider(account.currency.value_or("USD"));
  NoNetwork network;
  std::size_t notifications = 0;

  for (const auto& row : trace) {
    clock.set(row.at);
    provider.set(row.balance);
    const auto assessment = assessor.probe(account, provider, network, engine.firing(account.name));
    const bool queued = engine.apply(account, assessment, runtime) > 0;
    if (options.series && options.json) {
      std::cout << series_line(row.at, row.balance, assessment.forecast).dump() << "\n";
    }
    if (!queued) continue;
    for (const auto& sent : store.notifications(storage::OutboxState::pending)) {
      store.mark_delivered(sent.id, row.at);
      const auto n = nlohmann::json::parse(sent.payload_json);
      // A reminder re-sends an alert already printed; left out by default so each line is a
      // change of alert state, which is what a replay is read for.
      if (!options.repeats && n.value("reason", "") == alerts::to_string(alerts::Reason::repeat)) continue;
      ++notifications;
      if (options.json) {
        std::cout << nlohmann::json{{"ts", format_rfc3339(row.at)},
                                    {"event", n["status"]},
                                    {"rule", n["rule"]},
                                    {"severity", n["severity"]},
                                    {"balance", row.balance.to_double()},
                                    {"burn_per_day", n["burn_per_day"]},
                                    {"runway_days", n["runway_days"]}}
                         .dump()
                  << "\n";
      } else {
        std::cout << format_rfc3339(row.at) << "  " << n["status"].get<std::string>() << "  "
                  << n["severity"].get<std::string>() << "  " << n["rule"].get<std::string>() << ": "
                  << n["summary"].get<std::string>() << "\n";
      }
    }
  }
  if (options.json) {
    std::cout << nlohmann::json{{"summary", true}, {"samples", trace.size()}, {"notifications", notifications}}.dump()
              << "\n";
  } else {
    std::cout << trace.size() << " samples, " << notifications << " notifications\n";
  }
  return 0;
}

}  // namespace creditwatch::app
