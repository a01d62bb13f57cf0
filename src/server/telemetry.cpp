#include "creditwatch/server/telemetry.hpp"

namespace creditwatch::server {

void Telemetry::record_probe(const scheduler::Assessment& a) {
  std::lock_guard lock(m_mutex);
  auto& h = m_durations[a.provider];
  for (std::size_t i = 0; i < k_duration_buckets.size(); ++i) {
    if (a.latency_seconds <= k_duration_buckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += a.latency_seconds;
  auto found = m_account_index.find(a.account);
  if (found == m_account_index.end()) {
    found = m_account_index.emplace(a.account, &m_accounts[a.account]).first;
  }
  auto& account = *found->second;
  if (account.provider != a.provider) account.provider = a.provider;  // a reload may move the account
  if (a.error) {
    ++account.failures[providers::to_string(a.error->kind)];
  } else {
    account.last_success = static_cast<double>(to_unix_ms(a.observation.at)) / 1000.0;
  }
}

std::map<std::string, Telemetry::Histogram> Telemetry::durations() const {
  std::lock_guard lock(m_mutex);
  return m_durations;
}

void Telemetry::visit_accounts(
    const std::function<void(const std::string& account, const AccountProbes&)>& visit) const {
  std::lock_guard lock(m_mutex);
  for (const auto& [name, probes] : m_accounts) visit(name, probes);
}

}  // namespace creditwatch::server
