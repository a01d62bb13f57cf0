#include "creditwatch/scheduler/monitor.hpp"

#include "creditwatch/common/text.hpp"
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

// How often the loop judges every account's silence. An answer from a stale account is
// judged at once (the loop is woken), so this only bounds how late `stale` starts.
constexpr Duration k_stale_check_every = std::chrono::seconds(1);

// The shortest sleep of the loop between dispatches: a probe starts at most this late (the
// schedule does not drift: the next slot counts from the due time, not from the dispatch).
constexpr std::chrono::milliseconds k_dispatch_tick{5};

// How long the first probes wait for the ledgers' preload at start. Meanwhile it has the
// CPU and the store to itself: 64 probe threads loading their own ledgers one by one would
// starve the one thread that loads them all at once, and queue behind it on the store. The
// first round is spread over a second anyway; past this, probes load what is not loaded yet.
constexpr Duration k_preload_hold = std::chrono::seconds(1);

// The first housekeeping comes this long after the preload, not at start: its ledger save
// would rewrite every ledger just loaded (each moved on by the runs after its snapshot),
// thousands of writes in the middle of the first probe round.
constexpr Duration k_first_housekeeping_after_preload = std::chrono::seconds(30);

bool answered(const Assessment& a) { return a.observation.status != alerts::ProbeStatus::failed; }

// The store keeps wall-clock times; their age is the best guess of how long ago they were on
// the monotonic clock (a time in the future, after the wall clock stepped back, counts as now).
SteadyPoint steady_from_wall(TimePoint at, TimePoint wall_now, SteadyPoint steady_now) {
  return steady_now - std::max(std::chrono::duration_cast<Duration>(wall_now - at), Duration(0));
}

}  // namespace

Monitor::Monitor(storage::Store& store, const Clock& clock, notify::Outbox& outbox, MonitorOptions options)
    : m_store(store),
      m_clock(clock),
      m_outbox(outbox),
      m_options(options),
      m_assessor(store, clock),
      m_alerts(store, clock),
      m_digests(store, clock) {
  // The daemon serves /healthz and starts its heartbeats before the loop: until the loop goes
  // round, it counts as having just ticked, not as stalled since the clock's epoch (which
  // pinged the heartbeats' fail_url at every start that lost the race).
  m_last_tick = m_clock.monotonic().time_since_epoch().count();
}

Monitor::~Monitor() { stop(std::chrono::seconds(1)); }

void Monitor::set_runtime(std::shared_ptr<const Runtime> runtime) {
  seed_contacts(*runtime);
  std::lock_guard lock(m_mutex);
  const SteadyPoint now = m_clock.monotonic();
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
  std::erase_if(m_contacts, [&](const auto& entry) { return names.count(entry.first) == 0; });
  m_runtime = std::move(runtime);
  m_woken = true;
  m_loop_cv.notify_all();
}

// New accounts start with what the store knows of their last answer, so a restart neither
// forgets a long silence nor, before the first probe, counts the downtime against them.
// The store is read before the lock is taken: probes go on meanwhile. One bulk read for all
// of them (Store::latest_probes): at start this runs before /healthz is served, and 5,000
// accounts read one by one took 0.4 s of it.
void Monitor::seed_contacts(const Runtime& runtime) {
  std::vector<std::string> fresh;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& account : runtime.config.accounts) {
      if (m_contacts.count(account.name) == 0) fresh.push_back(account.name);
    }
  }
  if (fresh.empty()) return;
  std::unordered_map<std::string, TimePoint> last_answers;
  try {
    for (auto& known : m_store.latest_probes(fresh)) {
      if (!known.latest) continue;
      // The latest probe answered, or else the last success is the last answer.
      const auto& outcome = known.latest->outcome;
      const bool answer = outcome == "ok" || outcome == "key_invalid" || outcome == "exhausted";
      const std::optional<TimePoint> last = answer ? std::optional<TimePoint>(known.latest->at) : known.last_success;
      if (last) last_answers.emplace(std::move(known.account), *last);
    }
  } catch (const std::exception& e) {
    spdlog::error("cannot read the last answers of {} accounts; counting their silence from now: {}", fresh.size(),
                  e.what());
  }
  const TimePoint wall_now = m_clock.now();
  const SteadyPoint steady_now = m_clock.monotonic();
  std::lock_guard lock(m_mutex);
  for (const auto& name : fresh) {
    auto [contact, added] = m_contacts.try_emplace(name);
    if (!added) continue;
    contact->second.watched_since = steady_now;
    if (auto last = last_answers.find(name); last != last_answers.end()) {
      contact->second.answered = steady_from_wall(last->second, wall_now, steady_now);
    }
  }
}

void Monitor::wake() {
  {
    std::lock_guard lock(m_mutex);
    m_woken = true;
  }
  m_loop_cv.notify_all();
}

void Monitor::on_probe(std::function<void(const Assessment&)> callback) {
  std::lock_guard lock(m_mutex);
  m_on_probe = std::move(callback);
}

void Monitor::start() {
  m_last_tick = m_clock.monotonic().time_since_epoch().count();
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
  if (m_housekeeping_thread.joinable()) m_housekeeping_thread.join();  // it stops between batches
  if (m_digest_thread.joinable()) m_digest_thread.join();
  if (m_preload_thread.joinable()) m_preload_thread.join();            // and this between accounts
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
  save_ledgers();  // a clean stop leaves nothing for the next start to replay
}

SteadyPoint Monitor::last_tick() const { return SteadyPoint(SteadyPoint::duration(m_last_tick.load())); }

std::map<std::string, AssessmentSummary> Monitor::latest() const {
  std::lock_guard lock(m_mutex);
  return m_latest;
}

std::optional<AssessmentSummary> Monitor::latest(const std::string& account) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_latest.find(account);
  if (it == m_latest.end()) return std::nullopt;
  return it->second;
}

void Monitor::loop() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    const SteadyPoint now = m_clock.monotonic();
    m_last_tick = now.time_since_epoch().count();
    m_woken = false;
    if (m_options.ownership && now >= m_next_renewal) {
      m_next_renewal = now + m_options.ownership->renew_every();
      lock.unlock();
      renew_ownership();
      lock.lock();
      if (m_stopping) break;
    }
    // After the first renewal: a replica preloads only the accounts it owns (one it gains
    // later loads its ledger at its first probe here; one it hands over is forgotten).
    if (!m_preload_started && m_runtime) start_preload();
    const bool holding = m_preloading && now < m_preload_hold_until;
    std::size_t queued = 0;
    for (auto& account : holding ? std::vector<std::string>{} : m_schedule.take_due(now)) {
      // A probe still running (slow provider) is not queued twice; its slot is skipped.
      // Another replica's account keeps its place in the schedule, so it is probed on time
      // from the moment it moves here.
      auto target = m_targets.find(account);
      if (target == m_targets.end() || !owns(account) || !m_in_flight.insert(account).second) continue;
      m_jobs.push_back(Job{std::move(account), m_runtime, target->second.config, target->second.provider});
      ++queued;
    }
    // Also on ticks without new jobs: a thread that could not be started last time is
    // retried while jobs wait.
    ensure_workers();
    if (queued > 0) {
      // One worker per job (waking them all for each would have most go back to sleep), and
      // only once the lock is released: a worker woken while it is held would wake only to
      // sleep again on the mutex, two context switches per probe instead of one.
      lock.unlock();
      for (std::size_t i = 0; i < queued; ++i) m_jobs_cv.notify_one();
      lock.lock();
    }
    if (m_runtime) {
      auto runtime = m_runtime;
      std::vector<StaleCheck> checks;
      if (now >= m_next_stale_check) {
        checks = stale_checks(now);
        m_next_stale_check = now + k_stale_check_every;
      }
      lock.unlock();
      judge_stale(*runtime, checks);
      refresh_alerts(*runtime);
      escalate_alerts(*runtime);
      lock.lock();
    }
    if (now >= m_next_housekeeping && !m_housekeeping_running && !m_preloading) {
      // On a thread of its own: after a migration or a long outage the first prune can roll
      // up millions of runs, and the loop must go on dispatching probes (and feeding the
      // watchdog) meanwhile. One at a time; the previous one has finished when we join it.
      if (m_housekeeping_thread.joinable()) m_housekeeping_thread.join();
      m_housekeeping_running = true;
      m_housekeeping_thread = std::thread([this] {
        housekeeping();
        std::lock_guard done(m_mutex);
        m_housekeeping_running = false;
      });
      m_next_housekeeping = now + m_options.housekeeping_every;
    }
    start_digest_if_due();
    // Sleep until the next account is due, but wake at least every second so the
    // watchdog and /healthz see the loop alive, and at most every k_dispatch_tick: thousands
    // of accounts on a short interval are due a fraction of a millisecond apart, and a
    // wake-up each (with its handoffs) cost more than the probes' own work.
    auto wait = std::chrono::milliseconds(1000);
    if (holding) {
      // The preload wakes the loop when it is done.
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(m_preload_hold_until - now),
                        k_dispatch_tick, wait);
    } else if (auto next = m_schedule.next_due()) {
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - m_clock.monotonic()),
                        k_dispatch_tick, wait);
    }
    m_loop_cv.wait_for(lock, wait, [&] { return m_stopping || m_woken; });
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
  // Made on the first job, inside its try: nothing may escape a probe thread (std::terminate).
  std::unique_ptr<http::CurlClient> client;
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
    // One bad probe (a full disk, a provider bug) must not take the daemon down. The loop
    // still judges the account's silence, so it goes stale if this goes on.
    auto failed = [&](const std::string& what) {
      const auto message = "probe failed internally: " + safe_text(what, LineBreaks::fold);
      spdlog::error("account {}: {}", job.account, message);
      std::lock_guard lock(m_mutex);
      if (auto contact = m_contacts.find(job.account); contact != m_contacts.end()) {
        contact->second.probed = true;
        contact->second.last_error = message;
      }
    };
    bool finished = false;
    try {
      if (!client) {
        client = std::make_unique<http::CurlClient>();
        client->set_cancel_flag(&m_cancel);
      }
      finished = run_job(job, *client);
    } catch (const std::exception& e) {
      failed(e.what());
    } catch (...) {
      failed("unknown exception");
    }
    std::lock_guard lock(m_mutex);
    ++m_idle_workers;
    m_in_flight.erase(job.account);
    // Counted only now: one who sees the count go up (a test moving its fake clock) may ask
    // for the account's next probe at once, and the loop skips an account still in flight.
    if (finished) ++m_probes_done;
    if (m_in_flight.empty()) m_idle_cv.notify_all();
  }
}

bool Monitor::run_job(const Job& job, http::Client& client) {
  const auto* account = job.config;
  auto assessment = m_assessor.probe(*account, *job.provider, client, m_alerts.firing(account->name));
  if (assessment.error && m_cancel) {
    // Aborted by our own shutdown: that says nothing about the provider, so no rule may
    // judge it (it would raise e.g. a `stale` alert saying "Callback aborted").
    spdlog::debug("account {}: probe abandoned at shutdown", account->name);
    return false;
  }
  record_contact(account->name, assessment);
  log_probe(*account, assessment);
  {
    // Not while a renewal hands accounts over: an account handed over mid-probe must not be
    // judged here on state this replica has just forgotten (it would page again as new).
    std::shared_lock handover(m_handover_mutex);
    if (judges(account->name) && m_alerts.apply(*account, assessment, *job.runtime) > 0) m_outbox.wake();
  }
  std::function<void(const Assessment&)> callback;
  {
    std::lock_guard lock(m_mutex);
    callback = m_on_probe;
  }
  if (callback) callback(assessment);
  auto summary = summarize(assessment);  // outside the lock: it writes the details' text
  std::lock_guard lock(m_mutex);
  auto& latest = m_latest[account->name];
  if (!answered(assessment)) {
    // Still silent: the loop's stale verdict stands until it judges again.
    for (const auto& f : latest.firing) {
      if (f.rule == alerts::Rule::stale) {
        summary.firing.push_back(f);
        summary.state = worse(summary.state, CheckState::warning);
      }
    }
  }
  latest = std::move(summary);
  return true;
}

// Before the probe's alerts are applied, so a failure there still counts the answer.
void Monitor::record_contact(const std::string& account, const Assessment& assessment) {
  const bool heard = answered(assessment);
  const bool recheck = heard && m_alerts.is_firing(account, alerts::Rule::stale);
  std::lock_guard lock(m_mutex);
  auto contact = m_contacts.find(account);
  if (contact == m_contacts.end()) return;  // removed by a reload meanwhile
  contact->second.probed = true;
  if (heard) contact->second.answered = m_clock.monotonic();
  contact->second.last_error = assessment.error ? assessment.error->message : "";
  if (recheck) {
    // A stale account answered: resolve now rather than at the next round.
    m_next_stale_check = {};
    m_woken = true;
    m_loop_cv.notify_all();
  }
}

std::vector<Monitor::StaleCheck> Monitor::stale_checks(SteadyPoint now) const {
  std::vector<StaleCheck> checks;
  checks.reserve(m_targets.size());
  for (const auto& [name, target] : m_targets) {
    if (!judges(name)) continue;
    auto found = m_contacts.find(name);
    if (found == m_contacts.end()) continue;
    const Contact& contact = found->second;
    const auto watched = std::chrono::duration_cast<Duration>(now - contact.watched_since);
    auto silent = contact.answered ? std::chrono::duration_cast<Duration>(now - *contact.answered) : watched;
    // Until a probe has finished since watching began, time the daemon was not running does
    // not count against the account: a restart after a week off must not page at once.
    if (!contact.probed) silent = std::min(silent, watched);
    checks.push_back(
        StaleCheck{name, target.config, alerts::Unanswered{silent, contact.answered.has_value(), ""}, contact.answered});
    if (contact.probed) checks.back().silence.last_error = contact.last_error;
  }
  return checks;
}

// The one place `stale` is decided. Only a firing verdict or a firing alert reaches the
// engine (which then starts, repeats or resolves it); an alert is resolved only on the
// evidence of a probe since watching began.
void Monitor::judge_stale(const Runtime& runtime, const std::vector<StaleCheck>& checks) {
  std::size_t queued = 0;
  for (const auto& check : checks) {
    try {
      auto finding = alerts::stale(check.silence, thresholds_for(*check.config));
      if (!finding.firing && !m_alerts.is_firing(check.account, alerts::Rule::stale)) continue;
      std::optional<AssessmentSummary> latest_figures;
      {
        std::lock_guard lock(m_mutex);
        auto contact = m_contacts.find(check.account);
        if (contact == m_contacts.end()) continue;  // removed by a reload meanwhile
        if (!finding.firing && !contact->second.probed) continue;
        // An answer that came in after the snapshot makes a firing verdict stale itself:
        // acting on it would page and resolve within a second.
        if (finding.firing && contact->second.answered != check.answered) continue;
        if (auto latest = m_latest.find(check.account); latest != m_latest.end()) latest_figures = latest->second;
      }
      // Out of the lock: it parses the balances' details back.
      Assessment figures = latest_figures ? to_assessment(*latest_figures) : Assessment{};
      figures.account = check.account;
      figures.provider = check.config->provider;
      figures.findings = {finding};
      queued += m_alerts.apply(*check.config, figures, runtime);
      // The API shows the verdict beside the latest probe's findings.
      std::lock_guard lock(m_mutex);
      if (auto latest = m_latest.find(check.account); latest != m_latest.end()) {
        auto& firing = latest->second.firing;
        std::erase_if(firing, [](const alerts::Finding& f) { return f.rule == alerts::Rule::stale; });
        if (finding.firing) {
          firing.push_back(finding);
          latest->second.state = worse(latest->second.state, CheckState::warning);
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("account {}: judging stale: {}", check.account, e.what());
    }
  }
  if (queued > 0) m_outbox.wake();
}

void Monitor::refresh_alerts(const Runtime& runtime) {
  try {
    // Silences and acknowledgements first: a silence that ended releases what it held.
    const auto released = m_alerts.tick(runtime);
    if (m_alerts.refresh(runtime) + released > 0) m_outbox.wake();
  } catch (const std::exception& e) {
    spdlog::error("alert refresh: {}", e.what());
  }
}

void Monitor::escalate_alerts(const Runtime& runtime) {
  try {
    if (m_alerts.escalate(runtime) > 0) m_outbox.wake();
  } catch (const std::exception& e) {
    spdlog::error("alert escalation: {}", e.what());
  }
}

bool Monitor::owns(const std::string& account) const {
  return !m_options.ownership || m_options.ownership->owns(account);
}

// Whether this replica may judge the account's alerts: it owns it under a lease that has not
// run out. Cut off from the database, a replica keeps probing what it held, but once its
// leases have expired another replica may have taken them; back in touch, it must renew (and
// learn what it lost) before it judges, or both would page for the same change.
bool Monitor::judges(const std::string& account) const {
  if (!m_options.ownership) return true;
  return m_options.ownership->holds(account);
}

void Monitor::renew_ownership() {
  std::vector<std::string> accounts;
  {
    std::lock_guard lock(m_mutex);
    accounts.reserve(m_targets.size());
    for (const auto& entry : m_targets) accounts.push_back(entry.first);
  }
  std::unique_lock handover(m_handover_mutex);
  auto change = m_options.ownership->renew(accounts);
  for (const auto& account : change.lost) {
    m_alerts.forget(account);
    m_assessor.forget(account);
  }
  for (const auto& account : change.gained) {
    // Its previous owner stored its readings and alert state: start from those.
    m_assessor.forget(account);
    try {
      m_alerts.reload(account);
    } catch (const std::exception& e) {
      // Judged on no state, a firing alert would page again as new and its resolve be lost:
      // give the account back, and take it again (and load again) at the next renewal.
      spdlog::error("account {}: cannot load its alert state, leaving it for now: {}", account, e.what());
      m_options.ownership->drop(account);
      m_alerts.forget(account);
    }
  }
  handover.unlock();
  {
    std::lock_guard lock(m_mutex);
    for (const auto& account : change.lost) {
      m_latest.erase(account);
      m_contacts.erase(account);
    }
    // Its slot in the schedule kept running while another replica had it, so it is probed
    // within one interval.
    for (const auto& account : change.gained) m_contacts.erase(account);
  }
  if (!change.gained.empty()) {
    std::shared_ptr<const Runtime> runtime;
    {
      std::lock_guard lock(m_mutex);
      runtime = m_runtime;
    }
    if (runtime) seed_contacts(*runtime);
  }
}

void Monitor::start_preload() {
  m_preload_started = true;
  m_assessor.begin_preload();  // before the owned accounts are chosen: see begin_preload()
  std::vector<const config::AccountConfig*> accounts;
  accounts.reserve(m_targets.size());
  for (const auto& [name, target] : m_targets) {
    if (owns(name)) accounts.push_back(target.config);
  }
  try {
    m_preload_thread = std::thread([this, runtime = m_runtime, accounts = std::move(accounts)]() mutable {
      preload_ledgers(std::move(runtime), std::move(accounts));
    });
    m_preloading = true;
    m_preload_hold_until = m_clock.monotonic() + k_preload_hold;
  } catch (const std::system_error& e) {
    m_assessor.end_preload();
    spdlog::warn("cannot start the thread that loads the forecast ledgers; each probe loads its own: {}", e.what());
  }
}

void Monitor::preload_ledgers(std::shared_ptr<const Runtime> runtime,
                              std::vector<const config::AccountConfig*> accounts) {
  // `runtime` keeps the configs alive: a reload may replace m_runtime meanwhile.
  const SteadyPoint started = m_clock.monotonic();
  try {
    const auto loaded = m_assessor.preload(accounts, [this] {
      std::lock_guard lock(m_mutex);
      return m_stopping;
    });
    spdlog::info("loaded {} forecast ledgers ahead of the first probes ({} accounts owned here of {}) in {:.2f}s",
                 loaded, accounts.size(), runtime->config.accounts.size(),
                 std::chrono::duration<double>(m_clock.monotonic() - started).count());
  } catch (const std::exception& e) {
    spdlog::error("loading the forecast ledgers: {} (each probe loads its own)", e.what());
  }
  {
    std::lock_guard lock(m_mutex);
    m_preloading = false;
    m_next_housekeeping = std::max(m_next_housekeeping, m_clock.monotonic() + k_first_housekeeping_after_preload);
    m_woken = true;
  }
  m_loop_cv.notify_all();
}

void Monitor::housekeeping() {
  std::shared_ptr<const Runtime> runtime;
  {
    std::lock_guard lock(m_mutex);
    runtime = m_runtime;
  }
  if (!runtime) return;
  try {
    // Off the probe path, in batches: each call is one short transaction, so a probe write
    // waits behind at most one batch.
    const auto now = m_clock.now();
    const auto& kept = runtime->config.storage;
    std::size_t removed = 0;
    for (;;) {
      // Nothing outlives `retention`: a raw_retention left at its default is capped by it.
      const auto step = m_store.prune(now - std::min(kept.raw_retention, kept.retention), now - kept.retention);
      removed += step;
      if (step < storage::Store::k_prune_batch) break;
      std::lock_guard lock(m_mutex);
      if (m_stopping) break;
    }
    if (removed > 0) spdlog::info("retention: rolled up or removed {} rows older than the retention periods", removed);
  } catch (const std::exception& e) {
    spdlog::error("retention: {}", e.what());
  }
  save_ledgers();
}

void Monitor::start_digest_if_due() {
  if (!m_runtime || m_digest_running || !m_digests.due(m_runtime->config.digest)) return;
  // On a thread of its own: it reads every account's history, which the loop must not wait for.
  if (m_digest_thread.joinable()) m_digest_thread.join();
  m_digest_running = true;
  m_digest_thread = std::thread([this, runtime = m_runtime] {
    if (m_digests.send_due(runtime->config, m_assessor) > 0) m_outbox.wake();
    std::lock_guard done(m_mutex);
    m_digest_running = false;
  });
}

void Monitor::save_ledgers() {
  try {
    const auto saved = m_assessor.save_ledgers();
    if (saved > 0) spdlog::debug("saved {} forecast ledgers", saved);
  } catch (const std::exception& e) {
    // The next save tries again; a restart meanwhile replays more readings, nothing worse.
    spdlog::error("saving forecast ledgers: {}", e.what());
  }
}

}  // namespace creditwatch::scheduler
