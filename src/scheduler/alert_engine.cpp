#include "creditwatch/scheduler/alert_engine.hpp"

#include "creditwatch/scheduler/maintenance.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/config/routing.hpp"
#include "creditwatch/notify/notification.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>

namespace creditwatch::scheduler {
namespace {

notify::Notification make_notification(const config::AccountConfig& account, const Assessment& a,
                                       const alerts::Finding& finding, const alerts::AlertState& state,
                                       alerts::Reason reason, TimePoint now) {
  notify::Notification n;
  n.dedup_key = notify::make_dedup_key(account.name, finding.rule);
  n.event = reason == alerts::Reason::resolved ? alerts::Event::resolved : alerts::Event::firing;
  n.reason = reason;
  n.at = now;
  n.account = account.name;
  n.provider = account.provider;
  n.labels = account.labels;
  n.rule = finding.rule;
  n.severity = state.severity;
  n.summary = finding.summary;
  n.currency = a.currency;
  if (a.forecast) {
    n.balance = a.forecast->balance;
    n.burn_per_day = a.forecast->burn_per_day;
    n.runway_days = a.forecast->runway_days;
    n.runway_p10_days = a.forecast->runway_p10_days;
    n.exhausted_at = a.forecast->exhausted_at;
    n.recommended_topup = a.forecast->recommended_topup;
  }
  return n;
}

// `escalation`: the alert's escalation state while it fires (null once it resolved).
storage::AlertRow to_row(const std::string& account, alerts::Rule rule, const alerts::AlertState& s,
                         const std::string& summary, alerts::Severity peak, const EscalationState* escalation,
                         bool held, bool announced) {
  nlohmann::json context{{"summary", summary},
                         {"peak_severity", alerts::to_string(peak)},
                         {"held", held},
                         {"announced", announced}};
  if (escalation && s.firing) context["escalation"] = to_json(*escalation);
  return storage::AlertRow{account,       alerts::to_string(rule), s.firing ? "firing" : "resolved",
                           alerts::to_string(s.severity), s.since, s.last_notified, notify::json_text(context)};
}

nlohmann::json stored_context(const std::string& context_json) {
  auto context = nlohmann::json::parse(context_json, nullptr, false);
  return context.is_object() ? context : nlohmann::json::object();
}

std::optional<alerts::Severity> stored_peak(const nlohmann::json& context) {
  if (!context.contains("peak_severity") || !context["peak_severity"].is_string()) return std::nullopt;
  return alerts::parse_severity(context["peak_severity"].get<std::string>());
}

// Rows written before silences existed have no flags: nothing was held, and the start was sent.
bool stored_flag(const nlohmann::json& context, const char* name, bool otherwise) {
  return context.contains(name) && context[name].is_boolean() ? context[name].get<bool>() : otherwise;
}

std::string stored_summary(const nlohmann::json& context) {
  return context.contains("summary") && context["summary"].is_string() ? context["summary"].get<std::string>() : "";
}

alerts::AlertFacts facts_of(const config::AccountConfig& account, alerts::Rule rule, alerts::Severity severity) {
  return alerts::AlertFacts{account.name, account.provider, rule, severity, &account.labels};
}

storage::OutboxRow outbox_row(TimePoint now, const std::string& notifier, const notify::Notification& n,
                              const std::string& payload) {
  return storage::OutboxRow{0, now, notifier, n.dedup_key, payload, 0, now, storage::OutboxState::pending, "", "",
                            TimePoint{}};
}

// What an escalation re-sends of an alert no probe has reported since this engine loaded it
// (a restart, a replica taking over): the stored state; escalate() adds the account's
// provider and labels from the config. The next probe brings the figures.
notify::Notification stored_notification(const storage::AlertRow& row, alerts::Rule rule,
                                         const alerts::AlertState& state, const nlohmann::json& context) {
  notify::Notification n;
  n.dedup_key = notify::make_dedup_key(row.account, rule);
  n.account = row.account;
  n.rule = rule;
  n.severity = state.severity;
  n.at = state.since;
  if (context.is_object() && context.contains("summary") && context["summary"].is_string()) {
    n.summary = context["summary"].get<std::string>();
  }
  return n;
}

}  // namespace

AlertEngine::AlertEngine(storage::Store& store, const Clock& clock) : m_store(store), m_clock(clock) {
  {
    std::lock_guard lock(m_mutex);
    load(m_store.alerts());
  }
  sync();
}

// Called with m_mutex held.
void AlertEngine::load(const std::vector<storage::AlertRow>& rows) {
  const TimePoint wall_now = m_clock.now();
  const SteadyPoint steady_now = m_clock.monotonic();
  for (const auto& row : rows) {
    auto rule = alerts::parse_rule(row.rule);
    if (!rule) continue;
    const alerts::AlertState state{row.state == "firing",
                                   alerts::parse_severity(row.severity).value_or(alerts::Severity::warning),
                                   row.since, row.last_notified};
    const Key key{row.account, *rule};
    const auto context = stored_context(row.context_json);
    m_states[key] = state;
    m_peaks[key] = std::max(state.severity, stored_peak(context).value_or(state.severity));
    m_episodes[key] = Episode{stored_flag(context, "held", false), stored_flag(context, "announced", true)};
    if (state.firing) {
      auto& escalation = m_escalations[key];
      if (context.contains("escalation")) escalation = escalation_from_json(context["escalation"]);
      note_severity(escalation, state.severity, state.since);  // rows from before escalation existed
      m_latest[key] = stored_notification(row, *rule, state, context);
      // Enough to say it again when a silence ends or someone acknowledges it before the next
      // probe brings the latest figures.
      notify::Notification n;
      n.dedup_key = notify::make_dedup_key(row.account, *rule);
      n.account = row.account;
      n.rule = *rule;
      n.severity = state.severity;
      n.summary = stored_summary(context);
      m_last[key] = std::move(n);
    }
    const auto age = std::max<Duration>(std::chrono::duration_cast<Duration>(wall_now - row.last_notified), Duration(0));
    m_notified[{row.account, *rule}] = steady_now - age;
  }
}

void AlertEngine::forget(const std::string& account) {
  std::lock_guard lock(m_mutex);
  const auto of_account = [&](const auto& entry) { return entry.first.first == account; };
  std::erase_if(m_states, of_account);
  std::erase_if(m_peaks, of_account);
  std::erase_if(m_episodes, of_account);
  std::erase_if(m_last, of_account);
  std::erase_if(m_notified, of_account);
  std::erase_if(m_refresh_payloads, of_account);
  std::erase_if(m_escalations, of_account);
  std::erase_if(m_latest, of_account);
  std::erase_if(m_refreshed, [&](const auto& entry) { return std::get<0>(entry.first) == account; });
}

void AlertEngine::reload(const std::string& account) {
  auto rows = m_store.alerts(account);
  forget(account);
  std::lock_guard lock(m_mutex);
  load(rows);
}

std::map<alerts::Rule, alerts::Severity> AlertEngine::firing(const std::string& account) const {
  std::lock_guard lock(m_mutex);
  std::map<alerts::Rule, alerts::Severity> out;
  for (auto it = m_states.lower_bound({account, alerts::Rule::runway}); it != m_states.end() && it->first.first == account;
       ++it) {
    if (it->second.firing) out[it->first.second] = it->second.severity;
  }
  return out;
}

bool AlertEngine::is_firing(const std::string& account, alerts::Rule rule) const {
  std::lock_guard lock(m_mutex);
  auto it = m_states.find({account, rule});
  return it != m_states.end() && it->second.firing;
}

std::optional<Duration> AlertEngine::refresh_interval(const Runtime& runtime, const std::string& notifier) const {
  auto sink = runtime.notifiers.find(notifier);
  if (sink == runtime.notifiers.end() || !sink->second) return std::nullopt;
  return sink->second->refresh_interval();
}

std::vector<std::string> AlertEngine::route(const config::AccountConfig& account, alerts::Rule rule,
                                            alerts::Severity severity, const Runtime& runtime) const {
  std::vector<std::string> out;
  for (auto& destination : config::route_notification(runtime.config, account, rule, severity)) {
    out.push_back(std::move(destination.notifier));
  }
  return out;
}

std::size_t AlertEngine::apply(const config::AccountConfig& account, const Assessment& a, const Runtime& runtime) {
  const TimePoint now = m_clock.now();
  const SteadyPoint steady_now = m_clock.monotonic();
  const alerts::Policy policy{runtime.config.alerting.repeat_interval, runtime.config.alerting.send_resolved};
  std::size_t queued = 0;
  // Only sinks like Alertmanager re-post firing alerts; without one, skip building their
  // payloads (a JSON dump per firing alert per probe was the backtest's largest cost).
  const bool refreshing = std::any_of(runtime.notifiers.begin(), runtime.notifiers.end(),
                                      [](const auto& n) { return n.second && n.second->refresh_interval(); });
  // An empty account pages as `exhausted`; its runway alert (zero days) stays firing, but its
  // reminders would only say the same thing twice a day, so the exhausted one stands for both
  // (Alertmanager calls this inhibition). Only at a balance of zero or less: a provider that
  // refuses service with money left is a different story from the runway. The reminder left
  // out still counts as sent, so a top-up does not set one off at once.
  const bool empty = a.forecast && a.forecast->balance <= Decimal();
  const bool exhausted = empty && std::any_of(a.findings.begin(), a.findings.end(), [](const alerts::Finding& f) {
                           return f.rule == alerts::Rule::exhausted && f.firing;
                         });
  std::lock_guard lock(m_mutex);
  for (const auto& finding : a.findings) {
    const Key key{account.name, finding.rule};
    auto current = m_states.find(key);
    std::optional<alerts::AlertState> before;
    if (current != m_states.end()) before = current->second;
    if (auto notified = m_notified.find(key); before && notified != m_notified.end()) {
      // The lifecycle compares wall times: give it the one the last notification would
      // have had on today's wall clock.
      before->last_notified = now - std::chrono::duration_cast<TimePoint::duration>(steady_now - notified->second);
    }
    auto t = alerts::step(before, finding, now, policy);
    if (exhausted && finding.rule == alerts::Rule::runway && t.notify == alerts::Reason::repeat) t.notify.reset();
    // Refreshes carry the latest figures of a firing alert, not those of when it started.
    const bool firing_now = t.changed ? t.next.firing : before && before->firing;
    if (refreshing && firing_now) {
      auto latest = make_notification(account, a, finding, t.changed ? t.next : *before, alerts::Reason::repeat, now);
      m_refresh_payloads[key] = notify::json_text(notify::to_json(latest));
    } else {
      m_refresh_payloads.erase(key);
    }
    // So do escalations (escalate()), which may come between probes.
    if (firing_now && !runtime.config.escalate.empty()) {
      m_latest[key] = make_notification(account, a, finding, t.changed ? t.next : *before, alerts::Reason::escalated, now);
    } else if (!firing_now) {
      m_latest.erase(key);
    }
    if (!t.changed) continue;

    // The highest severity of this firing episode: a resolve goes to every notifier that
    // heard the alert, even after it eased to a severity some of them do not take.
    alerts::Severity peak = t.next.severity;
    if (before && before->firing && t.notify != alerts::Reason::started) {
      auto p = m_peaks.find(key);
      peak = std::max({peak, before->severity, p != m_peaks.end() ? p->second : peak});
    }
    const EscalationState escalation = escalation_after(key, t, now);
    // Silences, acknowledgements and what this episode has told anyone decide what of the
    // state machine's notification goes out.
    const bool new_episode = t.next.firing && !(before && before->firing);
    Episode episode = new_episode ? Episode{false, false} : Episode{};
    if (auto e = m_episodes.find(key); !new_episode && e != m_episodes.end()) episode = e->second;
    const bool severity_moved = before && before->firing && t.next.firing && t.next.severity != before->severity;
    const bool ack_ends = new_episode || severity_moved || !t.next.firing;
    const auto ack = ack_of(key);
    const auto silence = silenced_by(facts_of(account, finding.rule, t.next.severity), now, runtime);
    std::optional<alerts::Reason> reason = t.notify;
    bool silenced_resolve = false;
    if (reason == alerts::Reason::repeat && ack) {
      reason.reset();  // acknowledged: no reminders (the one left out counts as sent)
    } else if (reason == alerts::Reason::resolved) {
      if (!episode.announced) reason.reset();  // nobody heard it start: nobody needs to hear it end
      silenced_resolve = silence.has_value();
      episode.held = false;
    } else if (reason && silence) {
      spdlog::info("alert {} {} ({}): held by silence {}", account.name, alerts::to_string(finding.rule),
                   alerts::to_string(t.next.severity), *silence);
      if (t.next.firing) episode.held = true;  // owed when the silence ends (an event is simply dropped)
      reason.reset();
    } else if (reason && t.next.firing) {
      // Said now, so nothing held is owed any more (release_held must not say it again), and
      // receivers that never heard this episode start hear "started" first.
      episode.held = false;
      if (!episode.announced) reason = alerts::Reason::started;
    }
    std::vector<storage::OutboxRow> rows;
    std::vector<std::string> replace_pending;
    std::optional<alerts::Event> queued_event;
    if (t.notify) {
      auto n = make_notification(account, a, finding, t.next, reason.value_or(*t.notify), now);
      // Every later notification of an acknowledged episode carries the ack; a resolve too.
      if (ack && (!ack_ends || !t.next.firing)) n.ack = ack;
      n.silenced = silenced_resolve;
      if (t.next.firing) {
        m_last[key] = n;
      } else {
        m_last.erase(key);
      }
      if (reason) {
        queued_event = n.event;
        const auto payload = notify::json_text(notify::to_json(n));
        const auto route_severity = *reason == alerts::Reason::resolved ? peak : t.next.severity;
        auto destinations = route(account, finding.rule, route_severity, runtime);
        if (*reason == alerts::Reason::resolved) follow_escalations(key, destinations);
        for (const auto& notifier : destinations) {
          rows.push_back(outbox_row(now, notifier, n, payload));
          if (refresh_interval(runtime, notifier)) replace_pending.push_back(notifier);
        }
        if (t.next.firing && !rows.empty()) episode.announced = true;
      }
    }
    // Persist first: only once the state and its outbox rows are durable does memory change,
    // and only then is the notification reported as queued.
    m_store.save_alert(to_row(account.name, finding.rule, t.next, finding.summary, peak, &escalation, episode.held,
                              episode.announced),
                       rows, replace_pending);
    if (queued_event) {
      spdlog::info("alert {} {} {} ({}): {} -> {} notifier(s){}", account.name, alerts::to_string(finding.rule),
                   alerts::to_string(*queued_event), alerts::to_string(t.next.severity), finding.summary, rows.size(),
                   silenced_resolve ? " (silenced; its start was sent)" : "");
    }
    m_states[key] = t.next;
    m_peaks[key] = peak;
    if (t.next.firing) {
      m_escalations[key] = escalation;
    } else {
      m_escalations.erase(key);
    }
    m_episodes[key] = episode;
    // Also a reminder left out above: it counts as sent.
    if (t.next.last_notified == now) m_notified[key] = steady_now;
    for (const auto& notifier : replace_pending) m_refreshed[{account.name, finding.rule, notifier}] = steady_now;
    queued += rows.size();
    // An acknowledgement lasts until the alert changes severity or resolves.
    if (ack_ends && m_acks.erase(key) > 0) m_store.delete_ack(account.name, alerts::to_string(finding.rule));
  }
  return queued;
}

std::size_t AlertEngine::refresh(const Runtime& runtime) {
  const TimePoint now = m_clock.now();
  const SteadyPoint steady_now = m_clock.monotonic();
  std::size_t queued = 0;
  std::lock_guard lock(m_mutex);
  for (const auto& [key, payload] : m_refresh_payloads) {
    const auto* account = runtime.config.find_account(key.first);
    auto state = m_states.find(key);
    if (!account || state == m_states.end() || !state->second.firing) continue;
    if (silenced_by(facts_of(*account, key.second, state->second.severity), now, runtime)) continue;
    auto destinations = route(*account, key.second, state->second.severity, runtime);
    follow_escalations(key, destinations);  // Alertmanager resolves an alert no longer re-posted
    for (const auto& notifier : destinations) {
      const auto interval = refresh_interval(runtime, notifier);
      if (!interval) continue;
      auto [last, first] = m_refreshed.try_emplace({key.first, key.second, notifier}, steady_now);
      if (!first && steady_now - last->second < *interval) continue;
      last->second = steady_now;
      auto json = nlohmann::json::parse(payload);
      json["ts"] = format_rfc3339(now);
      json["ts_ms"] = to_unix_ms(now);
      const std::string dedup_key = json.value("dedup_key", "");
      if (m_store.enqueue_refresh(storage::OutboxRow{0, now, notifier, dedup_key, notify::json_text(json), 0, now,
                                                     storage::OutboxState::pending, "", "", TimePoint{}})) {
        ++queued;
      }
    }
  }
  if (queued > 0) spdlog::debug("refresh: queued {} firing alert(s) again for state-keeping notifiers", queued);
  return queued;
}

// --- escalation -----------------------------------------------------------------------

// Called with m_mutex held.
EscalationState AlertEngine::escalation_after(const Key& key, const alerts::Transition& t, TimePoint now) const {
  EscalationState next;
  if (!t.next.firing) return next;
  if (t.notify != alerts::Reason::started) {
    if (auto current = m_escalations.find(key); current != m_escalations.end()) next = current->second;
  }
  note_severity(next, t.next.severity, now);
  return next;
}

// Called with m_mutex held.
void AlertEngine::follow_escalations(const Key& key, std::vector<std::string>& notifiers) const {
  auto escalation = m_escalations.find(key);
  if (escalation == m_escalations.end()) return;
  for (const auto& name : escalation->second.escalated_to) {
    if (std::find(notifiers.begin(), notifiers.end(), name) == notifiers.end()) notifiers.push_back(name);
  }
}

std::size_t AlertEngine::escalate(const Runtime& runtime) {
  if (runtime.config.escalate.empty()) return 0;
  const TimePoint now = m_clock.now();
  const SteadyPoint steady_now = m_clock.monotonic();
  std::lock_guard lock(m_mutex);
  // The loop calls this every few milliseconds; `after` is counted in seconds at least.
  if (steady_now < m_next_escalation_check) return 0;
  m_next_escalation_check = steady_now + std::chrono::seconds(1);
  std::size_t queued = 0;
  for (const auto& [key, latest] : m_latest) {
    auto state = m_states.find(key);
    const auto* account = runtime.config.find_account(key.first);
    // A held episode is released by tick() first, so an escalation never overtakes it.
    const auto episode = m_episodes.find(key);
    const bool held = episode != m_episodes.end() && episode->second.held;
    if (!account || state == m_states.end() || !state->second.firing || acknowledged(key) || held ||
        silenced_by(facts_of(*account, key.second, state->second.severity), now, runtime)) {
      continue;
    }
    auto steps = due_steps(runtime.config.escalate, m_escalations[key], state->second.severity, now);
    if (!steps.empty()) queued += escalate_alert(key, steps, runtime, now);
  }
  return queued;
}

std::optional<std::string> AlertEngine::silenced_by(const alerts::AlertFacts& alert, TimePoint now,
                                                    const Runtime& runtime) const {
  for (const auto& silence : m_silences) {
    if (silence.silences(alert, now)) return silence.id;
  }
  // Maintenance windows act as recurring silences: they join the decision here, so every
  // caller (apply, tick, refresh, escalate, the API's marks) treats them alike.
  if (const auto* window = active_maintenance(runtime.config.maintenance, alert, now)) {
    return "maintenance:" + window->name;
  }
  return std::nullopt;
}

bool AlertEngine::acknowledged(const Key& key) const {
  auto ack = m_acks.find(key);
  auto state = m_states.find(key);
  // A stale row (the alert moved on before its ack was deleted, e.g. a crash in between) no
  // longer holds.
  return ack != m_acks.end() && state != m_states.end() && state->second.firing &&
         ack->second.severity == state->second.severity && ack->second.ack.at >= state->second.since;
}

std::optional<notify::Acknowledgement> AlertEngine::ack_of(const Key& key) const {
  if (!acknowledged(key)) return std::nullopt;
  return m_acks.at(key).ack;
}

void AlertEngine::sync() {
  // One sync at a time, and acknowledge() holds this too: a sync that read the store before
  // a write must not overwrite, after it, what that write put in memory.
  std::lock_guard serial(m_sync_mutex);
  std::vector<alerts::Silence> silences;
  for (auto& row : m_store.silences()) {
    silences.push_back(alerts::Silence{std::move(row.id), alerts::matchers_from_json_text(row.matchers_json),
                                       row.starts_at, row.ends_at, std::move(row.comment), std::move(row.created_by),
                                       row.created_at});
  }
  std::map<Key, Ack> acks;
  for (auto& row : m_store.acks()) {
    auto rule = alerts::parse_rule(row.rule);
    auto severity = alerts::parse_severity(row.severity);
    if (!rule || !severity) continue;
    acks[{row.account, *rule}] = Ack{notify::Acknowledgement{std::move(row.by), row.at, std::move(row.comment)}, *severity};
  }
  std::lock_guard lock(m_mutex);
  m_silences = std::move(silences);
  m_acks = std::move(acks);
  m_synced = m_clock.monotonic();
}

std::size_t AlertEngine::tick(const Runtime& runtime) {
  bool due = false;
  {
    std::lock_guard lock(m_mutex);
    due = !m_synced || m_clock.monotonic() - *m_synced >= k_sync_every;
  }
  if (due) sync();
  return release_held(runtime);
}

notify::Notification AlertEngine::last_notification(const Key& key, const config::AccountConfig& account) const {
  notify::Notification n;
  if (auto last = m_last.find(key); last != m_last.end()) n = last->second;
  n.dedup_key = notify::make_dedup_key(account.name, key.second);
  n.account = account.name;
  n.provider = account.provider;
  n.labels = account.labels;
  n.rule = key.second;
  n.event = alerts::Event::firing;
  n.silenced = false;
  return n;
}

std::size_t AlertEngine::release_held(const Runtime& runtime) {
  const TimePoint now = m_clock.now();
  const SteadyPoint steady_now = m_clock.monotonic();
  std::size_t queued = 0;
  std::lock_guard lock(m_mutex);
  for (auto& [key, episode] : m_episodes) {
    if (!episode.held) continue;
    const auto* account = runtime.config.find_account(key.first);
    auto state = m_states.find(key);
    if (!account || state == m_states.end() || !state->second.firing) continue;
    if (silenced_by(facts_of(*account, key.second, state->second.severity), now, runtime)) continue;
    auto n = last_notification(key, *account);
    n.reason = episode.announced ? alerts::Reason::repeat : alerts::Reason::started;
    n.severity = state->second.severity;
    n.at = now;
    n.ack = ack_of(key);
    const auto payload = notify::json_text(notify::to_json(n));
    std::vector<storage::OutboxRow> rows;
    for (const auto& notifier : route(*account, key.second, n.severity, runtime)) {
      rows.push_back(outbox_row(now, notifier, n, payload));
    }
    auto next = state->second;
    next.last_notified = now;
    const Episode released{false, episode.announced || !rows.empty()};
    const auto peak = m_peaks.count(key) ? std::max(m_peaks.at(key), next.severity) : next.severity;
    const auto escalation = m_escalations.find(key);
    m_store.save_alert(to_row(key.first, key.second, next, n.summary, peak,
                              escalation == m_escalations.end() ? nullptr : &escalation->second, released.held,
                              released.announced),
                       rows);
    spdlog::info("alert {} {} firing ({}): no silence holds it any more; {} -> {} notifier(s)", key.first,
                 alerts::to_string(key.second), alerts::to_string(next.severity), alerts::to_string(n.reason),
                 rows.size());
    state->second = next;
    episode = released;
    m_notified[key] = steady_now;
    queued += rows.size();
  }
  return queued;
}

// Called with m_mutex held.
std::size_t AlertEngine::escalate_alert(const Key& key, const std::vector<const config::EscalationStep*>& steps,
                                        const Runtime& runtime, TimePoint now) {
  const alerts::AlertState& state = m_states.at(key);
  notify::Notification n = m_latest.at(key);
  n.reason = alerts::Reason::escalated;
  n.event = alerts::Event::firing;
  n.severity = state.severity;
  n.at = now;
  const auto* account = runtime.config.find_account(key.first);
  if (account && n.provider.empty()) {  // loaded from the store: no probe since
    n.provider = account->provider;
    n.labels = account->labels;
  }
  const auto payload = notify::json_text(notify::to_json(n));
  EscalationState next = m_escalations[key];
  std::vector<storage::OutboxRow> rows;
  std::vector<std::string> replace_pending;
  std::set<std::string> sent;  // two steps due at once that name one notifier: one row
  for (const auto* step : steps) {
    next.steps_done.insert(step_id(*step));
    for (const auto& notifier : config::escalation_notifiers(runtime.config, *step, state.severity)) {
      if (!sent.insert(notifier).second) continue;
      next.escalated_to.insert(notifier);
      rows.push_back(storage::OutboxRow{0, now, notifier, n.dedup_key, payload, 0, now, storage::OutboxState::pending,
                                        "", "", TimePoint{}});
      if (refresh_interval(runtime, notifier)) replace_pending.push_back(notifier);
    }
  }
  const auto peak = m_peaks.count(key) ? m_peaks.at(key) : state.severity;
  const auto episode = m_episodes.find(key);
  const bool announced = !rows.empty() || episode == m_episodes.end() || episode->second.announced;
  m_store.save_alert(to_row(key.first, key.second, state, n.summary, peak, &next,
                            episode != m_episodes.end() && episode->second.held, announced),
                     rows, replace_pending);
  if (episode != m_episodes.end()) episode->second.announced = announced;
  spdlog::info("alert {} {} escalated ({}): {} -> {} notifier(s)", key.first, alerts::to_string(key.second),
               alerts::to_string(state.severity), n.summary, rows.size());
  m_escalations[key] = std::move(next);
  return rows.size();
}

AlertMarks AlertEngine::marks(const config::AccountConfig& account, alerts::Rule rule, alerts::Severity severity,
                              const Runtime& runtime) const {
  std::lock_guard lock(m_mutex);
  AlertMarks out;
  out.silenced_by = silenced_by(facts_of(account, rule, severity), m_clock.now(), runtime);
  // From the ack's own severity, not m_states: the API of a replica that does not own the
  // account has no state for it.
  if (auto ack = m_acks.find({account.name, rule}); ack != m_acks.end() && ack->second.severity == severity) {
    // Where this replica has the alert's state, an ack older than its episode is stale.
    const auto state = m_states.find({account.name, rule});
    if (state == m_states.end() || ack->second.ack.at >= state->second.since) out.ack = ack->second.ack;
  }
  return out;
}

AckOutcome AlertEngine::acknowledge(const std::string& account_name, const std::string& rule_name,
                                    const std::string& by, const std::string& comment, const Runtime& runtime) {
  const auto* account = runtime.config.find_account(account_name);
  const auto rule = alerts::parse_rule(rule_name);
  if (!account || !rule) return AckOutcome::no_such_alert;
  // The read, the decision and both writes under the engine's lock (as apply() saves under
  // it): a probe cannot resolve the alert in between and leave an ack after its resolve.
  std::lock_guard serial(m_sync_mutex);
  std::lock_guard lock(m_mutex);
  std::optional<storage::AlertRow> row;
  for (auto& r : m_store.alerts(account_name)) {
    if (r.rule == alerts::to_string(*rule)) row = std::move(r);
  }
  if (!row || row->state != "firing") return AckOutcome::not_firing;
  const auto severity = alerts::parse_severity(row->severity).value_or(alerts::Severity::warning);
  const auto context = stored_context(row->context_json);
  const TimePoint now = m_clock.now();
  const Key key{account_name, *rule};
  const notify::Acknowledgement ack{by, now, comment};
  std::vector<storage::OutboxRow> rows;
  {
    const auto silence = silenced_by(facts_of(*account, *rule, severity), now, runtime);
    // Acknowledged again (a new comment): stored, but the notifiers were told already.
    const bool again = acknowledged(key);
    if (!silence && !again && stored_flag(context, "announced", true)) {
      auto n = last_notification(key, *account);
      if (n.summary.empty()) n.summary = stored_summary(context);
      n.reason = alerts::Reason::acknowledged;
      n.severity = severity;
      n.at = now;
      n.ack = ack;
      const auto payload = notify::json_text(notify::to_json(n));
      auto destinations = route(*account, *rule, std::max(severity, stored_peak(context).value_or(severity)), runtime);
      // The on-call it was escalated to hears the ack too (from the row: any replica can take it).
      if (context.contains("escalation")) {
        for (const auto& name : escalation_from_json(context["escalation"]).escalated_to) {
          if (std::find(destinations.begin(), destinations.end(), name) == destinations.end()) {
            destinations.push_back(name);
          }
        }
      }
      for (const auto& notifier : destinations) rows.push_back(outbox_row(now, notifier, n, payload));
    }
  }
  m_store.save_ack(storage::AckRow{account_name, alerts::to_string(*rule), by, now, comment, alerts::to_string(severity)},
                   rows);
  spdlog::info("alert {} {} ({}): acknowledged by {} -> {} notifier(s)", account_name, alerts::to_string(*rule),
               alerts::to_string(severity), by.empty() ? "(unnamed)" : by, rows.size());
  m_acks[key] = Ack{ack, severity};
  return AckOutcome::acknowledged;
}

bool AlertEngine::unacknowledge(const std::string& account, const std::string& rule) {
  const auto parsed = alerts::parse_rule(rule);
  if (!parsed) return false;
  std::lock_guard serial(m_sync_mutex);
  const bool had = m_store.delete_ack(account, alerts::to_string(*parsed));
  std::lock_guard lock(m_mutex);
  m_acks.erase({account, *parsed});
  return had;
}

}  // namespace creditwatch::scheduler
