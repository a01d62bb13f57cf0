#pragma once

#include "creditwatch/alerts/rules.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/forecast/forecaster.hpp"
#include "creditwatch/http/http_client.hpp"
#include "creditwatch/providers/provider.hpp"
#include "creditwatch/storage/store.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace creditwatch::scheduler {

// Nagios-style state of one account; the numeric value is the `check` exit code.
enum class CheckState { ok = 0, warning = 1, critical = 2, unknown = 3 };

const char* to_string(CheckState state);
// CRITICAL > UNKNOWN > WARNING > OK: an account we cannot read may be hiding a dry one,
// so it outranks a warning, but a known emergency outranks both.
CheckState worse(CheckState a, CheckState b);

// Everything known about one account after a probe (or from the database alone).
struct Assessment {
  std::string account;
  std::string provider;
  std::string currency;                        // the series the rules use
  std::vector<providers::BalanceEntry> balances;  // every currency of the latest reading
  std::optional<providers::ProbeError> error;
  std::optional<forecast::Forecast> forecast;
  alerts::Observation observation;
  std::vector<alerts::Finding> findings;
  CheckState state = CheckState::unknown;
  double latency_seconds = 0;
};

// Probes one account, stores what it learnt and judges it. Shared by `check` and the daemon
// so both see the same figures. Thread-safe as long as each thread passes its own client.
class Assessor {
public:
  Assessor(storage::Store& store, const Clock& clock) : m_store(store), m_clock(clock) {}

  // A provider that throws (a parser bug, bytes a serialiser refuses) yields an `internal`
  // error like any other failure: it is stored as the probe's outcome and judged.
  Assessment probe(const config::AccountConfig& account, providers::Provider& provider, http::Client& client,
                   const std::map<alerts::Rule, alerts::Severity>& firing);

  // Judges from what the database holds (the latest sample), with no network.
  Assessment from_store(const config::AccountConfig& account);

  // Drops the account's cached ledger, so the next probe rebuilds it from the database (an
  // account whose probing moved here from another replica: that one stored the readings).
  void forget(const std::string& account);

  // Loads the ledgers of `accounts` into the cache in one pass, so that the first probe round
  // after a restart does not load them one by one on the probe threads: the saved snapshots
  // and the runs after them a batch at a time (Store::saved_ledgers), then, one by one, those
  // without a usable snapshot (none yet, too old, another version, or the bulk read failed).
  // Meant for a thread of its own while the first probes run: a probe that gets to its
  // account first loads the ledger itself as ever, and the preloaded copy is dropped; one that
  // finds it preloaded adds its fresh reading (which the ledger may hold already: add()
  // ignores a reading not newer than its last). An account forgotten meanwhile is not added.
  // `stop` is asked between accounts. Returns how many ledgers it added to the cache.
  std::size_t preload(const std::vector<const config::AccountConfig*>& accounts, const std::function<bool()>& stop);
  // Marks the start of a preload before its accounts are chosen, so a forget() between the
  // choice and preload() itself (an ownership renewal on another thread) is not missed;
  // preload() begins it itself if this was not called, and ends it when it returns.
  // end_preload() is for a preload begun that will not run (its thread could not start).
  void begin_preload();
  void end_preload();

  // Saves a snapshot of each cached ledger that took a reading since its last save, so a
  // restart resumes from it instead of replaying the readings (the scheduler's
  // housekeeping, and its stop; never the probe path). Returns how many it saved.
  std::size_t save_ledgers();

private:
  // `fresh`: the reading just taken, added to the account's cached ledger.
  void judge(const config::AccountConfig& account, Assessment& a,
             const std::map<alerts::Rule, alerts::Severity>& firing, const providers::BalanceEntry* fresh);
  forecast::SpendLedger load_ledger(const config::AccountConfig& account, const std::string& currency);

  storage::Store& m_store;
  const Clock& m_clock;
  // One ledger per account, kept up to date with each probe so a forecast never rescans
  // history; built from the database on first use. An account is probed by one thread at a
  // time, so only the map needs the lock.
  struct CachedLedger {
    std::string currency;
    forecast::SpendLedger ledger;
    // Held while the probe thread adds a reading and while save_ledgers() copies the state.
    std::mutex mutex{};
    TimePoint saved_through{};  // ledger.last()->at when last saved (under `mutex`)
  };
  // Adds a ledger preload() built, unless the account's probe got there first or it was
  // forgotten since the preload began.
  bool adopt(const std::string& account, const std::shared_ptr<CachedLedger>& cached);
  std::mutex m_ledgers_mutex;
  // While preload() runs: the accounts forget() dropped since it began (under m_ledgers_mutex).
  bool m_preloading = false;
  std::unordered_set<std::string> m_forgotten;
  // Hashed: a probe looks its account up here, and a tree of thousands of names cost a
  // chain of cache misses per probe (a visible share of the probe path in perf).
  std::unordered_map<std::string, std::shared_ptr<CachedLedger>> m_ledgers;
};

alerts::Thresholds thresholds_for(const config::AccountConfig& account);
forecast::Settings forecast_settings_for(const config::AccountConfig& account);

}  // namespace creditwatch::scheduler
