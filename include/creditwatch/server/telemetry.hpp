#pragma once

#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/assessment.hpp"

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

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
  using AccountKey = std::pair<std::string, std::string>;  // account, provider

  std::map<AccountKey, Histogram> durations() const;
  // (account, provider, error kind) -> failures
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> failures() const;
  // account -> last successful probe, Unix seconds
  std::map<AccountKey, double> last_success() const;

private:
  mutable std::mutex m_mutex;
  std::map<AccountKey, Histogram> m_durations;
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> m_failures;
  std::map<AccountKey, double> m_last_success;
};

}  // namespace creditwatch::server
