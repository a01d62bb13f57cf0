#include "creditwatch/server/telemetry.hpp"

namespace creditwatch::server {

void Telemetry::record_probe(const scheduler::Assessment& a) {
  const AccountKey key{a.account, a.provider};
  std::lock_guard lock(m_mutex);
  auto& h = m_durations[key];
  for (std::size_t i = 0; i < k_duration_buckets.size(); ++i) {
    if (a.latency_seconds <= k_duration_buckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += a.latency_seconds;
  if (a.error) {
    ++m_failures[{a.account, a.provider, providers::to_string(a.error->kind)}];
  } else {
    m_last_success[key] = static_cast<double>(to_unix_ms(a.observation.at)) / 1000.0;
  }
}

std::map<Telemetry::AccountKey, Telemetry::Histogram> Telemetry::durations() const {
  std::lock_guard lock(m_mutex);
  return m_durations;
}

std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> Telemetry::failures() const {
  std::lock_guard lock(m_mutex);
  return m_failures;
}

std::map<Telemetry::AccountKey, double> Telemetry::last_success() const {
  std::lock_guard lock(m_mutex);
  return m_last_success;
}

}  // namespace creditwatch::server
