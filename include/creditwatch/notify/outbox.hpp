#pragma once

#include "creditwatch/notify/notifier.hpp"
#include "creditwatch/storage/store.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

namespace creditwatch::notify {

struct RetryPolicy {
  Duration initial = std::chrono::seconds(1);
  Duration max = std::chrono::minutes(5);
  Duration dead_after = std::chrono::hours(24);
  double jitter = 0.2;  // +/- this fraction of each delay
};

// Counts per notifier, for logs and metrics.
struct DeliveryCounts {
  std::uint64_t delivered = 0;
  std::uint64_t retried = 0;
  std::uint64_t dead = 0;
};

// Delivers the durable outbox. Notifications are already in SQLite when they get here;
// this only moves them to the sinks, with exponential backoff and jitter, honouring
// Retry-After, marking them dead after `dead_after` or a permanent rejection.
// Each notifier gets its own thread, so a slow or dead sink delays nobody else.
class Outbox {
public:
  using Notifiers = std::map<std::string, std::shared_ptr<Notifier>>;

  Outbox(storage::Store& store, const Clock& clock, RetryPolicy policy);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Replaces the set of notifiers (at start and on reload) and starts their threads.
  void set_notifiers(Notifiers notifiers, RetryPolicy policy);
  // Tells the threads that new notifications are waiting.
  void wake();
  // Stops the threads; an in-flight delivery is abandoned after at most `grace`.
  void stop(Duration grace);

  // Attempts every notification of `notifier` that is due at `now`, one after the other,
  // and returns when the next one will be due. Used by the threads, and by tests to drive
  // delivery with a fake clock.
  std::optional<TimePoint> deliver_due(const std::string& notifier, Notifier& sink, http::Client& client);

  std::map<std::string, DeliveryCounts> counts() const;

private:
  struct Worker;
  void run_worker(const std::string& name, std::shared_ptr<Notifier> sink, std::shared_ptr<Worker> worker);
  Duration backoff(int attempts, std::optional<Duration> retry_after);
  void settle(const storage::OutboxRow& row, const DeliveryResult& result);

  storage::Store& m_store;
  const Clock& m_clock;
  mutable std::mutex m_mutex;
  RetryPolicy m_policy;
  std::map<std::string, std::shared_ptr<Worker>> m_workers;
  std::map<std::string, DeliveryCounts> m_counts;
  std::map<std::string, TimePoint> m_quiet_until;  // per notifier: no delivery before this
  std::mt19937_64 m_random{std::random_device{}()};
};

}  // namespace creditwatch::notify
