#include "creditwatch/scheduler/digest_builder.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/storage/series.hpp"

#include <cmath>
#include <limits>

namespace creditwatch::scheduler {
namespace {

constexpr Duration k_step = std::chrono::hours(1);

// Per account, per rule: the worst severity it fired at in the period.
using FiredAlerts = std::map<std::string, std::map<std::string, std::string>>;

int rank(const std::string& severity) {
  if (severity == "critical") return 2;
  if (severity == "warning") return 1;
  return 0;
}

void note_fired(FiredAlerts& fired, const std::string& account, const std::string& rule, const std::string& severity) {
  auto& worst = fired[account][rule];
  if (worst.empty() || rank(severity) > rank(worst)) worst = severity;
}

FiredAlerts fired_alerts(storage::Store& store, TimePoint from, TimePoint to) {
  FiredAlerts fired;
  // The outbox holds each firing notification once per notifier; the same alert start
  // queued for three sinks is still one alert.
  for (const auto& row : store.notifications()) {
    const auto j = nlohmann::json::parse(row.payload_json, nullptr, false);
    if (!j.is_object() || notify::is_digest_payload(j) || j.value("test", false)) continue;
    if (j.value("status", "") != "firing") continue;
    const std::string reason = j.value("reason", "");
    if (reason != "started" && reason != "severity_changed") continue;
    const auto at = parse_rfc3339(j.value("ts", ""));
    if (!at || *at < from || *at >= to) continue;
    note_fired(fired, j.value("account", ""), j.value("rule", ""), j.value("severity", ""));
  }
  for (const auto& alert : store.alerts()) {
    if (alert.state == "firing" && alert.since >= from && alert.since < to) {
      note_fired(fired, alert.account, alert.rule, alert.severity);
    }
  }
  return fired;
}

struct Spend {
  Decimal spend;
  Decimal deposits;
  bool read = false;  // any reading in the period
};

// This period's and the one before's, from one series over both: the change from the last
// reading before `start` to the first one after it counts in this period (where it was
// seen), even when readings are hours apart.
std::pair<Spend, Spend> spend_around(storage::Store& store, const std::string& account, const std::string& currency,
                                     TimePoint start, TimePoint end, Duration every) {
  std::pair<Spend, Spend> out;  // {current, previous}
  for (const auto& point : storage::series(store, account, currency, start - every, end, k_step)) {
    Spend& period = point.at >= start ? out.first : out.second;
    period.spend += point.spend;
    period.deposits += point.deposits;
    period.read = true;
  }
  return out;
}

notify::DigestAccount account_lines(storage::Store& store, Assessor& assessor, const config::AccountConfig& account,
                                    TimePoint start, TimePoint end, Duration every) {
  notify::DigestAccount out;
  out.account = account.name;
  out.provider = account.provider;
  for (const auto& [k, v] : account.labels) out.labels[safe_text(k, LineBreaks::fold)] = safe_text(v, LineBreaks::fold);
  const Assessment now = assessor.from_store(account);
  out.currency = safe_text(now.currency.empty() ? account.currency.value_or("") : now.currency, LineBreaks::fold);
  if (!out.currency.empty()) {
    const auto [current, previous] = spend_around(store, account.name, out.currency, start, end, every);
    out.spend = current.spend;
    out.deposits = current.deposits;
    if (previous.read) out.previous_spend = previous.spend;
  }
  if (const auto& f = now.forecast) {
    out.balance = f->balance;
    // No spend seen: the balance is not going down, so there is no runway to count.
    out.runway_days = f->burn_per_day ? f->runway_days : std::optional<double>(std::numeric_limits<double>::infinity());
    if (f->recommended_topup > Decimal()) out.recommended_topup = f->recommended_topup;
  }
  return out;
}

}  // namespace

notify::Digest build_digest(storage::Store& store, Assessor& assessor, const config::Config& config,
                            TimePoint period_end) {
  const auto& settings = *config.digest;
  notify::Digest digest;
  digest.period_end = period_end;
  digest.period_start = period_end - settings.every;
  digest.group_by = settings.group_by;
  const auto fired = fired_alerts(store, digest.period_start, period_end);
  for (const auto& account : config.accounts) {
    auto lines = account_lines(store, assessor, account, digest.period_start, period_end, settings.every);
    if (auto it = fired.find(account.name); it != fired.end()) {
      for (const auto& [rule, severity] : it->second) lines.alerts.push_back(rule + " (" + severity + ")");
    }
    digest.accounts.push_back(std::move(lines));
  }
  return digest;
}

}  // namespace creditwatch::scheduler
