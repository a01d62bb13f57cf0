#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/storage/store.hpp"

#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace creditwatch::scheduler {

// Which accounts this replica probes, when several share one database. Each replica
// announces itself and renews leases on the accounts it should own; an account's owner is
// chosen by rendezvous hashing over the live replicas (highest hash of account and replica
// wins), so ownership spreads evenly and, when a replica comes or goes, only its share moves.
// A lease lasts `lease`; a replica that stops renewing (killed, partitioned, wedged) is no
// longer live after `lease` and its leases have expired by then, so the others take its
// accounts at their next renewal. Leases rather than advisory locks: a lock lives as long as
// the connection, and a wedged process keeps its connection.
//
// Times are the replicas' wall clocks, compared across hosts: keep them in sync (NTP), as a
// skew of more than a few seconds shortens or stretches a lease by as much.
class Ownership {
public:
  Ownership(storage::Store& store, const Clock& clock, std::string replica_id, Duration lease);

  // What a renewal changed.
  struct Change {
    std::vector<std::string> gained;
    std::vector<std::string> lost;
  };
  // One round: announce, look at who is live, claim this replica's share of `accounts`,
  // release what another should have. When the database cannot be reached, nothing changes:
  // this replica keeps probing what it held (nobody else can claim it meanwhile, and what it
  // cannot store it cannot page for twice either). Throws nothing.
  Change renew(const std::vector<std::string>& accounts);
  // Leaves the cluster (clean shutdown): the others take over at their next renewal.
  void leave();

  bool owns(const std::string& account) const;
  // Whether this replica may still act on `account` as its owner: it owns it and its
  // leases were renewed less than a lease ago (monotonic). A replica whose renewals fail
  // keeps probing, but stops judging and paging once another may have taken over; the
  // next successful renewal decides.
  bool holds(const std::string& account) const;
  // Gives `account` up now (its state could not be loaded): the next renewal takes it again.
  void drop(const std::string& account);
  std::set<std::string> owned() const;
  const std::string& replica_id() const { return m_replica_id; }
  Duration lease() const { return m_lease; }
  // How often renew() should run: a third of the lease, so two renewals can fail before the
  // lease runs out.
  Duration renew_every() const { return m_lease / 3; }
  // When the last renewal succeeded (wall clock; epoch when none has).
  TimePoint last_renewal() const;
  std::uint64_t renewal_failures() const;

  // The replica `candidates` would give `account` to (highest rendezvous score).
  static std::string owner_of(const std::string& account, const std::vector<std::string>& candidates);

private:
  storage::Store& m_store;
  const Clock& m_clock;
  std::string m_replica_id;
  Duration m_lease;
  TimePoint m_started;
  mutable std::mutex m_mutex;
  std::set<std::string> m_owned;
  TimePoint m_last_renewal{};
  SteadyPoint m_valid_until{};  // a lease after the start of the last successful renewal
  std::uint64_t m_failures = 0;
};

}  // namespace creditwatch::scheduler
