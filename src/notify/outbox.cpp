#include "creditwatch/notify/outbox.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/http/curl_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <variant>

namespace creditwatch::notify {
namespace {

using Outcome = DeliveryResult::Outcome;

// A sink's Retry-After, or a pause it asks for after a success, is honoured up to this long.
constexpr Duration k_max_pause = std::chrono::hours(1);
// A row is given up for its age only once it has also been tried this often, so a wall
// clock that jumps ahead (or a daemon that was stopped for a day) cannot dead-letter rows
// that were barely tried.
constexpr int k_min_attempts_before_giving_up = 3;
// How soon a worker with nothing else to do tries again to record deliveries that the store
// failed to mark.
constexpr Duration k_record_again = std::chrono::seconds(5);

Duration elapsed(SteadyPoint from, SteadyPoint to) { return std::chrono::ceil<Duration>(to - from); }

}  // namespace

struct Outbox::Worker {
  std::mutex mutex;
  std::condition_variable cv;
  bool woken = false;
  bool finished = false;
  std::atomic<bool> stopping{false};
  std::atomic<bool> cancel{false};
  std::thread thread;
};

Outbox::Outbox(storage::Store& store, const Clock& clock, RetryPolicy policy, const std::string& replica_id)
    : m_store(store), m_clock(clock), m_policy(policy) {
  std::uniform_int_distribution<std::uint32_t> digits(0, 0xffffff);
  char nonce[8];
  std::snprintf(nonce, sizeof nonce, "%06x", digits(m_random));
  m_sender = (replica_id.empty() ? std::string("creditwatch") : replica_id) + "#" + nonce;
}

Outbox::~Outbox() { stop(std::chrono::seconds(2)); }

void Outbox::set_notifiers(Notifiers notifiers, RetryPolicy policy, const std::set<std::string>& unchanged) {
  std::map<std::string, std::shared_ptr<Worker>> retiring;
  {
    std::lock_guard lock(m_mutex);
    for (auto it = m_workers.begin(); it != m_workers.end();) {
      const bool keep = unchanged.count(it->first) > 0 && notifiers.count(it->first) > 0;
      if (keep) {
        ++it;
        continue;
      }
      retiring.insert(*it);
      it = m_workers.erase(it);
    }
  }
  stop_workers(retiring, std::chrono::seconds(2));
  std::set<std::string> configured;
  for (const auto& entry : notifiers) configured.insert(entry.first);
  {
    std::lock_guard cleanup(m_cleanup_mutex);
    {
      std::lock_guard lock(m_mutex);
      m_configured = configured;
    }
    abandon_removed(configured);
  }
  std::lock_guard lock(m_mutex);
  m_policy = policy;
  std::erase_if(m_lanes, [&](const auto& lane) { return notifiers.count(lane.first) == 0; });
  for (auto& [name, sink] : notifiers) {
    m_counts.try_emplace(name);  // every configured notifier has its series from the start, at 0
    if (m_workers.count(name) > 0) continue;  // kept, unchanged
    auto worker = std::make_shared<Worker>();
    worker->thread = std::thread([this, name = name, sink = sink, worker] { run_worker(name, sink, worker); });
    m_workers[name] = worker;
  }
}

// Rows of a notifier that is gone would otherwise wait forever, or go out weeks later as
// news if a notifier of that name came back.
void Outbox::abandon_removed(const std::set<std::string>& configured) {
  try {
    for (const auto& name : m_store.notifiers_with_pending()) {
      if (configured.count(name) > 0) continue;
      const auto abandoned = m_store.abandon_pending(name, "notifier " + name + " is no longer configured");
      spdlog::warn("outbox: notifier {} is no longer configured; its {} pending notification(s) are kept as dead letters",
                   name, abandoned);
    }
  } catch (const std::exception& e) {
    // The configured notifiers start regardless; the next start or reload tries again.
    spdlog::error("outbox: cannot set aside the notifications of removed notifiers: {}", e.what());
  }
}

void Outbox::wake() {
  {
    std::lock_guard cleanup(m_cleanup_mutex);
    std::optional<std::set<std::string>> configured;
    {
      std::lock_guard lock(m_mutex);
      configured = m_configured;
    }
    if (configured) abandon_removed(*configured);
  }
  std::lock_guard lock(m_mutex);
  for (auto& [name, worker] : m_workers) {
    std::lock_guard worker_lock(worker->mutex);
    worker->woken = true;
    worker->cv.notify_one();
  }
}

void Outbox::stop(Duration grace) {
  std::map<std::string, std::shared_ptr<Worker>> workers;
  {
    std::lock_guard lock(m_mutex);
    workers.swap(m_workers);
  }
  stop_workers(workers, grace);
}

void Outbox::stop_workers(const std::map<std::string, std::shared_ptr<Worker>>& workers, Duration grace) {
  for (auto& [name, worker] : workers) {
    std::lock_guard worker_lock(worker->mutex);
    worker->stopping = true;
    worker->cv.notify_one();
  }
  // Give in-flight deliveries `grace` to finish, then abort their transfers.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& [name, worker] : workers) {
    std::unique_lock worker_lock(worker->mutex);
    worker->cv.wait_until(worker_lock, deadline, [&] { return worker->finished; });
  }
  for (auto& [name, worker] : workers) {
    worker->cancel = true;
    if (worker->thread.joinable()) worker->thread.join();
  }
}

void Outbox::run_worker(const std::string& name, std::shared_ptr<Notifier> sink, std::shared_ptr<Worker> worker) {
  std::unique_ptr<http::CurlClient> client;
  while (!worker->stopping) {
    std::optional<TimePoint> next;
    // Nothing may escape a worker thread (std::terminate): a client that cannot be made
    // now is made again on the next turn.
    try {
      if (!client) {
        client = std::make_unique<http::CurlClient>();
        client->set_cancel_flag(&worker->cancel);
      }
      next = deliver_due(name, *sink, *client, &worker->stopping);
    } catch (const std::exception& e) {
      spdlog::error("outbox {}: {}", name, e.what());
      next = m_clock.now() + std::chrono::seconds(5);
    } catch (...) {
      spdlog::error("outbox {}: unknown exception", name);
      next = m_clock.now() + std::chrono::seconds(5);
    }
    std::unique_lock lock(worker->mutex);
    if (worker->stopping) break;
    auto wait = std::chrono::milliseconds(1000);
    if (next) wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - m_clock.now()),
                                std::chrono::milliseconds(0), wait);
    worker->cv.wait_for(lock, wait, [&] { return worker->woken || worker->stopping.load(); });
    worker->woken = false;
  }
  std::lock_guard lock(worker->mutex);
  worker->finished = true;
  worker->cv.notify_all();
}

std::optional<TimePoint> Outbox::deliver_due(const std::string& notifier, Notifier& sink, http::Client& client,
                                             const std::atomic<bool>* stopping) {
  const Duration gap = sink.min_interval();
  // A stopping worker finishes the delivery in hand, and attempts no more.
  while (!(stopping && stopping->load())) {
    record_sent(notifier);
    const Pick next = pick(notifier);
    if (!next.row) return next.next;
    if (!claim(*next.row)) continue;
    const DeliveryResult result = attempt(*next.row, sink, client);
    pause(notifier, gap, result);
    settle(*next.row, result);
  }
  return std::nullopt;
}

// Only the oldest pending row of each alert (dedup key) is in line, so per notifier the
// states of an alert go out in the order they changed, whatever their retries. Only
// state-keeping sinks (Alertmanager: a refresh_interval) skip states: save_alert replaces
// their pending rows, since they hold the alert's state and the latest is all that counts.
// Every other sink gets every state, in order. PagerDuty and Opsgenie would end in the right
// state if an unsent trigger were dropped for its resolve (a resolve of an alert they do not
// know is ignored), but the on-call would never learn that the account ran dry; chat, mail
// and webhook sinks keep a history that people read.
Outbox::Pick Outbox::pick(const std::string& notifier) {
  std::vector<std::int64_t> sent;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& entry : m_lanes[notifier].sent) sent.push_back(entry.first);
  }
  const auto rows = m_store.next_in_line(notifier, sent);
  const SteadyPoint mono = m_clock.monotonic();
  const TimePoint wall = m_clock.now();
  std::lock_guard lock(m_mutex);
  Lane& lane = m_lanes[notifier];
  // Rows no longer in line were settled, or replaced by a newer state.
  std::erase_if(lane.rows, [&](const auto& entry) {
    return std::none_of(rows.begin(), rows.end(), [&](const auto& row) { return row.id == entry.first; });
  });
  const storage::OutboxRow* soonest = nullptr;
  SteadyPoint soonest_due;
  for (const auto& row : rows) {
    SteadyPoint due = track(lane, row, mono, wall).due;
    // Another sender is on it: its row (and the alert's rows behind it) wait for the claim.
    if (!row.claimed_by.empty() && row.claimed_by != m_sender && row.claim_until >= wall) {
      due = std::max(due, mono + std::chrono::ceil<Duration>(row.claim_until - wall) + std::chrono::milliseconds(1));
    }
    if (!soonest || due < soonest_due) {
      soonest = &row;
      soonest_due = due;
    }
  }
  Pick result;
  if (soonest && std::max(soonest_due, lane.quiet_until) <= mono) {
    result.row = *soonest;
  } else if (soonest) {
    result.next = wall + elapsed(mono, std::max(soonest_due, lane.quiet_until));
  } else if (!lane.sent.empty()) {
    result.next = wall + k_record_again;
  }
  return result;
}

// The first time this process sees a row (queued just now, or before a restart), the stored
// wall times are all there is; from then on its schedule runs on the monotonic clock, so a
// wall clock stepping back does not stall it and one stepping ahead does not make it due.
Outbox::Tracked& Outbox::track(Lane& lane, const storage::OutboxRow& row, SteadyPoint mono, TimePoint wall) {
  auto [it, added] = lane.rows.try_emplace(row.id);
  // Unchanged since it was tracked, or changed by this process (hold() already moved it).
  if (!added && it->second.attempts == row.attempts) return it->second;
  if (!added) {
    // Another replica attempted it since: its stored next attempt is the schedule now.
    Duration wait = std::chrono::floor<Duration>(row.next_attempt - wall);
    it->second.due = mono + std::max(Duration(0), wait);
    it->second.attempts = row.attempts;
    return it->second;
  }
  // A next attempt further ahead than any delay this outbox schedules was set under a wall
  // clock that has stepped back since: it is due now.
  const Duration horizon =
      std::max(k_max_pause, std::chrono::ceil<Duration>(m_policy.max * (1.0 + m_policy.jitter)));
  Duration wait = std::chrono::floor<Duration>(row.next_attempt - wall);
  if (wait < Duration(0) || wait > horizon) wait = Duration(0);
  it->second = Tracked{mono + wait, mono, std::max(Duration(0), std::chrono::floor<Duration>(wall - row.created)),
                       row.attempts};
  return it->second;
}

bool Outbox::claim(const storage::OutboxRow& row) {
  const TimePoint now = m_clock.now();
  Duration claim_for{0};
  {
    std::lock_guard lock(m_mutex);
    claim_for = m_policy.claim_for;
  }
  switch (m_store.claim_notification(row.id, m_sender, now, now + claim_for)) {
    case storage::Claim::taken: return true;
    case storage::Claim::reclaimed:
      count(row.notifier, &DeliveryCounts::reclaimed);
      spdlog::warn("notifier {}: {} was being sent by {} when it stopped; sending it again (it may arrive twice)",
                   row.notifier, row.dedup_key, row.claimed_by);
      return true;
    case storage::Claim::refused: break;
  }
  // Another sender claimed it between our read and our claim: look again in a moment.
  hold(row, std::chrono::seconds(1));
  return false;
}

// Whatever goes wrong with one notification is that notification's failure: it never
// escapes to hold up the rows behind it.
DeliveryResult Outbox::attempt(const storage::OutboxRow& row, Notifier& sink, http::Client& client) {
  auto payload = nlohmann::json::parse(row.payload_json, nullptr, false);
  if (payload.is_discarded()) return {Outcome::permanent, "stored payload is not JSON", 0, std::nullopt};
  // A digest and an alert's notification share the queue, its order, claims and retries.
  const bool digest = is_digest_payload(payload);
  std::variant<Notification, Digest> message;
  try {
    if (digest) {
      message = digest_from_json(payload);
    } else {
      message = notification_from_json(payload);
    }
  } catch (const std::exception& e) {
    // The stored bytes never change, so no retry can fix them.
    return {Outcome::permanent,
            std::string("stored payload is not a ") + (digest ? "digest: " : "notification: ") +
                cut_text(safe_text(e.what(), LineBreaks::fold), 300),
            0, std::nullopt};
  }
  try {
    if (const auto* d = std::get_if<Digest>(&message)) return sink.send_digest(*d, client);
    return sink.deliver(std::get<Notification>(message), client);
  } catch (const std::exception& e) {
    // An exception's text may quote the bytes that broke it: one safe line, like any answer.
    return {Outcome::retry, "internal error: " + cut_text(safe_text(e.what(), LineBreaks::fold), 300), 0, std::nullopt};
  } catch (...) {
    return {Outcome::retry, "internal error: unknown exception", 0, std::nullopt};
  }
}

// The next message to this notifier waits for the sink's minimum gap, or longer when the
// sink said its budget is spent: a Retry-After on a retry (429, 503) or on a success
// (Discord's X-RateLimit-Remaining: 0). The pause holds for every notification of the
// notifier, not only for the one that met it.
void Outbox::pause(const std::string& notifier, Duration gap, const DeliveryResult& result) {
  Duration pause = gap;
  if (result.retry_after && result.outcome != Outcome::permanent) {
    pause = std::max(pause, std::min<Duration>(*result.retry_after, k_max_pause));
  }
  if (pause <= Duration(0)) return;
  const SteadyPoint until = m_clock.monotonic() + pause;
  std::lock_guard lock(m_mutex);
  auto& quiet = m_lanes[notifier].quiet_until;
  quiet = std::max(quiet, until);
}

Duration Outbox::backoff(int attempts, std::optional<Duration> retry_after) {
  std::lock_guard lock(m_mutex);
  const double base = static_cast<double>(m_policy.initial.count()) * std::pow(2.0, std::min(attempts, 30));
  double delay = std::min(base, static_cast<double>(m_policy.max.count()));
  std::uniform_real_distribution<double> spread(1.0 - m_policy.jitter, 1.0 + m_policy.jitter);
  delay *= spread(m_random);
  auto result = Duration(static_cast<std::int64_t>(delay));
  // A sink's own Retry-After wins over our guess, within reason.
  if (retry_after) result = std::max(result, std::min<Duration>(*retry_after, k_max_pause));
  return result;
}

void Outbox::settle(const storage::OutboxRow& row, const DeliveryResult& result) {
  const TimePoint now = m_clock.now();
  const SteadyPoint mono = m_clock.monotonic();
  switch (result.outcome) {
    case Outcome::delivered:
      count(row.notifier, &DeliveryCounts::delivered);
      spdlog::info("notifier {}: delivered {} (attempt {})", row.notifier, row.dedup_key, row.attempts + 1);
      record_delivered(row, now);
      return;
    case Outcome::permanent:
      hold(row, backoff(row.attempts, result.retry_after));
      m_store.mark_dead(row.id, result.message);
      count(row.notifier, &DeliveryCounts::dead);
      spdlog::error("notifier {}: {} rejected, kept as dead letter: {}", row.notifier, row.dedup_key, result.message);
      return;
    case Outcome::retry: break;
  }
  Duration age{0};
  Duration dead_after{0};
  {
    std::lock_guard lock(m_mutex);
    dead_after = m_policy.dead_after;
    const Tracked& seen = track(m_lanes[row.notifier], row, mono, now);  // tracked since pick() already
    age = seen.age_when_seen + elapsed(seen.first_seen, mono);
  }
  const int attempts = row.attempts + 1;
  const Duration delay = backoff(row.attempts, result.retry_after);
  hold(row, delay);
  if (age >= dead_after && attempts >= k_min_attempts_before_giving_up) {
    m_store.mark_dead(row.id, "gave up after " + std::to_string(attempts) + " attempts: " + result.message);
    count(row.notifier, &DeliveryCounts::dead);
    spdlog::error("notifier {}: {} undeliverable for too long, kept as dead letter: {}", row.notifier, row.dedup_key,
                  result.message);
    return;
  }
  m_store.mark_retry(row.id, now + delay, result.message);
  count(row.notifier, &DeliveryCounts::retried);
  spdlog::warn("notifier {}: {} failed (attempt {}), retry in {} ms: {}", row.notifier, row.dedup_key, attempts,
               delay.count(), result.message);
}

// Set before the store is told, so a failure to record the outcome (a full disk) costs no
// more than the same backoff, never a resend on the worker's next turn.
void Outbox::hold(const storage::OutboxRow& row, Duration delay) {
  std::lock_guard lock(m_mutex);
  auto& rows = m_lanes[row.notifier].rows;
  if (auto it = rows.find(row.id); it != rows.end()) it->second.due = m_clock.monotonic() + delay;
}

// Delivered is delivered: when the store cannot record it (a full disk), the row is kept
// in memory as sent and recorded later, never left pending to go out again.
void Outbox::record_delivered(const storage::OutboxRow& row, TimePoint at) {
  try {
    m_store.mark_delivered(row.id, at);
  } catch (const std::exception& e) {
    {
      std::lock_guard lock(m_mutex);
      m_lanes[row.notifier].sent[row.id] = at;
    }
    spdlog::error("notifier {}: {} was delivered, but recording that failed (will retry, not resend): {}",
                  row.notifier, row.dedup_key, e.what());
  }
}

void Outbox::record_sent(const std::string& notifier) {
  std::map<std::int64_t, TimePoint> sent;
  {
    std::lock_guard lock(m_mutex);
    sent = m_lanes[notifier].sent;
  }
  for (const auto& [id, at] : sent) {
    try {
      m_store.mark_delivered(id, at);
    } catch (const std::exception&) {
      return;  // still failing: the next round tries again
    }
    std::lock_guard lock(m_mutex);
    m_lanes[notifier].sent.erase(id);
    spdlog::info("notifier {}: recorded the delivery of outbox row {}", notifier, id);
  }
}

void Outbox::count(const std::string& notifier, std::uint64_t DeliveryCounts::*member) {
  std::lock_guard lock(m_mutex);
  ++(m_counts[notifier].*member);
}

std::map<std::string, DeliveryCounts> Outbox::counts() const {
  std::lock_guard lock(m_mutex);
  return m_counts;
}

}  // namespace creditwatch::notify
