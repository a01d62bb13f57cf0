#include "creditwatch/scheduler/monitor.hpp"

#include "creditwatch/http/curl_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace creditwatch::scheduler {
namespace {

// One line per probe, at debug level only: with thousands of accounts on a short interval,
// even building the arguments of a line nobody reads costs more than the check itself.
void log_probe(const config::AccountConfig& account, const Assessment& a) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  if (a.error) {
    spdlog::debug("account {}: probe {} in {:.3f}s: {}", account.name, providers::to_string(a.error->kind),
                  a.latency_seconds, a.error->message);
    return;
  }
  spdlog::debug("account {}: balance {} {} in {:.3f}s, state {}", account.name,
                a.forecast ? a.forecast->balance.to_string() : "-", a.currency, a.latency_seconds, to_string(a.state));
}

}  // namespace

Monitor::Monitor(storage::Store& store, const Clock& clock, notify::Outbox& outbox, MonitorOptions options)
    : m_store(store),
      m_clock(clock),
      m_outbox(outbox),
      m_options(options),
      m_assessor(store, clock),
      m_alerts(store, clock) {}

Monitor::~Monitor() { stop(std::chrono::seconds(1)); }

void Monitor::set_runtime(std::shared_ptr<const Runtime> runtime) {
  std::lock_guard lock(m_mutex);
  const TimePoint now = m_clock.now();
  std::set<std::string> names;
  m_targets.clear();
  for (const auto& account : runtime->config.accounts) {
    names.insert(account.name);
    m_schedule.set(account.name, account.tuning.interval, now);
    // Looked up once here, not per probe: Config::find_account is a linear scan.
    if (auto p = runtime->providers.find(account.name); p != runtime->providers.end()) {
      m_targets[account.name] = Target{&account, p->second.get()};
    }
  }
  m_schedule.retain(names);
  std::erase_if(m_latest, [&](const auto& entry) { return names.count(entry.first) == 0; });
  m_runtime = std::move(runtime);
  m_loop_cv.notify_all();
}

void Monitor::on_probe(std::function<void(const Assessment&)> callback) {
  std::lock_guard lock(m_mutex);
  m_on_probe = std::move(callback);
}

void Monitor::start() {
  m_last_tick_ms = to_unix_ms(m_clock.now());
  m_loop_thread = std::thread([this] { loop(); });
}

void Monitor::stop(Duration grace) {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping && !m_loop_thread.joinable()) return;
    m_stopping = true;
    // Queued but not started: they will run again after restart, and stop() must not wait
    // for them as if they were on the wire.
    for (const auto& job : m_jobs) m_in_flight.erase(job.account);
    m_jobs.clear();
  }
  m_loop_cv.notify_all();
  m_jobs_cv.notify_all();
  if (m_loop_thread.joinable()) m_loop_thread.join();
  {
    std::unique_lock lock(m_mutex);
    m_idle_cv.wait_for(lock, grace, [&] { return m_in_flight.empty(); });
  }
  m_cancel = true;  // abort whatever is still on the wire
  m_jobs_cv.notify_all();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(m_mutex);  // probe_threads() may read the list meanwhile
    workers.swap(m_workers);
  }
  for (auto& t : workers) {
    if (t.joinable()) t.join();
  }
}

TimePoint Monitor::last_tick() const { return from_unix_ms(m_last_tick_ms.load()); }

std::map<std::string, Assessment> Monitor::latest() const {
  std::lock_guard lock(m_mutex);
  return m_latest;
}

void Monitor::loop() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    const TimePoint now = m_clock.now();
    m_last_tick_ms = to_unix_ms(now);
    for (auto& account : m_schedule.take_due(now)) {
      // A probe still running (slow provider) is not queued twice; its slot is skipped.
      auto target = m_targets.find(account);
      if (target == m_targets.end() || !m_in_flight.insert(account).second) continue;
      m_jobs.push_back(Job{std::move(account), m_runtime, target->second.config, target->second.provider});
      // One worker per job: waking them all for each would have most go back to sleep.
      m_jobs_cv.notify_one();
    }
    // Also on ticks without new jobs: a thread that could not be started last time is
    // retried while jobs wait.
    ensure_workers();
    if (m_runtime) {
      auto runtime = m_runtime;
      lock.unlock();
      refresh_alerts(*runtime);
      lock.lock();
    }
    if (now >= m_next_housekeeping) {
      lock.unlock();
      housekeeping(now);
      lock.lock();
      m_next_housekeeping = now + m_options.housekeeping_every;
    }
    // Sleep until the next account is due, but wake at least every second so the
    // watchdog and /healthz see the loop alive.
    auto wait = std::chrono::milliseconds(1000);
    if (auto next = m_schedule.next_due()) {
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - m_clock.now()),
                        std::chrono::milliseconds(1), wait);
    }
    m_loop_cv.wait_for(lock, wait);
  }
}

// Called with m_mutex held, from the loop thread (the only one that starts workers, and it
// is joined before stop() joins them). A thread just started counts as idle at once, so a
// second job queued before it runs does not start another.
void Monitor::ensure_workers() {
  const std::size_t most = std::max<std::size_t>(1, m_options.max_in_flight);
  while (m_jobs.size() > m_idle_workers && m_workers.size() < most) {
    try {
      m_workers.emplace_back([this] { worker(); });
    } catch (const std::system_error& e) {
      // Out of threads (TasksMax, pids.max): carry on with those we have; jobs wait.
      spdlog::warn("cannot start another probe thread ({} running): {}", m_workers.size(), e.what());
      return;
    }
    ++m_idle_workers;
  }
}

std::size_t Monitor::probe_threads() const {
  std::lock_guard lock(m_mutex);
  return m_workers.size();
}

void Monitor::worker() {
  http::CurlClient client;
  client.set_cancel_flag(&m_cancel);
  // Idle from the moment ensure_workers() counted it, and again after each job.
  while (true) {
    Job job;
    {
      std::unique_lock lock(m_mutex);
      m_jobs_cv.wait(lock, [&] { return m_stopping || !m_jobs.empty(); });
      --m_idle_workers;
      if (m_jobs.empty()) return;  // stopping and nothing left
      job = std::move(m_jobs.front());
      m_jobs.pop_front();
    }
    try {
      run_job(job, client);
    } catch (const std::exception& e) {
      // One bad probe (a full disk, a provider bug) must not take the daemon down.
      spdlog::error("account {}: probe failed internally: {}", job.account, e.what());
    }
    std::lock_guard lock(m_mutex);
    ++m_idle_workers;
    m_in_flight.erase(job.account);
    if (m_in_flight.empty()) m_idle_cv.notify_all();
  }
}

void Monitor::run_job(const Job& job, http::Client& client) {
  const auto* account = job.config;
  auto assessment = m_assessor.probe(*account, *job.provider, client, m_alerts.firing(account->name));
  if (assessment.error && m_cancel) {
    // Aborted by our own shutdown: that says nothing about the provider, so no rule may
    // judge it (it would raise e.g. a `stale` alert saying "Callback aborted").
    spdlog::debug("account {}: probe abandoned at shutdown", account->name);
    return;
  }
  ++m_probes_done;
  log_probe(*account, assessment);
  if (m_alerts.apply(*account, assessment, *job.runtime) > 0) m_outbox.wake();
  std::function<void(const Assessment&)> callback;
  {
    std::lock_guard lock(m_mutex);
    callback = m_on_probe;
  }
  if (callback) callback(assessment);
  std::lock_guard lock(m_mutex);
  m_latest[account->name] = std::move(assessment);
}

void Monitor::refresh_alerts(const Runtime& runtime) {
  try {
    if (m_alerts.refresh(runtime) > 0) m_outbox.wake();
  } catch (const std::exception& e) {
    spdlog::error("alert refresh: {}", e.what());
  }
}

void Monitor::housekeeping(TimePoint now) {
  std::shared_ptr<const Runtime> runtime;
  {
    std::lock_guard lock(m_mutex);
    runtime = m_runtime;
  }
  if (!runtime) return;
  try {
    const auto removed = m_store.prune(now - runtime->config.storage.retention);
    if (removed > 0) spdlog::info("retention: removed {} rows older than the retention period", removed);
  } catch (const std::exception& e) {
    spdlog::error("retention: {}", e.what());
  }
}

}  // namespace creditwatch::scheduler
