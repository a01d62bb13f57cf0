#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace creditwatch::server {

// Which queue a complete request waits in. The priority lane (/healthz, /metrics) has a
// thread of its own, so slow API answers can never hold up a liveness probe or a scrape.
enum class Lane { priority, general };

// The threads that run request handlers, away from the thread that owns the sockets.
class RequestWorkers {
public:
  using Job = std::function<void()>;

  // Starts `general_threads` threads for the general lane (they also help the priority
  // lane) and one thread for the priority lane alone. At most `max_queued` jobs wait per lane.
  RequestWorkers(std::size_t general_threads, std::size_t max_queued);
  ~RequestWorkers();
  RequestWorkers(const RequestWorkers&) = delete;
  RequestWorkers& operator=(const RequestWorkers&) = delete;

  // Queues `job`; false when that lane's queue is full or the workers are stopping.
  bool submit(Lane lane, Job job);
  // Drops the jobs still waiting and waits for the running ones.
  void stop();

private:
  void work(bool priority_only);
  bool take(bool priority_only, Job& job);

  const std::size_t m_max_queued;
  std::mutex m_mutex;
  std::condition_variable m_ready;
  std::deque<Job> m_priority;
  std::deque<Job> m_general;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

}  // namespace creditwatch::server
