#pragma once

#include "creditwatch/notify/notifier.hpp"
#include "creditwatch/storage/store.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace creditwatch::notify {

struct RetryPolicy {
  Duration initial = std::chrono::seconds(1);
  Duration max = std::chrono::minutes(5);
  Duration dead_after = std::chrono::hours(24);
  double jitter = 0.2;  // +/- this fraction of each delay
  // How long a sender's claim on a notification lasts: longer than any delivery takes, so a
  // live sender is never overtaken; a sender that dies mid-send holds the row this long.
  Duration claim_for = std::chrono::seconds(60);
};

// Counts per notifier, for logs and metrics.
struct DeliveryCounts {
  std::uint64_t delivered = 0;
  std::uint64_t retried = 0;
  std::uint64_t dead = 0;
  // Sent again after the sender that had claimed it stopped mid-send (killed, partitioned):
  // possibly a duplicate, the only one the cluster allows.
  std::uint64_t reclaimed = 0;
};

// Delivers the durable outbox. Notifications are already in SQLite when they get here;
// this only moves them to the sinks, with exponential backoff and jitter, marking them dead
// after `dead_after` or a permanent rejection. Per notifier and alert (dedup key) the
// notifications go out in the order they were queued: a resolve never overtakes its trigger.
// A sink's Retry-After pauses that whole notifier. Waits run on the monotonic clock; the
// wall times in the database only carry the schedule across a restart.
// Each notifier gets its own thread, so a slow or dead sink delays nobody else.
//
// Every attempt is preceded by a claim in the store (Store::claim_notification), so when
// replicas share a database each notification is sent by one of them; a row another sender
// holds waits, and so do the rows of the same alert behind it, which keeps the order across
// replicas. Pauses (Retry-After, min_interval) are each replica's own.
class Outbox {
public:
  using Notifiers = std::map<std::string, std::shared_ptr<Notifier>>;

  Outbox(storage::Store& store, const Clock& clock, RetryPolicy policy, const std::string& replica_id = "");
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Replaces the set of notifiers (at start and on reload) and starts their threads.
  // `notifiers` is every configured notifier: what is pending for any other (one removed
  // from the config) is marked dead, never sent. The workers of the notifiers named in
  // `unchanged` keep running with the sinks they have, so a reload does not cut off (and then
  // resend) a delivery that is on the wire to a notifier whose settings did not change.
  void set_notifiers(Notifiers notifiers, RetryPolicy policy, const std::set<std::string>& unchanged = {});
  // Tells the threads that new notifications are waiting. Any queued for a notifier that is
  // not configured (by an alert engine still on the config a reload replaced) are marked
  // dead here.
  void wake();
  // Stops the threads; an in-flight delivery is abandoned after at most `grace`.
  void stop(Duration grace);

  // Attempts every notification of `notifier` that is due and next in line for its alert,
  // one after the other, and returns when the next one will be due (nullopt: nothing is
  // pending). Returns early, between two notifications, once `*stopping` is true. Used by
  // the threads, and by tests to drive delivery with a fake clock.
  std::optional<TimePoint> deliver_due(const std::string& notifier, Notifier& sink, http::Client& client,
                                       const std::atomic<bool>* stopping = nullptr);

  std::map<std::string, DeliveryCounts> counts() const;
  // This process's name in claims: the replica id and a per-start nonce, so a restart under
  // the same replica id does not take its dead predecessor's claims for its own.
  const std::string& sender() const { return m_sender; }

private:
  struct Worker;
  // A pending row as this process has seen it, on the monotonic clock.
  struct Tracked {
    SteadyPoint due;
    SteadyPoint first_seen;
    Duration age_when_seen{0};  // its wall-clock age then
    int attempts = 0;           // as stored when `due` was set: another replica's attempt resets it
  };
  // What the outbox remembers of one notifier between attempts.
  struct Lane {
    SteadyPoint quiet_until;                  // no delivery before this (min_interval, Retry-After)
    std::map<std::int64_t, Tracked> rows;     // by outbox id
    std::map<std::int64_t, TimePoint> sent;   // delivered, but the store failed to record it yet
  };
  // The row to attempt now, or (wall-clock time) when the next one is due.
  struct Pick {
    std::optional<storage::OutboxRow> row;
    std::optional<TimePoint> next;
  };

  void run_worker(const std::string& name, std::shared_ptr<Notifier> sink, std::shared_ptr<Worker> worker);
  void abandon_removed(const std::set<std::string>& configured);
  Pick pick(const std::string& notifier);
  Tracked& track(Lane& lane, const storage::OutboxRow& row, SteadyPoint mono, TimePoint wall);
  // Takes the row for this sender; false when another sender holds it.
  bool claim(const storage::OutboxRow& row);
  DeliveryResult attempt(const storage::OutboxRow& row, Notifier& sink, http::Client& client);
  void pause(const std::string& notifier, Duration gap, const DeliveryResult& result);
  Duration backoff(int attempts, std::optional<Duration> retry_after);
  void settle(const storage::OutboxRow& row, const DeliveryResult& result);
  void record_delivered(const storage::OutboxRow& row, TimePoint at);
  // Stops these workers: an in-flight delivery is abandoned after at most `grace`.
  static void stop_workers(const std::map<std::string, std::shared_ptr<Worker>>& workers, Duration grace);
  // Keeps a row that failed out of the next picks for `delay`, even if recording that fails.
  void hold(const storage::OutboxRow& row, Duration delay);
  void record_sent(const std::string& notifier);
  void count(const std::string& notifier, std::uint64_t DeliveryCounts::*member);

  storage::Store& m_store;
  const Clock& m_clock;
  mutable std::mutex m_mutex;
  RetryPolicy m_policy;
  std::map<std::string, std::shared_ptr<Worker>> m_workers;
  std::optional<std::set<std::string>> m_configured;  // the notifiers of the last set_notifiers()
  // Held while removed notifiers' rows are set aside, so a wake() that read the configured
  // set before a reload cannot run its clean-up after the reload against the old set (and
  // set aside a row just queued for a notifier the reload added).
  std::mutex m_cleanup_mutex;
  std::map<std::string, DeliveryCounts> m_counts;
  std::map<std::string, Lane> m_lanes;  // per notifier
  std::mt19937_64 m_random{std::random_device{}()};
  std::string m_sender;
};

}  // namespace creditwatch::notify
