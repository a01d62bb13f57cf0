// A synthetic account for the demo, for trying notifiers and for tests. Its balance is a
// pure function of the clock, so tests with a fake clock get exact, repeatable figures.
#include "builders.hpp"

#include <cmath>
#include <cstdint>

namespace creditwatch::providers {
namespace {

struct SimulationSettings {
  Decimal start = Decimal::from_micros(100 * Decimal::k_scale);
  Decimal spend_per_day = Decimal::from_micros(10 * Decimal::k_scale);
  double noise = 0;             // relative jitter of each reading's spend, 0..1
  bool weekly_pattern = false;  // weekends spend a third of a weekday
  Duration topup_every{0};      // 0: never
  Decimal topup_amount;
  std::string currency = "USD";
  TimePoint started_at;
};

// Deterministic noise in [-1, 1] from a time bucket, so repeated probes agree.
double hash_noise(std::int64_t bucket) {
  std::uint64_t x = static_cast<std::uint64_t>(bucket) * 0x9E3779B97F4A7C15ULL;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 29;
  return static_cast<double>(x % 2'000'001) / 1'000'000.0 - 1.0;
}

class Simulated final : public Provider {
public:
  Simulated(SimulationSettings settings, const Clock& clock) : m_settings(std::move(settings)), m_clock(clock) {}

  ProbeResult probe(http::Client&) override {
    const auto elapsed = m_clock.now() - m_settings.started_at;
    double days = std::max(0.0, to_days(elapsed));
    double spend_days = m_settings.weekly_pattern ? weighted_days(days) : days;
    double spent = m_settings.spend_per_day.to_double() * spend_days;
    if (m_settings.noise > 0) {
      auto minute = std::chrono::duration_cast<std::chrono::minutes>(elapsed).count();
      spent *= 1.0 + m_settings.noise * 0.1 * hash_noise(minute);
    }
    double balance = m_settings.start.to_double() - spent;
    if (m_settings.topup_every.count() > 0) {
      auto topups = std::chrono::duration_cast<Duration>(elapsed).count() / m_settings.topup_every.count();
      balance += m_settings.topup_amount.to_double() * static_cast<double>(topups);
    }
    Reading reading;
    Decimal value = Decimal::from_double(std::round(std::max(0.0, balance) * 100) / 100);
    reading.available = value > Decimal();
    reading.balances.push_back({m_settings.currency, value, std::nullopt, nlohmann::json::object()});
    return reading;
  }

private:
  // Days since start where Saturday and Sunday count a third (1970-01-01 was a Thursday).
  double weighted_days(double days) const {
    double start_day = to_days(m_settings.started_at.time_since_epoch());
    double total = 0;
    for (double d = 0; d < days; d += 1.0) {
      double span = std::min(1.0, days - d);
      auto weekday = static_cast<std::int64_t>(std::floor(start_day + d + 4)) % 7;  // 0 = Sunday
      total += span * ((weekday == 0 || weekday == 6) ? 1.0 / 3.0 : 1.0);
    }
    return total;
  }

  SimulationSettings m_settings;
  const Clock& m_clock;
};

}  // namespace

std::unique_ptr<Provider> make_simulated(const config::AccountConfig& account, const Clock& clock,
                                         SettingsReader& settings) {
  SimulationSettings s;
  s.started_at = clock.now();
  if (auto v = settings.decimal("start")) s.start = *v;
  if (auto v = settings.decimal("spend_per_day")) s.spend_per_day = *v;
  if (auto v = settings.decimal("noise")) s.noise = std::clamp(v->to_double(), 0.0, 1.0);
  if (auto v = settings.boolean("weekly_pattern")) s.weekly_pattern = *v;
  if (auto v = settings.duration("topup_every")) s.topup_every = *v;
  if (auto v = settings.decimal("topup_amount")) s.topup_amount = *v;
  if (account.currency) s.currency = *account.currency;
  if (!settings.finish()) return nullptr;
  return std::make_unique<Simulated>(std::move(s), clock);
}

}  // namespace creditwatch::providers
