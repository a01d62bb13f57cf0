#include "creditwatch/notify/outbox.hpp"

#include "creditwatch/http/curl_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace creditwatch::notify {

struct Outbox::Worker {
  std::mutex mutex;
  std::condition_variable cv;
  bool woken = false;
  bool finished = false;
  std::atomic<bool> stopping{false};
  std::atomic<bool> cancel{false};
  std::thread thread;
};

Outbox::Outbox(storage::Store& store, const Clock& clock, RetryPolicy policy)
    : m_store(store), m_clock(clock), m_policy(policy) {}

Outbox::~Outbox() { stop(std::chrono::seconds(2)); }

void Outbox::set_notifiers(Notifiers notifiers, RetryPolicy policy) {
  stop(std::chrono::seconds(2));
  std::lock_guard lock(m_mutex);
  m_policy = policy;
  for (auto& [name, sink] : notifiers) {
    m_counts.try_emplace(name);  // every configured notifier has its series from the start, at 0
    auto worker = std::make_shared<Worker>();
    worker->thread = std::thread([this, name = name, sink = sink, worker] { run_worker(name, sink, worker); });
    m_workers[name] = worker;
  }
}

void Outbox::wake() {
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
  http::CurlClient client;
  client.set_cancel_flag(&worker->cancel);
  while (!worker->stopping) {
    std::optional<TimePoint> next;
    try {
      next = deliver_due(name, *sink, client);
    } catch (const std::exception& e) {
      spdlog::error("outbox {}: {}", name, e.what());
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

Duration Outbox::backoff(int attempts, std::optional<Duration> retry_after) {
  std::lock_guard lock(m_mutex);
  const double base = static_cast<double>(m_policy.initial.count()) * std::pow(2.0, std::min(attempts, 30));
  double delay = std::min(base, static_cast<double>(m_policy.max.count()));
  std::uniform_real_distribution<double> spread(1.0 - m_policy.jitter, 1.0 + m_policy.jitter);
  delay *= spread(m_random);
  auto result = Duration(static_cast<std::int64_t>(delay));
  // A sink's own Retry-After wins over our guess, within reason.
  if (retry_after) result = std::max(result, std::min<Duration>(*retry_after, std::chrono::hours(1)));
  return result;
}

void Outbox::settle(const storage::OutboxRow& row, const DeliveryResult& result) {
  const TimePoint now = m_clock.now();
  RetryPolicy policy;
  {
    std::lock_guard lock(m_mutex);
    policy = m_policy;
  }
  auto count = [&](auto member) {
    std::lock_guard lock(m_mutex);
    ++(m_counts[row.notifier].*member);
  };
  switch (result.outcome) {
    case DeliveryResult::Outcome::delivered:
      m_store.mark_delivered(row.id, now);
      count(&DeliveryCounts::delivered);
      spdlog::info("notifier {}: delivered {} (attempt {})", row.notifier, row.dedup_key, row.attempts + 1);
      return;
    case DeliveryResult::Outcome::permanent:
      m_store.mark_dead(row.id, result.message);
      count(&DeliveryCounts::dead);
      spdlog::error("notifier {}: {} rejected, kept as dead letter: {}", row.notifier, row.dedup_key, result.message);
      return;
    case DeliveryResult::Outcome::retry:
      break;
  }
  if (now - row.created >= policy.dead_after) {
    m_store.mark_dead(row.id, "gave up after " + std::to_string(row.attempts + 1) + " attempts: " + result.message);
    count(&DeliveryCounts::dead);
    spdlog::error("notifier {}: {} undeliverable for too long, kept as dead letter: {}", row.notifier, row.dedup_key,
                  result.message);
    return;
  }
  const Duration delay = backoff(row.attempts, result.retry_after);
  m_store.mark_retry(row.id, now + delay, result.message);
  count(&DeliveryCounts::retried);
  spdlog::warn("notifier {}: {} failed (attempt {}), retry in {} ms: {}", row.notifier, row.dedup_key,
               row.attempts + 1, delay.count(), result.message);
}

std::optional<TimePoint> Outbox::deliver_due(const std::string& notifier, Notifier& sink, http::Client& client) {
  const Duration gap = sink.min_interval();
  while (true) {
    const TimePoint now = m_clock.now();
    {
      std::lock_guard lock(m_mutex);
      auto quiet = m_quiet_until.find(notifier);
      if (quiet != m_quiet_until.end() && now < quiet->second) return quiet->second;
    }
    auto due = m_store.due_notifications(now, 1, notifier);
    if (due.empty()) return m_store.next_attempt(notifier);
    const auto& row = due.front();
    DeliveryResult result;
    auto payload = nlohmann::json::parse(row.payload_json, nullptr, false);
    if (payload.is_discarded()) {
      result = {DeliveryResult::Outcome::permanent, "stored payload is not JSON", 0, std::nullopt};
    } else {
      result = sink.deliver(notification_from_json(payload), client);
    }
    // The next message waits for the sink's minimum gap, or longer when a sink that accepted
    // this one said its budget is spent (Discord's X-RateLimit-Remaining: 0).
    Duration pause = gap;
    if (result.outcome == DeliveryResult::Outcome::delivered && result.retry_after) {
      pause = std::max(pause, std::min<Duration>(*result.retry_after, std::chrono::hours(1)));
    }
    if (pause.count() > 0) {
      std::lock_guard lock(m_mutex);
      m_quiet_until[notifier] = m_clock.now() + pause;
    }
    settle(row, result);
  }
}

std::map<std::string, DeliveryCounts> Outbox::counts() const {
  std::lock_guard lock(m_mutex);
  return m_counts;
}

}  // namespace creditwatch::notify
