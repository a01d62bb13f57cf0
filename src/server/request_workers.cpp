#include "creditwatch/server/request_workers.hpp"

#include <pthread.h>

namespace creditwatch::server {

RequestWorkers::RequestWorkers(std::size_t general_threads, std::size_t max_queued) : m_max_queued(max_queued) {
  m_threads.emplace_back([this] { work(true); });
  for (std::size_t i = 0; i < general_threads; ++i) m_threads.emplace_back([this] { work(false); });
}

RequestWorkers::~RequestWorkers() { stop(); }

bool RequestWorkers::submit(Lane lane, Job job) {
  {
    std::lock_guard lock(m_mutex);
    auto& queue = lane == Lane::priority ? m_priority : m_general;
    if (m_stopping || queue.size() >= m_max_queued) return false;
    queue.push_back(std::move(job));
  }
  // Every thread may be waiting for a different lane: wake them all, the queues are short.
  m_ready.notify_all();
  return true;
}

void RequestWorkers::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_priority.clear();
    m_general.clear();
  }
  m_ready.notify_all();
  for (auto& thread : m_threads) {
    if (thread.joinable()) thread.join();
  }
}

bool RequestWorkers::take(bool priority_only, Job& job) {
  std::unique_lock lock(m_mutex);
  m_ready.wait(lock, [&] { return m_stopping || !m_priority.empty() || (!priority_only && !m_general.empty()); });
  if (m_stopping) return false;
  auto& queue = !m_priority.empty() ? m_priority : m_general;
  job = std::move(queue.front());
  queue.pop_front();
  return true;
}

void RequestWorkers::work(bool priority_only) {
  ::pthread_setname_np(::pthread_self(), priority_only ? "http-priority" : "http-worker");
  Job job;
  while (take(priority_only, job)) {
    job();
    job = nullptr;
  }
}

}  // namespace creditwatch::server
