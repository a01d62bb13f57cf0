#include "creditwatch/scheduler/assessment.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/providers/quota_window.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <regex>

namespace creditwatch::scheduler {
namespace {

// Provider messages can echo what we sent (a relay that dumps the request, an error page
// with our headers), and are clipped to a few hundred characters, which can cut a key in
// two. Never let a credential through: the whole key, the start of a key cut by the clip,
// and any echoed Authorization header value (Basic carries the key base64-encoded).
std::string scrub_provider_message(std::string message, const std::string& key) {
  message = redact(std::move(message), {key});
  constexpr std::size_t k_shortest_prefix = 6;
  for (std::size_t length = key.size() > 0 ? key.size() - 1 : 0; length >= k_shortest_prefix; --length) {
    const auto cut = key.substr(0, length) + "...";
    if (auto at = message.find(cut); at != std::string::npos) message.replace(at, cut.size(), "***...");
  }
  static const std::regex authorization(R"((authorization:\s*(basic|bearer)\s+)[^\s,;"]+)", std::regex::icase);
  return std::regex_replace(message, authorization, "$1***");
}

// Runs one write of a probe's outcome. A failed write (disk full) loses that sample but not
// the reading: the caller still judges it, so alerts and `check` keep working; the store
// records the failure for /healthz and the metrics.
template <typename Write>
void store(const config::AccountConfig& account, Write&& write) {
  // A full disk fails every probe of every account: one line a minute says so, with how
  // many failures it did not log, instead of one line per probe.
  static std::mutex mutex;
  static std::chrono::steady_clock::time_point last_logged;
  static std::size_t unlogged = 0;
  try {
    write();
  } catch (const storage::DatabaseError& e) {
    std::lock_guard lock(mutex);
    const auto now = std::chrono::steady_clock::now();
    if (last_logged != std::chrono::steady_clock::time_point{} && now - last_logged < std::chrono::minutes(1)) {
      ++unlogged;
      return;
    }
    spdlog::error("account {}: could not store the probe result: {} ({} more such failures not logged)", account.name,
                  e.what(), unlogged);
    last_logged = now;
    unlogged = 0;
  }
}

// A provider's exception is a failed probe of kind `internal`, recorded and judged like any
// other: thrown past here it would leave no outcome in the store and nothing for the API.
providers::ProbeResult probe_or_internal_error(providers::Provider& provider, http::Client& client) {
  try {
    return provider.probe(client);
  } catch (const std::exception& e) {
    return providers::ProbeError{providers::ErrorKind::internal,
                                 "probe failed internally: " + safe_text(e.what(), LineBreaks::fold), 0, std::nullopt};
  }
}

alerts::ProbeStatus status_of(const std::optional<providers::ProbeError>& error) {
  if (!error) return alerts::ProbeStatus::ok;
  if (error->kind == providers::ErrorKind::key_invalid) return alerts::ProbeStatus::key_invalid;
  if (error->kind == providers::ErrorKind::exhausted) return alerts::ProbeStatus::exhausted;
  return alerts::ProbeStatus::failed;
}

// The currency the rules follow: the configured one, else the first the provider reported.
std::string pick_currency(const config::AccountConfig& account, const std::vector<providers::BalanceEntry>& balances) {
  if (account.currency) return *account.currency;
  return balances.empty() ? "" : balances.front().currency;
}

}  // namespace

const char* to_string(CheckState state) {
  switch (state) {
    case CheckState::ok: return "OK";
    case CheckState::warning: return "WARNING";
    case CheckState::critical: return "CRITICAL";
    case CheckState::unknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

CheckState worse(CheckState a, CheckState b) {
  auto rank = [](CheckState s) {
    switch (s) {
      case CheckState::ok: return 0;
      case CheckState::warning: return 1;
      case CheckState::unknown: return 2;
      case CheckState::critical: return 3;
    }
    return 2;
  };
  return rank(a) >= rank(b) ? a : b;
}

void Assessor::forget(const std::string& account) {
  std::lock_guard lock(m_ledgers_mutex);
  m_ledgers.erase(account);
  if (m_preloading) m_forgotten.insert(account);
}

alerts::Thresholds thresholds_for(const config::AccountConfig& account) {
  alerts::Thresholds t;
  t.warn_days = account.tuning.warn_days;
  t.critical_days = account.tuning.critical_days;
  t.min_balance = account.min_balance;
  t.min_balance_warning = account.min_balance_warning;
  t.warn_percent_left = account.tuning.warn_percent_left;
  t.critical_percent_left = account.tuning.critical_percent_left;
  t.percent_of = config::percent_reference(account);
  t.interval = account.tuning.interval;
  t.stale_after = account.tuning.stale_after;
  return t;
}

forecast::Settings forecast_settings_for(const config::AccountConfig& account) {
  return forecast::Settings{account.tuning.burn_window, account.tuning.target_days, account.tuning.topup_lead_time};
}

Assessment Assessor::probe(const config::AccountConfig& account, providers::Provider& provider, http::Client& client,
                           const std::map<alerts::Rule, alerts::Severity>& firing) {
  Assessment a;
  a.account = account.name;
  a.provider = account.provider;
  const SteadyPoint started = m_clock.monotonic();
  auto result = probe_or_internal_error(provider, client);
  const TimePoint finished = m_clock.now();
  a.latency_seconds = std::chrono::duration<double>(m_clock.monotonic() - started).count();

  storage::ProbeRow probe_row{account.name, finished, "ok", 0, a.latency_seconds, ""};
  if (result) {
    a.balances = result->balances;
    a.observation.available = result->available;
    a.observation.unavailable_reason = result->unavailable_reason;
    std::vector<storage::SampleRow> rows;
    for (const auto& b : a.balances) {
      rows.push_back({account.name, finished, b.currency, b.balance, b.spend_total, notify::json_text(b.details)});
    }
    store(account, [&] { m_store.add_samples(rows, probe_row); });
  } else {
    a.error = result.error();
    a.error->message = scrub_provider_message(a.error->message, account.api_key.reveal());
    probe_row.outcome = providers::to_string(a.error->kind);
    probe_row.http_status = a.error->http_status;
    probe_row.message = a.error->message;
    store(account, [&] { m_store.add_probe(probe_row); });
  }
  a.observation.at = finished;
  a.observation.status = status_of(a.error);
  if (a.error) a.observation.error_message = a.error->message;
  const std::string currency = pick_currency(account, a.balances);
  const providers::BalanceEntry* fresh = nullptr;
  for (const auto& b : a.balances) {
    if (b.currency == currency) fresh = &b;
  }
  judge(account, a, firing, fresh);
  return a;
}

Assessment Assessor::from_store(const config::AccountConfig& account) {
  Assessment a;
  a.account = account.name;
  a.provider = account.provider;
  a.observation.at = m_clock.now();
  if (auto probe = m_store.latest_probe(account.name); probe && probe->outcome != "ok") {
    // A row an older version stored may hold any bytes: shown as one safe line.
    const std::string message = safe_text(probe->message, LineBreaks::fold);
    a.error = providers::ProbeError{providers::ErrorKind::internal, message, probe->http_status, std::nullopt};
    if (probe->outcome == "key_invalid") a.error->kind = providers::ErrorKind::key_invalid;
    if (probe->outcome == "exhausted") a.error->kind = providers::ErrorKind::exhausted;
    a.observation.status = status_of(a.error);
    a.observation.error_message = message;
  }
  std::map<alerts::Rule, alerts::Severity> none;
  judge(account, a, none, nullptr);
  return a;
}

// A run of identical readings is replayed as its two ends: the ledger holds a repeated
// balance for k_max_hold_ms and the store starts a new run exactly there, so the two ends
// attribute spend as every reading of the run would.
static_assert(std::chrono::milliseconds(forecast::SpendLedger::k_max_hold_ms) == storage::k_longest_run);

namespace {

void replay(forecast::SpendLedger& ledger, const std::vector<storage::SampleRow>& runs) {
  std::vector<forecast::Point> points;
  points.reserve(2 * runs.size());
  for (const auto& r : runs) {
    // Points not after the ledger's latest (the snapshot's, or a one-reading run's second
    // end) are ignored by add().
    // A quota window's reset travels in the details, so a replay skips the refills as the
    // live ledger did.
    const auto resets_at = providers::window_resets_at(r.details_json);
    points.push_back({r.at, r.balance, r.spend_total, resets_at});
    points.push_back({r.seen_until, r.balance, r.spend_total, resets_at});
  }
  ledger.add_history(points);
}

// The oldest reading the account's forecast reads: two burn windows (the second one lets the
// forecaster see week-over-week growth) and a day.
TimePoint window_start(const config::AccountConfig& account, TimePoint now) {
  return now - 2 * account.tuning.burn_window - std::chrono::hours(24);
}

}  // namespace

forecast::SpendLedger Assessor::load_ledger(const config::AccountConfig& account, const std::string& currency) {
  forecast::SpendLedger ledger;
  auto since = window_start(account, m_clock.now());
  // The snapshot save_ledgers() left (before a restart, or on the replica that held the
  // account before), then only the runs after it: no rescan of weeks of readings. One older
  // than the window holds no more than the window does.
  if (auto snapshot = m_store.ledger(account.name, currency); snapshot && snapshot->at >= since) {
    if (auto restored = forecast::SpendLedger::restore(snapshot->state)) {
      ledger = std::move(*restored);
      since = snapshot->at;
    } else {
      spdlog::warn("account {}: its saved forecast ledger is unreadable (another version?), rebuilt from readings",
                   account.name);
    }
  }
  replay(ledger, m_store.samples(account.name, since, currency));
  return ledger;
}

bool Assessor::adopt(const std::string& account, const std::shared_ptr<CachedLedger>& cached) {
  std::lock_guard lock(m_ledgers_mutex);
  if (m_forgotten.count(account) > 0) return false;
  // Present (even empty: its probe is loading it) means the probe got there first.
  return m_ledgers.try_emplace(account, cached).second;
}

void Assessor::begin_preload() {
  std::lock_guard lock(m_ledgers_mutex);
  m_preloading = true;
  m_forgotten.clear();
}

void Assessor::end_preload() {
  std::lock_guard lock(m_ledgers_mutex);
  m_preloading = false;
  m_forgotten.clear();
}

std::size_t Assessor::preload(const std::vector<const config::AccountConfig*>& accounts,
                              const std::function<bool()>& stop) {
  {
    std::lock_guard lock(m_ledgers_mutex);
    if (!m_preloading) {
      m_preloading = true;
      m_forgotten.clear();
    }
  }
  struct Done {
    Assessor& self;
    ~Done() { self.end_preload(); }
  } done{*this};

  const TimePoint now = m_clock.now();
  std::unordered_map<std::string, const config::AccountConfig*> wanted;
  std::vector<std::string> names;
  TimePoint since = now;
  for (const auto* account : accounts) {
    if (!wanted.emplace(account->name, account).second) continue;
    names.push_back(account->name);
    since = std::min(since, window_start(*account, now));
  }
  std::size_t added = 0;
  std::unordered_set<std::string> loaded;  // adopted, or found loaded by a probe
  const auto take = [&](storage::SavedLedger& saved) {
    const auto* account = wanted.at(saved.account);
    if (saved.snapshot.at < window_start(*account, now)) return;  // older than its window: as load_ledger()
    auto restored = forecast::SpendLedger::restore(saved.snapshot.state);
    if (!restored) return;  // another version: rebuilt from the readings below
    replay(*restored, saved.runs);
    auto cached = std::make_shared<CachedLedger>(saved.currency, std::move(*restored));
    // Saved as it stands unless the runs after the snapshot moved it on.
    cached->saved_through = saved.snapshot.at;
    if (adopt(saved.account, cached)) ++added;
    loaded.insert(saved.account);
  };
  // Without a configured currency the cache follows the first one the provider reports,
  // unknown before the probe: the snapshot saved last is the best guess (a wrong one is
  // replaced at the probe, which loads the currency it picked). An account's snapshots come
  // one after another, so only the best one so far is held.
  std::optional<storage::SavedLedger> best;
  try {
    m_store.saved_ledgers(names, since, [&](storage::SavedLedger& saved) {
      const auto found = wanted.find(saved.account);
      if (found == wanted.end()) return !stop();
      if (found->second->currency) {
        if (saved.currency == *found->second->currency) take(saved);
        return !stop();
      }
      if (best && best->account != saved.account) {
        take(*best);
        best.reset();
      }
      if (!best || saved.snapshot.at > best->snapshot.at) best = std::move(saved);
      return !stop();
    });
    if (best && !stop()) take(*best);
  } catch (const std::exception& e) {
    spdlog::error("loading the saved forecast ledgers at once failed, loading them one by one: {}", e.what());
  }
  best.reset();
  // The rest one by one, as their probes would, but off the probe threads.
  for (const auto& name : names) {
    if (stop()) break;
    if (loaded.count(name) > 0) continue;
    {
      std::lock_guard lock(m_ledgers_mutex);
      if (m_ledgers.count(name) > 0) continue;
    }
    const auto& account = *wanted.at(name);
    try {
      std::string currency = account.currency.value_or("");
      if (currency.empty()) {
        const auto latest = m_store.latest_sample(name);
        if (!latest) continue;  // never read: its probe's load finds nothing to read either
        currency = latest->currency;
      }
      if (adopt(name, std::make_shared<CachedLedger>(currency, load_ledger(account, currency)))) ++added;
    } catch (const std::exception& e) {
      spdlog::warn("account {}: cannot load its forecast ledger ahead of its probe (it loads it then): {}", name,
                   e.what());
    }
  }
  return added;
}

std::size_t Assessor::save_ledgers() {
  std::vector<std::pair<std::string, std::shared_ptr<CachedLedger>>> held;
  {
    std::lock_guard lock(m_ledgers_mutex);
    held.assign(m_ledgers.begin(), m_ledgers.end());
  }
  std::size_t saved = 0;
  for (const auto& [account, cached] : held) {
    if (!cached) continue;  // being loaded by its probe
    storage::LedgerSnapshot snapshot;
    {
      std::lock_guard hold(cached->mutex);
      const auto last = cached->ledger.last();
      if (!last || last->at == cached->saved_through) continue;
      snapshot = storage::LedgerSnapshot{last->at, cached->ledger.serialize()};
    }
    // Written outside the ledger's lock: the account's probe does not wait for the database.
    m_store.save_ledger(account, cached->currency, snapshot);
    std::lock_guard hold(cached->mutex);
    cached->saved_through = snapshot.at;
    ++saved;
  }
  return saved;
}

void Assessor::judge(const config::AccountConfig& account, Assessment& a,
                     const std::map<alerts::Rule, alerts::Severity>& firing, const providers::BalanceEntry* fresh) {
  if (a.balances.empty()) {
    if (auto latest = m_store.latest_sample(account.name, account.currency.value_or(""))) {
      auto details = nlohmann::json::parse(latest->details_json, nullptr, false);
      if (!details.is_object()) details = nlohmann::json::object();
      a.balances.push_back({latest->currency, latest->balance, latest->spend_total, std::move(details)});
    }
  }
  a.currency = pick_currency(account, a.balances);
  a.observation.currency = a.currency;
  for (const auto& b : a.balances) {
    // A quota window names itself, for the alert's words.
    if (b.currency == a.currency && b.details.is_object() && b.details.contains("window") &&
        b.details["window"].is_string()) {
      a.observation.window_label = b.details["window"].get<std::string>();
    }
    // A provider that bills afterwards says so (details "postpaid": true), for the exhausted rule.
    if (b.currency == a.currency && b.details.is_object()) {
      const auto postpaid = b.details.find("postpaid");
      if (postpaid != b.details.end() && postpaid->is_boolean() && postpaid->get<bool>()) a.observation.postpaid = true;
    }
  }
  if (!a.currency.empty()) {
    const auto settings = forecast_settings_for(account);
    if (fresh) {
      std::shared_ptr<CachedLedger> cached;
      {
        std::lock_guard lock(m_ledgers_mutex);
        cached = m_ledgers[account.name];
      }
      if (!cached || cached->currency != a.currency) {
        // The fresh sample is already stored, so loading picks it up.
        cached = std::make_shared<CachedLedger>(a.currency, load_ledger(account, a.currency));
        std::lock_guard lock(m_ledgers_mutex);
        m_ledgers[account.name] = cached;
      }
      // Held for the projection too: an HTTP thread may be projecting from it (from_store),
      // and save_ledgers() may be copying it.
      std::lock_guard hold(cached->mutex);
      // A ledger just loaded has this reading already (add() ignores a reading not newer than
      // its last), unless storing it failed.
      cached->ledger.add(
          {a.observation.at, fresh->balance, fresh->spend_total, providers::window_resets_at(fresh->details)});
      a.forecast = forecast::project(cached->ledger, settings, m_clock.now());
    } else {
      std::shared_ptr<CachedLedger> cached;
      {
        std::lock_guard lock(m_ledgers_mutex);
        if (auto it = m_ledgers.find(account.name); it != m_ledgers.end()) cached = it->second;
      }
      if (cached && cached->currency == a.currency) {
        std::lock_guard hold(cached->mutex);  // a probe thread may be adding to it
        a.forecast = forecast::project(cached->ledger, settings, m_clock.now());
      } else if (const auto ledger = load_ledger(account, a.currency); ledger.points() > 0) {
        a.forecast = forecast::project(ledger, settings, m_clock.now());
      }
    }
  }
  a.observation.forecast = a.forecast;
  a.findings = alerts::evaluate(a.observation, thresholds_for(account), firing);

  a.state = a.observation.status == alerts::ProbeStatus::failed ? CheckState::unknown : CheckState::ok;
  for (const auto& f : a.findings) {
    if (!f.firing) continue;
    if (f.severity == alerts::Severity::critical) a.state = worse(a.state, CheckState::critical);
    if (f.severity == alerts::Severity::warning) a.state = worse(a.state, CheckState::warning);
  }
}

}  // namespace creditwatch::scheduler
