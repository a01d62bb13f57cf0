#include "creditwatch/forecast/forecaster.hpp"

#include <algorithm>
#include <cmath>

namespace creditwatch::forecast {
namespace {

// Beyond this an exhaustion date is meaningless (and would overflow the clock type).
constexpr double k_max_projection_days = 36500;

// Spend between two consecutive readings. The counter is authoritative when both have it;
// otherwise only a fall in balance is spend (a rise is a deposit).
Decimal spend_between(const Point& before, const Point& after) {
  if (before.spend_total && after.spend_total && *after.spend_total >= *before.spend_total) {
    return *after.spend_total - *before.spend_total;
  }
  return before.balance > after.balance ? before.balance - after.balance : Decimal();
}

Decimal deposit_between(const Point& before, const Point& after) {
  if (before.spend_total && after.spend_total) {
    // balance_after = balance_before - spend + deposit
    Decimal deposit = after.balance - before.balance + (*after.spend_total - *before.spend_total);
    return deposit > Decimal() ? deposit : Decimal();
  }
  return after.balance > before.balance ? after.balance - before.balance : Decimal();
}

}  // namespace

Decimal round_up_topup(double amount) {
  if (amount <= 0) return Decimal();
  double magnitude = std::pow(10.0, std::floor(std::log10(amount)) - 1);
  magnitude = std::max(magnitude, 0.01);
  return Decimal::from_double(std::ceil(amount / magnitude - 1e-9) * magnitude);
}

Forecast project(std::span<const Point> history, const Settings& settings, TimePoint now) {
  Forecast f;
  if (history.empty()) {
    f.note = "no samples yet";
    return f;
  }
  const Point& last = history.back();
  f.balance = last.balance;
  f.at = last.at;
  if (history.size() >= 2) f.topped_up_last = deposit_between(history[history.size() - 2], last) > Decimal();

  const TimePoint window_start = now - settings.burn_window;
  auto first = std::find_if(history.begin(), history.end(), [&](const Point& p) { return p.at >= window_start; });
  std::span<const Point> window(first, history.end());
  f.samples_used = window.size();

  Decimal spent;
  for (std::size_t i = 1; i < window.size(); ++i) {
    spent += spend_between(window[i - 1], window[i]);
    f.deposits += deposit_between(window[i - 1], window[i]);
  }
  const double span_days = window.size() >= 2 ? to_days(window.back().at - window.front().at) : 0.0;
  if (window.size() < 2 || span_days <= 0) {
    f.note = "one sample so far: no spend yet";
    return f;
  }
  if (spent <= Decimal()) {
    f.note = "no spend yet";
    return f;
  }
  const double burn = spent.to_double() / span_days;
  f.burn_per_day = burn;
  const double balance = std::max(0.0, last.balance.to_double());
  f.runway_days = balance / burn;
  f.runway_p10_days = f.runway_days;
  if (*f.runway_days < k_max_projection_days) {
    f.exhausted_at = last.at + std::chrono::duration_cast<TimePoint::duration>(
                                   std::chrono::duration<double>(*f.runway_days * 86400.0));
  }
  const double lead_days = to_days(settings.topup_lead_time);
  f.recommended_topup = round_up_topup(burn * (settings.target_days + lead_days) - balance);
  return f;
}

}  // namespace creditwatch::forecast
