#pragma once

#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/alert_engine.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/scheduler/schedule.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
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
};

// The daemon's heart: owns time. A loop thread hands due accounts to a bounded pool of
// probe threads; each probe is stored, judged and turned into alert transitions, and the
// outbox is woken. The loop never waits on the network.
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

  // The last time the loop went round (for /healthz and the systemd watchdog).
  TimePoint last_tick() const;
  std::size_t probes_done() const { return m_probes_done.load(); }
  // Probe threads started so far (they are started on demand, up to max_in_flight).
  std::size_t probe_threads() const;
  // The latest assessment of every account, for the API and metrics.
  std::map<std::string, Assessment> latest() const;
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
  void loop();
  void worker();
  void ensure_workers();
  void run_job(const Job& job, http::Client& client);
  void housekeeping(TimePoint now);
  void refresh_alerts(const Runtime& runtime);

  storage::Store& m_store;
  const Clock& m_clock;
  notify::Outbox& m_outbox;
  MonitorOptions m_options;
  Assessor m_assessor;
  AlertEngine m_alerts;

  mutable std::mutex m_mutex;
  std::condition_variable m_loop_cv;
  std::condition_variable m_jobs_cv;  // a job was queued (one worker is woken per job)
  std::condition_variable m_idle_cv;  // the last in-flight probe finished (for stop)
  std::shared_ptr<const Runtime> m_runtime;
  std::unordered_map<std::string, Target> m_targets;  // m_runtime's accounts by name
  Schedule m_schedule;
  std::deque<Job> m_jobs;
  std::unordered_set<std::string> m_in_flight;
  std::map<std::string, Assessment> m_latest;
  std::function<void(const Assessment&)> m_on_probe;
  bool m_stopping = false;
  std::atomic<bool> m_cancel{false};
  std::atomic<std::int64_t> m_last_tick_ms{0};
  std::atomic<std::size_t> m_probes_done{0};
  TimePoint m_next_housekeeping{};
  std::thread m_loop_thread;
  std::vector<std::thread> m_workers;  // grown by the loop thread only
  std::size_t m_idle_workers = 0;      // workers waiting for a job
};

}  // namespace creditwatch::scheduler
