#pragma once

#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/alert_engine.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/assessment_summary.hpp"
#include "creditwatch/scheduler/digest_sender.hpp"
#include "creditwatch/scheduler/ownership.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/scheduler/schedule.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace creditwatch::scheduler {

struct MonitorOptions {
  // Upper bound on probe threads (no thread per account). Threads are started only when a
  // job finds every existing one busy, so a handful of accounts keeps one or two threads
  // while thousands on a short interval get enough requests in flight to keep up.
  std::size_t max_in_flight = 64;
  Duration housekeeping_every = std::chrono::hours(1);
  // Replicas sharing a database: only the accounts this one owns are probed, judged stale
  // and refreshed; the loop renews the leases. Null: this process owns every account.
  Ownership* ownership = nullptr;
};

// The daemon's heart: owns time. A loop thread hands due accounts to a bounded pool of
// probe threads; each probe is stored, judged and turned into alert transitions, and the
// outbox is woken. The loop never waits on the network.
//
// Timing runs on the monotonic clock (schedules, waits, the loop's heartbeat, how long an
// account has been silent); the wall clock only stamps what is stored and shown. The loop
// also decides `stale` for every account, from the time since its last answer, so an
// account whose probes fail in any way, hang or never succeeded still goes stale.
class Monitor {
public:
  Monitor(storage::Store& store, const Clock& clock, notify::Outbox& outbox, MonitorOptions options = {});
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Installs a runtime (at start and on reload): new accounts are scheduled, removed ones
  // dropped, changed intervals applied. In-flight probes finish with the old snapshot.
  void set_runtime(std::shared_ptr<const Runtime> runtime);
  void start();
  // Stops taking new work; in-flight probes get `grace`, then their transfers are aborted.
  void stop(Duration grace);

  // When the loop last went round, on the monotonic clock (for /healthz and the systemd
  // watchdog): a wall-clock step never makes the loop look stalled. Before start(), when
  // the monitor was made.
  SteadyPoint last_tick() const;
  // Makes the loop look at the schedule and the silences now rather than at its next
  // wake-up (a test that moved its fake clock).
  void wake();
  // Probes finished to the end: judged, recorded, and off the in-flight list, so the next
  // one of the account can be queued.
  std::size_t probes_done() const { return m_probes_done.load(); }
  // Probe threads started so far (they are started on demand, up to max_in_flight).
  std::size_t probe_threads() const;
  // The latest assessment of every account, summarized, for the API and metrics.
  std::map<std::string, AssessmentSummary> latest() const;
  // One account's latest assessment, summarized (nullopt: not probed here yet), without copying the rest.
  std::optional<AssessmentSummary> latest(const std::string& account) const;
  // The alert engine, for the API's silences and acknowledgements (thread-safe).
  AlertEngine& alert_engine() { return m_alerts; }
  // Called after each probe (from a probe thread), e.g. to update metrics.
  void on_probe(std::function<void(const Assessment&)> callback);

private:
  struct Job {
    std::string account;
    std::shared_ptr<const Runtime> runtime;  // keeps `config` and `provider` alive
    const config::AccountConfig* config = nullptr;
    providers::Provider* provider = nullptr;
  };
  struct Target {
    const config::AccountConfig* config;
    providers::Provider* provider;
  };
  // What the loop knows of an account's answers, for `stale`. An answer is a probe the
  // provider responded to in a way a rule can judge: a reading, or "key invalid" or "out of
  // money" (those rules speak for the account, so it is not silent).
  struct Contact {
    SteadyPoint watched_since;            // when this monitor began watching the account
    std::optional<SteadyPoint> answered;  // the last answer; at start, the store's, by its wall-clock age
    bool probed = false;                  // a probe has finished since watching began
    std::string last_error;               // the latest failure, for the alert's summary
  };
  struct StaleCheck {
    std::string account;
    const config::AccountConfig* config;
    alerts::Unanswered silence;
    std::optional<SteadyPoint> answered;  // the last answer the verdict was judged from
  };
  void loop();
  void seed_contacts(const Runtime& runtime);
  void record_contact(const std::string& account, const Assessment& assessment);
  // Called with m_mutex held: the accounts whose silence can be judged now.
  std::vector<StaleCheck> stale_checks(SteadyPoint now) const;
  void judge_stale(const Runtime& runtime, const std::vector<StaleCheck>& checks);
  void worker();
  void ensure_workers();
  // False when the probe was abandoned at shutdown (no rule judged it).
  bool run_job(const Job& job, http::Client& client);
  // Also saves the forecast ledgers that changed (every housekeeping_every, and at stop()).
  void housekeeping();
  void save_ledgers();
  // Starts the digest thread when a digest is due (`digest:`). Called with m_mutex held.
  void start_digest_if_due();
  // Starts preload_ledgers() on its thread (the loop, once it knows which accounts it owns).
  // Called with m_mutex held.
  void start_preload();
  // Loads the ledgers of the accounts owned now in one pass (Assessor::preload), off the
  // probe threads.
  void preload_ledgers(std::shared_ptr<const Runtime> runtime, std::vector<const config::AccountConfig*> accounts);
  // Renews this replica's leases and takes over or hands over accounts (loop thread, no lock).
  void renew_ownership();
  // Called with m_mutex held.
  bool owns(const std::string& account) const;
  // Owns it under a lease that has not run out: may judge its alerts.
  bool judges(const std::string& account) const;
  void refresh_alerts(const Runtime& runtime);
  void escalate_alerts(const Runtime& runtime);  // `escalate:` steps that came due

  storage::Store& m_store;
  const Clock& m_clock;
  notify::Outbox& m_outbox;
  MonitorOptions m_options;
  Assessor m_assessor;
  AlertEngine m_alerts;
  DigestSender m_digests;

  mutable std::mutex m_mutex;
  std::condition_variable m_loop_cv;
  std::condition_variable m_jobs_cv;  // a job was queued (one worker is woken per job)
  std::condition_variable m_idle_cv;  // the last in-flight probe finished (for stop)
  std::shared_ptr<const Runtime> m_runtime;
  std::unordered_map<std::string, Target> m_targets;  // m_runtime's accounts by name
  Schedule m_schedule;
  std::deque<Job> m_jobs;
  std::unordered_set<std::string> m_in_flight;
  // Summaries, not whole Assessments: one per account for the daemon's lifetime (a third of
  // the memory at thousands of accounts).
  std::map<std::string, AssessmentSummary> m_latest;
  std::unordered_map<std::string, Contact> m_contacts;  // m_runtime's accounts by name
  SteadyPoint m_next_stale_check{};
  std::function<void(const Assessment&)> m_on_probe;
  bool m_stopping = false;
  bool m_woken = false;  // set_runtime(), wake() or an answer from a stale account: go round now
  std::atomic<bool> m_cancel{false};
  std::atomic<SteadyPoint::rep> m_last_tick{0};  // SteadyPoint ticks
  std::atomic<std::size_t> m_probes_done{0};
  SteadyPoint m_next_housekeeping{};
  SteadyPoint m_next_renewal{};
  // Shared by probes while they judge, exclusive while a renewal hands accounts over.
  std::shared_mutex m_handover_mutex;
  std::thread m_loop_thread;
  std::thread m_housekeeping_thread;  // retention and ledger saves, off the loop
  bool m_housekeeping_running = false;  // guarded by m_mutex
  std::thread m_digest_thread;          // builds and queues a due digest, off the loop
  bool m_digest_running = false;        // guarded by m_mutex
  std::thread m_preload_thread;  // the ledgers' preload at start, started by the loop
  bool m_preload_started = false;  // loop thread only
  bool m_preloading = false;       // guarded by m_mutex
  SteadyPoint m_preload_hold_until{};  // probes wait for the preload until then (m_mutex)
  std::vector<std::thread> m_workers;  // grown by the loop thread only
  std::size_t m_idle_workers = 0;      // workers waiting for a job
};

}  // namespace creditwatch::scheduler
