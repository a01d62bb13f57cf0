#include "creditwatch/scheduler/ownership.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>

namespace creditwatch::scheduler {
namespace {

// FNV-1a, then a 64-bit finaliser (splitmix64) so that names differing in one character
// still get unrelated scores. Stable across builds and hosts, unlike std::hash.
std::uint64_t score(const std::string& account, const std::string& replica) {
  std::uint64_t h = 1469598103934665603ULL;
  const auto mix_in = [&h](const std::string& text) {
    for (const unsigned char c : text) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix_in(account);
  h ^= 0xff;  // a separator no name contains, so ("ab","c") and ("a","bc") differ
  h *= 1099511628211ULL;
  mix_in(replica);
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

Ownership::Ownership(storage::Store& store, const Clock& clock, std::string replica_id, Duration lease)
    : m_store(store), m_clock(clock), m_replica_id(std::move(replica_id)), m_lease(lease), m_started(clock.now()) {}

std::string Ownership::owner_of(const std::string& account, const std::vector<std::string>& candidates) {
  std::string best;
  std::uint64_t best_score = 0;
  for (const auto& replica : candidates) {
    const auto s = score(account, replica);
    if (best.empty() || s > best_score || (s == best_score && replica < best)) {
      best = replica;
      best_score = s;
    }
  }
  return best;
}

Ownership::Change Ownership::renew(const std::vector<std::string>& accounts) {
  const TimePoint now = m_clock.now();
  const SteadyPoint started = m_clock.monotonic();
  std::set<std::string> held;
  try {
    m_store.announce_replica(m_replica_id, m_started, now);
    std::vector<std::string> live;
    for (const auto& replica : m_store.replicas(now)) {
      if (replica.id == m_replica_id || replica.last_seen >= now - m_lease) live.push_back(replica.id);
    }
    std::vector<std::string> mine;
    for (const auto& account : accounts) {
      if (owner_of(account, live) == m_replica_id) mine.push_back(account);
    }
    const auto claimed = m_store.claim_leases(m_replica_id, mine, now, now + m_lease);
    held.insert(claimed.begin(), claimed.end());
    // Accounts that another live replica should have (it came up, or this one held them
    // while it was away) are let go, so it can claim them at its next renewal.
    std::vector<std::string> release;
    {
      std::lock_guard lock(m_mutex);
      for (const auto& account : m_owned) {
        if (held.count(account) == 0) release.push_back(account);
      }
    }
    m_store.release_leases(m_replica_id, release);
  } catch (const std::exception& e) {
    std::lock_guard lock(m_mutex);
    ++m_failures;
    spdlog::warn("replica {}: cannot renew leases; keeping the {} account(s) held: {}", m_replica_id, m_owned.size(),
                 e.what());
    return {};
  }
  Change change;
  std::lock_guard lock(m_mutex);
  for (const auto& account : held) {
    if (m_owned.count(account) == 0) change.gained.push_back(account);
  }
  for (const auto& account : m_owned) {
    if (held.count(account) == 0) change.lost.push_back(account);
  }
  m_owned = std::move(held);
  m_last_renewal = now;
  m_valid_until = started + m_lease;
  if (!change.gained.empty() || !change.lost.empty()) {
    spdlog::info("replica {}: now probes {} account(s) ({} gained, {} handed over)", m_replica_id, m_owned.size(),
                 change.gained.size(), change.lost.size());
  }
  return change;
}

void Ownership::leave() {
  try {
    m_store.leave_cluster(m_replica_id);
    spdlog::info("replica {}: left the cluster; its accounts go to the others", m_replica_id);
  } catch (const std::exception& e) {
    spdlog::warn("replica {}: could not leave the cluster cleanly (its leases expire by themselves): {}", m_replica_id,
                 e.what());
  }
  std::lock_guard lock(m_mutex);
  m_owned.clear();
}

bool Ownership::owns(const std::string& account) const {
  std::lock_guard lock(m_mutex);
  return m_owned.count(account) > 0;
}

std::set<std::string> Ownership::owned() const {
  std::lock_guard lock(m_mutex);
  return m_owned;
}

bool Ownership::holds(const std::string& account) const {
  std::lock_guard lock(m_mutex);
  return m_owned.count(account) > 0 && m_clock.monotonic() < m_valid_until;
}

void Ownership::drop(const std::string& account) {
  {
    std::lock_guard lock(m_mutex);
    m_owned.erase(account);
  }
  try {
    m_store.release_leases(m_replica_id, {account});
  } catch (const std::exception&) {
    // The lease runs out by itself; this replica no longer acts on the account meanwhile.
  }
}

TimePoint Ownership::last_renewal() const {
  std::lock_guard lock(m_mutex);
  return m_last_renewal;
}

std::uint64_t Ownership::renewal_failures() const {
  std::lock_guard lock(m_mutex);
  return m_failures;
}

}  // namespace creditwatch::scheduler
