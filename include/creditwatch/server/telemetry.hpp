#pragma once

#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/assessment.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace creditwatch::server {

// Counters and histograms the daemon accumulates between scrapes. Gauges (balance, runway)
// are read from the latest assessments at scrape time instead. Thread-safe.
class Telemetry {
public:
  static constexpr std::array<double, 10> k_duration_buckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30};

  // Records one probe (called from the probe threads).
  void record_probe(const scheduler::Assessment& assessment);

  struct Histogram {
    std::array<std::uint64_t, k_duration_buckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  // What one account's probes left behind.
  struct AccountProbes {
    std::string provider;
    std::optional<double> last_success;             // Unix seconds; none before the first success
    std::map<std::string, std::uint64_t> failures;  // error kind -> failed probes
  };

  // provider -> probe durations. One histogram per provider, not per account: with 11
  // series each, per-account histograms were 55,000 series at 5,000 accounts.
  std::map<std::string, Histogram> durations() const;
  // Calls `visit` with each account's figures, in name order, under the lock: a scrape
  // reads them in place instead of copying the fleet (probes wait for it meanwhile).
  void visit_accounts(const std::function<void(const std::string& account, const AccountProbes&)>& visit) const;

private:
  mutable std::mutex m_mutex;
  std::map<std::string, Histogram> m_durations;
  std::map<std::string, AccountProbes> m_accounts;  // in name order, for the scrape
  // The same entries by hash, for the probe path: walking the map's 5,000 names cost a chain
  // of cache misses per probe. A map's nodes never move, and no account is ever erased.
  std::unordered_map<std::string, AccountProbes*> m_account_index;
};

}  // namespace creditwatch::server
