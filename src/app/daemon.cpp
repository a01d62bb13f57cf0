// `creditwatch run`: wiring only. Signals are read synchronously with sigtimedwait in the
// main thread (blocked everywhere else), so no work ever happens inside a signal handler.
#include "creditwatch/app/commands.hpp"
#include "creditwatch/app/config_changes.hpp"
#include "creditwatch/app/logging.hpp"
#include "creditwatch/app/store_location.hpp"
#include "creditwatch/app/systemd.hpp"
#include "creditwatch/common/database_url.hpp"
#include "creditwatch/notify/heartbeats.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/maintenance.hpp"
#include "creditwatch/scheduler/monitor.hpp"
#include "creditwatch/scheduler/assessment_json.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/server/alert_controls.hpp"
#include "creditwatch/server/http_server.hpp"
#include "creditwatch/server/metrics.hpp"
#include "creditwatch/server/telemetry.hpp"
#include "creditwatch/storage/series.hpp"
#include "creditwatch/storage/store.hpp"
#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/version.hpp"

#include <spdlog/spdlog.h>

#include <malloc.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <mutex>

namespace creditwatch::app {
namespace {

// How long in-flight probes and deliveries together get to finish at SIGTERM before their
// transfers are aborted. One budget, not one each: probes and deliveries run at the same time,
// and systemd's and the container runtime's stop timeouts (90 s, 10 s) must hold on a slow
// machine too. An aborted delivery stays pending and goes out after the restart.
constexpr Duration k_shutdown_grace = std::chrono::seconds(3);
constexpr Duration k_last_delivery_grace = std::chrono::seconds(1);
// /healthz turns 503 when the scheduler loop (which wakes at least every second) has been
// silent this long.
constexpr Duration k_loop_silence_limit = std::chrono::seconds(10);
// How often the main loop tests that the database takes a write, for /healthz.
constexpr Duration k_writable_check_every = std::chrono::seconds(2);
// How often the WAL is copied back into the database, off the probes' commit path.
constexpr Duration k_checkpoint_every = std::chrono::milliseconds(500);
// glibc gives each thread that allocates its own heap arena (up to 8 per core); with 16
// probe threads that is mostly fragmentation. Two arenas measured 10 MiB less peak RSS at
// 5,000 accounts with no loss of probe rate (docs/benchmarks.md).
constexpr int k_malloc_arenas = 2;
// How long what the store says of an account not probed here is reused by the API.
constexpr Duration k_stored_figures_for = std::chrono::seconds(5);
// What GET /api/v1/accounts/NAME/series covers when the request names no `from`, and how
// many points it aims at when it names no `step`.
constexpr Duration k_default_series_span = std::chrono::hours(24 * 7);
constexpr std::size_t k_default_series_points = 500;
// What GET /api/v1/accounts/NAME/samples covers when the request names no `since`.
constexpr Duration k_default_samples_span = std::chrono::hours(24 * 7);

// A delivery's claim outlasts the longest sink request (an email: up to 20 s) with room to
// spare, and grows with the lease: a replica killed mid-send has its notification sent by
// another soon after its accounts have moved.
constexpr Duration k_claim_beyond_lease = std::chrono::seconds(30);

notify::RetryPolicy retry_policy(const config::Config& c) {
  return notify::RetryPolicy{c.alerting.retry_initial, c.alerting.retry_max, c.alerting.dead_after, 0.2,
                             c.ha.lease + k_claim_beyond_lease};
}

void apply_logging(const config::Config& c, const std::string& cli_level) {
  setup_logging(cli_level.empty() ? c.logging.level : cli_level, c.logging.format);
  set_log_redactions(c.secrets());
}

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::vector<notify::HeartbeatTarget> heartbeat_targets(const scheduler::Runtime& runtime) {
  return notify::heartbeat_targets(runtime.config, runtime.notifiers, config::replica_id(runtime.config.ha));
}

scheduler::MonitorOptions monitor_options(scheduler::Ownership* ownership) {
  scheduler::MonitorOptions options;
  options.ownership = ownership;
  return options;
}

// The database for the log: the SQLite path, or the PostgreSQL URL without its password.
std::string database_name(const config::StorageConfig& storage) {
  return storage.url ? redact_database_url(*storage.url) : storage.path;
}

std::string status_line(const scheduler::Runtime& runtime, const scheduler::Monitor& monitor) {
  return "STATUS=watching " + std::to_string(runtime.config.accounts.size()) + " accounts, " +
         std::to_string(monitor.probes_done()) + " probes done";
}

class Daemon {
public:
  Daemon(std::shared_ptr<scheduler::Runtime> runtime, const RunOptions& options)
      : m_options(options),
        m_runtime(std::move(runtime)),
        m_store_owner(storage::open_store(store_location(m_runtime->config.storage))),
        m_store(*m_store_owner),
        m_replica_id(config::replica_id(m_runtime->config.ha)),
        m_ownership(m_store.shared() ? std::make_unique<scheduler::Ownership>(m_store, m_clock, m_replica_id,
                                                                              m_runtime->config.ha.lease)
                                     : nullptr),
        m_outbox(m_store, m_clock, retry_policy(m_runtime->config), m_replica_id),
        m_monitor(m_store, m_clock, m_outbox, monitor_options(m_ownership.get())),
        m_assessor(m_store, m_clock),
        m_controls(m_store, m_monitor.alert_engine(), m_clock, [this] { return this->runtime(); },
                   [this] {
                     m_monitor.wake();
                     m_outbox.wake();
                   }) {}

  int run() {
    if (m_ownership) set_log_replica(m_replica_id);
    m_store.set_max_size(m_runtime->config.storage.max_size);
    m_store.start_background_work(k_checkpoint_every);
    check_writable();  // before the first /healthz can be asked
    m_outbox.set_notifiers(m_runtime->notifiers, retry_policy(m_runtime->config));
    m_monitor.on_probe([this](const scheduler::Assessment& a) { m_telemetry.record_probe(a); });
    m_monitor.set_runtime(m_runtime);
    start_http(m_runtime->config.http);
    m_heartbeats.set_targets(heartbeat_targets(*m_runtime));
    m_heartbeats.start();
    m_monitor.start();
    spdlog::info("creditwatch {} watching {} accounts, {} notifiers, database {}{}", k_version,
                 m_runtime->config.accounts.size(), m_runtime->notifiers.size(), database_name(m_runtime->config.storage),
                 m_ownership ? ", replica " + m_replica_id + " (accounts shared with the other replicas)" : "");
    notify_systemd("READY=1\n" + status_line(*m_runtime, m_monitor));
    wait_for_signals();
    notify_systemd("STOPPING=1");
    spdlog::info("shutting down");
    m_heartbeats.stop();
    if (m_http) m_http->stop();
    const auto give_up_at = std::chrono::steady_clock::now() + k_shutdown_grace;
    m_monitor.stop(k_shutdown_grace);
    // After the last probe and before the last delivery: the others take this replica's
    // accounts at their next renewal instead of after the lease.
    if (m_ownership) m_ownership->leave();
    // At least a second: a delivery the last probes started has a fair chance to finish
    // rather than go out again after the restart.
    m_outbox.stop(std::max(k_last_delivery_grace, std::chrono::duration_cast<Duration>(
                                                      give_up_at - std::chrono::steady_clock::now())));
    spdlog::info("stopped cleanly");
    return 0;
  }

private:
  std::shared_ptr<scheduler::Runtime> runtime() const {
    std::lock_guard lock(m_runtime_mutex);
    return m_runtime;
  }

  // Throws when http.listen cannot be bound.
  void start_http(const config::HttpConfig& http) {
    if (http.listen == "off") return;
    server::Endpoints endpoints{
        [this] { return health(); },
        [this] { return metrics(); },
        [this](const server::AccountsQuery& query) { return accounts_json(query); },
        [this](const std::string& account, const server::SamplesQuery& query) { return samples_json(account, query); },
        [this] { return cluster_json(); },
        [this] { return summary_json(); },
        [this](const std::string& account, const server::SeriesQuery& query) { return series_json(account, query); },
        [this](const std::string& account) { return account_json(account); },
        [this](const std::string& body) { return m_controls.add_silence(body); },
        [this](bool all) { return m_controls.silences(all); },
        [this](const std::string& id) { return m_controls.expire_silence(id); },
        [this](const std::string& account, const std::string& rule, const std::string& body) {
          return m_controls.acknowledge(account, rule, body);
        },
        [this](const std::string& account, const std::string& rule) { return m_controls.unacknowledge(account, rule); },
        [this] { return scheduler::maintenance_json(runtime()->config.maintenance, m_clock.now()); },
    };
    auto server = std::make_unique<server::HttpServer>(std::move(endpoints), http.auth_token);
    log_serving(http.listen, server->start(http.listen));
    m_http = std::move(server);
    m_listening = http.listen;
  }

  static void log_serving(const std::string& listen, int port) {
    const auto address = server::parse_listen(listen);
    const auto host = address ? address->first : listen;
    spdlog::info("serving HTTP on http://{}:{}/", host.find(':') != std::string::npos ? "[" + host + "]" : host, port);
  }

  // On reload: the new listener is bound before the old one goes, so a listen address
  // that cannot be bound leaves the daemon serving where it was.
  void apply_http(const config::HttpConfig& http) {
    if (http.listen != m_listening) {
      try {
        if (http.listen == "off") {
          m_http.reset();
          spdlog::warn("http.listen changed from {} to off: no longer serving HTTP", m_listening);
        } else if (!m_http) {
          start_http(http);
          spdlog::info("http.listen changed from off to {}; applied", http.listen);
        } else {
          log_serving(http.listen, m_http->rebind(http.listen));
          spdlog::info("http.listen changed from {} to {}; applied", m_listening, http.listen);
        }
        m_listening = http.listen;
      } catch (const std::exception& e) {
        spdlog::error("http.listen changed to {} but it cannot be used ({}); still serving on {}. Fix it and "
                      "reload, or restart",
                      http.listen, e.what(), m_listening);
      }
    }
    if (m_http) m_http->set_auth_token(http.auth_token);
  }

  std::pair<bool, std::string> health() {
    const auto silent = m_clock.monotonic() - m_monitor.last_tick();
    if (silent > k_loop_silence_limit) return {false, "scheduler loop stalled"};
    if (auto error = m_store.write_error()) return {false, "database write failed: " + *error};
    if (!m_writable) return {false, "database not writable"};
    return {true, ""};
  }

  std::string metrics() {
    const auto current = runtime();
    server::MetricsSnapshot snapshot;
    snapshot.latest = m_monitor.latest();
    for (const auto& a : current->config.accounts) snapshot.labels[a.name] = a.labels;
    snapshot.alerts = m_store.alerts();
    for (const auto& a : snapshot.alerts) {
      const auto* account = current->config.find_account(a.account);
      if (a.state == "firing" && account && m_controls.silenced(*account, a, *current)) {
        snapshot.silenced.insert({a.account, a.rule});
      }
    }
    snapshot.deliveries = m_outbox.counts();
    snapshot.telemetry = &m_telemetry;
    snapshot.storage_write_failures = m_store.write_failures();
    snapshot.heartbeats = m_heartbeats.statuses();
    if (m_ownership) {
      const auto renewed = m_ownership->last_renewal();
      snapshot.replica = server::MetricsSnapshot::Replica{
          m_replica_id, m_ownership->owned().size(),
          renewed == TimePoint{} ? std::nullopt : std::optional<TimePoint>(renewed), m_ownership->renewal_failures()};
    }
    return server::render_metrics(snapshot);
  }

  // Who probes which account: the lease holders in a cluster, this process otherwise.
  std::map<std::string, std::string> probers() {
    std::map<std::string, std::string> out;
    if (!m_ownership) return out;
    const auto now = m_clock.now();
    try {
      for (const auto& lease : m_store.leases()) {
        if (lease.expires >= now) out[lease.account] = lease.owner;
      }
    } catch (const std::exception&) {
      // The database is away: show what this replica knows it holds.
      for (const auto& account : m_ownership->owned()) out[account] = m_replica_id;
    }
    return out;
  }

  nlohmann::json cluster_json() {
    const auto now = m_clock.now();
    nlohmann::json replicas = nlohmann::json::array();
    if (!m_ownership) {
      replicas.push_back({{"id", m_replica_id}, {"self", true}, {"live", true},
                          {"accounts", runtime()->config.accounts.size()}});
      return {{"backend", m_store.backend()}, {"replica_id", m_replica_id}, {"replicas", replicas}};
    }
    const auto lease = m_ownership->lease();
    std::map<std::string, std::vector<std::string>> held;
    for (const auto& [account, owner] : probers()) held[owner].push_back(account);
    for (const auto& r : m_store.replicas(now)) {
      // A replica gone for an hour (killed, not restarted under its id) is history, not
      // the cluster; its row goes with the retention prune.
      if (r.last_seen < now - std::max<Duration>(lease * 10, std::chrono::hours(1))) continue;
      replicas.push_back({{"id", r.id},
                          {"self", r.id == m_replica_id},
                          {"live", r.last_seen >= now - lease},
                          {"started", format_rfc3339(r.started)},
                          {"last_renewal", format_rfc3339(r.last_seen)},
                          {"accounts", r.accounts},
                          {"held", held[r.id]}});
    }
    return {{"backend", m_store.backend()},
            {"replica_id", m_replica_id},
            {"lease_seconds", std::chrono::duration<double>(lease).count()},
            {"replicas", replicas},
            {"generated_at", format_rfc3339(now)}};
  }

  // What the store says of an account this process has not probed yet (just started, or
  // probed by another replica), kept a few seconds: sorting or filtering the fleet by state
  // reads every account, and judging one from the store reads its recent history.
  std::shared_ptr<const scheduler::AssessmentSummary> stored_assessment(const config::AccountConfig& account) {
    const SteadyPoint now = m_clock.monotonic();
    {
      std::lock_guard lock(m_stored_mutex);
      if (auto it = m_stored.find(account.name); it != m_stored.end() && now - it->second.first < k_stored_figures_for) {
        return it->second.second;
      }
    }
    auto fresh =
        std::make_shared<const scheduler::AssessmentSummary>(scheduler::summarize(m_assessor.from_store(account)));
    std::lock_guard lock(m_stored_mutex);
    if (m_stored.size() > 2 * runtime()->config.accounts.size()) {
      std::erase_if(m_stored, [&](const auto& entry) { return now - entry.second.first >= k_stored_figures_for; });
    }
    m_stored[account.name] = {now, fresh};
    return fresh;
  }

  // Every configured account with its latest assessment, or what the store says of it when
  // `complete` (without it, accounts not probed yet have none: enough to sort by name).
  struct Fleet {
    std::shared_ptr<scheduler::Runtime> runtime;
    std::map<std::string, scheduler::AssessmentSummary> latest;
    std::vector<std::shared_ptr<const scheduler::AssessmentSummary>> stored;
    std::vector<server::ListedAccount> accounts;
  };
  Fleet fleet(bool complete) {
    Fleet f;
    f.runtime = runtime();
    f.latest = m_monitor.latest();
    f.accounts.reserve(f.runtime->config.accounts.size());
    for (const auto& account : f.runtime->config.accounts) {
      const scheduler::AssessmentSummary* assessment = nullptr;
      if (auto it = f.latest.find(account.name); it != f.latest.end()) {
        assessment = &it->second;
      } else if (complete) {
        assessment = f.stored.emplace_back(stored_assessment(account)).get();
      }
      f.accounts.push_back({&account.name, &account.labels, assessment, &account.provider});
    }
    return f;
  }

  // One page of GET /api/v1/accounts. Only sorting or filtering by a figure needs every
  // account judged; by name, only the page's rows are.
  nlohmann::json accounts_json(const server::AccountsQuery& query) {
    auto f = fleet(query.sort != server::AccountSort::name || query.state.has_value());
    const auto page = server::page_accounts(f.accounts, query);
    std::vector<std::string> names;
    names.reserve(page.rows.size());
    for (const auto& row : page.rows) names.push_back(*row.name);
    const auto alerts = m_store.alerts_of(names);  // the page's only: the whole table is slow
    const auto probed_by = probers();
    std::map<std::string, nlohmann::json> firing;
    for (const auto& name : names) firing[name] = nlohmann::json::array();
    for (const auto& a : alerts) {
      auto it = firing.find(a.account);
      const auto* account = f.runtime->config.find_account(a.account);
      if (it == firing.end() || a.state != "firing" || !account) continue;
      it->second.push_back(m_controls.alert_json(*account, a, *f.runtime));
    }
    // Rows not probed here yet are judged from the store, now that the page is known.
    std::map<const std::string*, std::shared_ptr<const scheduler::AssessmentSummary>> unprobed;
    for (const auto& row : page.rows) {
      if (!row.assessment) unprobed[row.name];
    }
    for (const auto& account : f.runtime->config.accounts) {
      if (auto it = unprobed.find(&account.name); it != unprobed.end()) it->second = stored_assessment(account);
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& row : page.rows) {
      auto j = scheduler::to_json(row.assessment ? *row.assessment : *unprobed.at(row.name));
      j["labels"] = *row.labels;
      if (m_ownership) {
        const auto owner = probed_by.find(*row.name);
        j["probed_by"] = owner != probed_by.end() ? nlohmann::json(owner->second) : nlohmann::json(nullptr);
      } else {
        j["probed_by"] = m_replica_id;
      }
      j["alerts"] = std::move(firing[*row.name]);
      list.push_back(std::move(j));
    }
    return {{"accounts", std::move(list)},
            {"total", page.total},
            {"limit", query.limit},
            {"next_cursor", page.next_cursor ? nlohmann::json(*page.next_cursor) : nlohmann::json(nullptr)},
            {"generated_at", format_rfc3339(m_clock.now())},
            {"replicated", m_ownership != nullptr}};
  }

  // GET /api/v1/summary: the fleet at a glance. Balances are summed per currency over every
  // currency each account reads; burn per day over the accounts whose rules use it.
  nlohmann::json summary_json() {
    const auto f = fleet(true);
    std::map<std::string, std::size_t> states;
    for (const char* state : {"OK", "WARNING", "CRITICAL", "UNKNOWN"}) states[state] = 0;
    struct Totals {
      std::size_t accounts = 0;
      Decimal balance;
      double burn_per_day = 0;
    };
    std::map<std::string, Totals> currencies;
    for (const auto& account : f.accounts) {
      const auto& a = *account.assessment;
      ++states[scheduler::to_string(a.state)];
      for (const auto& b : a.balances) {
        auto& t = currencies[b.currency];
        ++t.accounts;
        t.balance += b.balance;
      }
      if (a.forecast && a.forecast->burn_per_day && !a.currency.empty()) {
        currencies[a.currency].burn_per_day += *a.forecast->burn_per_day;
      }
    }
    // Accounts with something firing, and those whose every firing alert a silence holds.
    std::map<std::string, std::pair<std::size_t, std::size_t>> firing;  // account -> (firing, silenced)
    for (const auto& a : m_store.alerts()) {
      const auto* account = f.runtime->config.find_account(a.account);
      if (a.state != "firing" || !account) continue;
      auto& counts = firing[a.account];
      ++counts.first;
      if (m_controls.silenced(*account, a, *f.runtime)) ++counts.second;
    }
    const auto silenced = static_cast<std::size_t>(
        std::count_if(firing.begin(), firing.end(), [](const auto& e) { return e.second.first == e.second.second; }));
    nlohmann::json totals = nlohmann::json::object();
    for (const auto& [currency, t] : currencies) {
      totals[currency] = {{"accounts", t.accounts}, {"balance", t.balance.to_double()}, {"burn_per_day", t.burn_per_day}};
    }
    return {{"accounts", f.accounts.size()},
            {"states", states},
            {"silenced", silenced},
            {"currencies", totals},
            {"generated_at", format_rfc3339(m_clock.now())}};
  }

  // GET /api/v1/accounts/NAME: what the listing says of the account, plus what its page
  // shows: its settings (the API key only as set or not, the base URL without credentials
  // or query), every alert it has had, and its latest probe.
  std::optional<nlohmann::json> account_json(const std::string& name) {
    const auto current = runtime();
    const auto* account = current->config.find_account(name);
    if (!account) return std::nullopt;
    const auto latest = m_monitor.latest(name);
    auto j = scheduler::to_json(latest ? *latest : *stored_assessment(*account));
    j["labels"] = account->labels;
    if (m_ownership) {
      const auto probed_by = probers();
      const auto owner = probed_by.find(name);
      j["probed_by"] = owner != probed_by.end() ? nlohmann::json(owner->second) : nlohmann::json(nullptr);
    } else {
      j["probed_by"] = m_replica_id;
    }
    nlohmann::json firing = nlohmann::json::array();
    nlohmann::json history = nlohmann::json::array();
    for (const auto& a : m_store.alerts(name)) {
      if (a.state == "firing") firing.push_back(m_controls.alert_json(*account, a, *current));
      history.push_back({{"rule", a.rule},
                         {"state", a.state},
                         {"severity", a.severity},
                         {"since", format_rfc3339(a.since)},
                         {"last_notified", format_rfc3339(a.last_notified)}});
    }
    j["alerts"] = std::move(firing);
    j["alert_history"] = std::move(history);
    j["last_probe"] = nullptr;
    if (const auto probe = m_store.latest_probe(name)) {
      j["last_probe"] = {{"at", format_rfc3339(probe->at)},
                         {"outcome", probe->outcome},
                         {"http_status", probe->http_status},
                         {"latency_seconds", probe->latency_seconds},
                         {"message", probe->message}};
    }
    const auto counts = m_store.probe_counts(name);
    j["probe_counts"] = {{"ok", counts.ok}, {"failed", counts.failed}};
    j["settings"] = settings_json(*account);
    return j;
  }

  static nlohmann::json settings_json(const config::AccountConfig& account) {
    const auto& t = account.tuning;
    const auto seconds = [](Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); };
    return {{"provider", account.provider},
            {"base_url", without_credentials(account.base_url)},
            {"api_key", account.api_key.empty() ? "not set" : "set (redacted)"},
            {"currency", account.currency ? nlohmann::json(*account.currency) : nlohmann::json(nullptr)},
            {"min_balance", account.min_balance ? nlohmann::json(account.min_balance->to_string()) : nlohmann::json(nullptr)},
            {"min_balance_warning", account.min_balance_warning ? nlohmann::json(account.min_balance_warning->to_string())
                                                                : nlohmann::json(nullptr)},
            {"warn_percent_left", t.warn_percent_left ? nlohmann::json(*t.warn_percent_left) : nlohmann::json(nullptr)},
            {"critical_percent_left",
             t.critical_percent_left ? nlohmann::json(*t.critical_percent_left) : nlohmann::json(nullptr)},
            {"percent_of", config::percent_reference(account) ? nlohmann::json(config::percent_reference(account)->to_string())
                                                              : nlohmann::json(nullptr)},
            {"interval", format_duration(t.interval)},
            {"interval_seconds", seconds(t.interval)},
            {"timeout", format_duration(t.timeout)},
            {"burn_window", format_duration(t.burn_window)},
            {"stale_after", format_duration(t.stale_after)},
            {"warn_days", t.warn_days},
            {"critical_days", t.critical_days},
            {"target_days", t.target_days},
            {"topup_lead_time", format_duration(t.topup_lead_time)},
            {"notify", account.notify}};
  }

  // "https://user:pass@host/v1?key=..." -> "https://host/v1": a URL may carry a credential
  // in its user part or its query, and the page must not show one.
  static std::string without_credentials(const std::string& url) {
    std::string out = url.substr(0, url.find_first_of("?#"));
    const auto scheme = out.find("://");
    const auto host = scheme == std::string::npos ? 0 : scheme + 3;
    const auto at = out.find('@', host);
    if (at != std::string::npos && at < out.find('/', host)) out.erase(host, at + 1 - host);
    return out;
  }

  // GET /api/v1/accounts/NAME/series: the account's rule currency (or the one it reads) over
  // [from, to) in steps of whole hours, or under an hour in multiples of its interval (no
  // finer than the readings). A step is picked when none is asked: whole hours, at most
  // k_default_series_points of them.
  std::optional<server::Endpoints::SeriesAnswer> series_json(const std::string& name, const server::SeriesQuery& query) {
    const auto current = runtime();
    const auto* account = current->config.find_account(name);
    if (!account) return std::nullopt;
    const auto refuse = [](const std::string& why) {
      return server::Endpoints::SeriesAnswer{{{"error", why}}, true};
    };
    const TimePoint to = query.to.value_or(m_clock.now());
    const TimePoint from = query.from.value_or(to - k_default_series_span);
    if (from >= to) return refuse("from must be before to");
    const Duration span = std::chrono::duration_cast<Duration>(to - from);
    Duration step = query.step.value_or(std::max<Duration>(
        std::chrono::hours(1),
        std::chrono::ceil<std::chrono::hours>(span / static_cast<std::int64_t>(k_default_series_points))));
    const Duration interval = account->tuning.interval;
    if (step >= std::chrono::hours(1) ? step % std::chrono::hours(1) != Duration::zero()
                                      : interval <= Duration::zero() || step % interval != Duration::zero()) {
      return refuse("step must be whole hours (1h, 6h, 1d) or, under an hour, a multiple of the account's interval (" +
                    format_duration(interval) + ")");
    }
    const auto points = static_cast<std::size_t>((span + step - Duration(1)) / step);
    if (points > storage::k_max_series_points) {
      return refuse("from, to and step make " + std::to_string(points) + " points, more than " +
                    std::to_string(storage::k_max_series_points) + ": take a longer step");
    }
    std::string currency = account->currency.value_or("");
    if (currency.empty()) {
      if (auto latest = m_store.latest_sample(name)) currency = latest->currency;
    }
    nlohmann::json list = nlohmann::json::array();
    if (!currency.empty()) {
      for (const auto& p : storage::series(m_store, name, currency, from, to, step)) {
        list.push_back({{"ts", format_rfc3339(p.at)},
                        {"ts_ms", to_unix_ms(p.at)},
                        {"open", p.open.to_double()},
                        {"close", p.close.to_double()},
                        {"low", p.low.to_double()},
                        {"spend", p.spend.to_double()},
                        {"deposits", p.deposits.to_double()},
                        {"readings", p.readings}});
      }
    }
    return server::Endpoints::SeriesAnswer{{{"account", name},
                                            {"currency", currency.empty() ? nlohmann::json(nullptr) : nlohmann::json(currency)},
                                            {"from", format_rfc3339(from)},
                                            {"to", format_rfc3339(to)},
                                            {"step_seconds", std::chrono::duration_cast<std::chrono::seconds>(step).count()},
                                            {"points", std::move(list)}},
                                           false};
  }

  // The newest `query.limit` samples since `query.since`, which is moved up to the start of
  // retention when it lies before (the answer says which since it used).
  std::optional<nlohmann::json> samples_json(const std::string& account, const server::SamplesQuery& query) {
    const auto current = runtime();
    if (!current->config.find_account(account)) return std::nullopt;
    const auto now = m_clock.now();
    // Raw readings go after raw_retention (older hours are in the rollups: .../series).
    const auto& kept = current->config.storage;
    const auto retention_start = std::chrono::ceil<std::chrono::seconds>(now - std::min(kept.raw_retention, kept.retention));
    auto since = query.since.value_or(now - k_default_samples_span);
    const bool clamped = since < retention_start;
    if (clamped) since = retention_start;
    auto rows = m_store.samples(account, since, "", query.limit + 1);
    const bool truncated = rows.size() > query.limit;
    if (truncated) rows.erase(rows.begin());
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : rows) {
      samples.push_back({{"ts", format_rfc3339(s.at)},
                         {"ts_ms", to_unix_ms(s.at)},
                         {"currency", s.currency},
                         {"balance", s.balance.to_double()},
                         {"spend_total", s.spend_total ? nlohmann::json(s.spend_total->to_double()) : nlohmann::json(nullptr)},
                         // A run of identical readings: the same figures were read until then.
                         {"seen_until", format_rfc3339(s.seen_until)},
                         {"seen_until_ms", to_unix_ms(s.seen_until)}});
    }
    return nlohmann::json{{"account", account},     {"since", format_rfc3339(since)}, {"since_clamped", clamped},
                          {"limit", query.limit},   {"truncated", truncated},          {"samples", samples}};
  }

  void wait_for_signals() {
    const sigset_t set = daemon_signals();
    const timespec tick{1, 0};
    while (true) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) return;
      if (sig == SIGHUP) reload();
      check_writable();
      heartbeat();
    }
  }

  // /healthz must answer at once even while the store is busy (a long read, another
  // process's write holding the lock for up to the busy timeout), so it reads a verdict this
  // loop refreshes instead of testing a write itself.
  void check_writable() {
    const SteadyPoint now = m_clock.monotonic();
    if (now < m_next_writable_check) return;
    m_writable = m_store.writable();
    m_next_writable_check = m_clock.monotonic() + k_writable_check_every;
  }

  // The watchdog is fed only while the scheduler loop is really going round.
  void heartbeat() {
    const auto silent = m_clock.monotonic() - m_monitor.last_tick();
    if (silent < std::chrono::seconds(10)) {
      notify_systemd("WATCHDOG=1\n" + status_line(*m_runtime, m_monitor));
    } else {
      spdlog::error("scheduler loop has not ticked for {} s", std::chrono::duration_cast<std::chrono::seconds>(silent).count());
    }
  }

  void reload() {
    notify_systemd("RELOADING=1");
    spdlog::info("SIGHUP: reloading {}", m_options.config_path);
    try {
      auto next = scheduler::load_runtime(m_options.config_path, m_clock);
      const auto changes = config_changes(m_runtime->config, next->config);
      apply_logging(next->config, m_options.log_level);
      m_store.set_max_size(next->config.storage.max_size);
      m_outbox.set_notifiers(next->notifiers, retry_policy(next->config),
                             unchanged_notifiers(m_runtime->config, next->config));
      m_monitor.set_runtime(next);
      {
        std::lock_guard lock(m_runtime_mutex);
        m_runtime = std::move(next);
      }
      apply_http(m_runtime->config.http);
      m_heartbeats.set_targets(heartbeat_targets(*m_runtime));
      log_changes(changes);
      spdlog::info("reloaded: {} accounts, {} notifiers", m_runtime->config.accounts.size(), m_runtime->notifiers.size());
    } catch (const config::ConfigErrors& e) {
      for (const auto& error : e.errors()) spdlog::error("reload rejected: {}", error.to_string());
      spdlog::error("keeping the previous configuration");
    } catch (const std::exception& e) {
      spdlog::error("reload failed: {}; keeping the previous configuration", e.what());
    }
    notify_systemd("READY=1");
  }

  static void log_changes(const std::vector<ConfigChange>& changes) {
    for (const auto& change : changes) {
      if (change.what == "http.listen") continue;  // apply_http says how that went
      if (change.live) {
        spdlog::info("{} changed; applied", change.what);
      } else {
        spdlog::warn("{} changed; takes effect after restart", change.what);
      }
    }
  }

  RunOptions m_options;
  SystemClock m_clock;
  mutable std::mutex m_runtime_mutex;
  std::shared_ptr<scheduler::Runtime> m_runtime;
  std::unique_ptr<storage::Store> m_store_owner;
  storage::Store& m_store;
  std::string m_replica_id;
  std::unique_ptr<scheduler::Ownership> m_ownership;  // with a shared database only
  notify::Outbox m_outbox;
  scheduler::Monitor m_monitor;
  scheduler::Assessor m_assessor;
  server::AlertControls m_controls;
  server::Telemetry m_telemetry;
  std::mutex m_stored_mutex;  // guards m_stored
  std::map<std::string, std::pair<SteadyPoint, std::shared_ptr<const scheduler::AssessmentSummary>>> m_stored;
  std::unique_ptr<server::HttpServer> m_http;
  std::atomic<bool> m_writable{true};
  SteadyPoint m_next_writable_check;
  std::string m_listening = "off";  // the http.listen being served
  // Last, so its thread (which asks health()) stops before anything health() reads goes.
  notify::HeartbeatPinger m_heartbeats{m_clock, [this] { return health().first; }};
};

}  // namespace

int run_command(const RunOptions& options) {
  // Before any thread exists: every thread inherits the signal mask, and no thread has
  // made its own malloc arena yet.
  mallopt(M_ARENA_MAX, k_malloc_arenas);
  const sigset_t set = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  SystemClock clock;
  std::shared_ptr<scheduler::Runtime> runtime;
  try {
    runtime = scheduler::load_runtime(options.config_path, clock);
  } catch (const config::ConfigErrors& e) {
    for (const auto& error : e.errors()) spdlog::error("{}", error.to_string());
    return 1;
  }
  apply_logging(runtime->config, options.log_level);
  Daemon daemon(std::move(runtime), options);
  return daemon.run();
}

}  // namespace creditwatch::app
