#include "creditwatch/server/sign_in_limiter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace creditwatch::server {

SignInLimiter::SignInLimiter(const Clock& clock, FailedSignInLimits limits) : m_clock(clock), m_limits(limits) {}

Duration SignInLimiter::wait(const std::string& client) {
  const auto now = m_clock.monotonic();
  std::lock_guard lock(m_mutex);
  const auto it = m_failures.find(key_of(client));
  if (it == m_failures.end()) return Duration::zero();
  drop_old(it->second, now);
  if (it->second.size() < m_limits.max_failures) return Duration::zero();
  // The try after the last allowed one waits until enough failures have aged out.
  const auto free_at = it->second[it->second.size() - m_limits.max_failures] + m_limits.window;
  return std::max(Duration(1), std::chrono::ceil<Duration>(free_at - now));
}

std::size_t SignInLimiter::fail(const std::string& client) {
  const auto now = m_clock.monotonic();
  const auto key = key_of(client);
  std::lock_guard lock(m_mutex);
  if (!m_failures.contains(key) && m_failures.size() >= m_limits.max_clients) {
    for (auto& [_, failures] : m_failures) drop_old(failures, now);
    std::erase_if(m_failures, [](const auto& entry) { return entry.second.empty(); });
    if (m_failures.size() >= m_limits.max_clients) {
      m_failures.erase(std::min_element(m_failures.begin(), m_failures.end(), [](const auto& a, const auto& b) {
        return a.second.back() < b.second.back();
      }));
    }
  }
  auto& failures = m_failures[key];
  drop_old(failures, now);
  failures.push_back(now);
  // Only the newest max_failures matter for wait().
  while (failures.size() > m_limits.max_failures) failures.pop_front();
  return failures.size();
}

void SignInLimiter::forget(const std::string& client) {
  std::lock_guard lock(m_mutex);
  m_failures.erase(key_of(client));
}

std::string SignInLimiter::key_of(const std::string& client) {
  in6_addr address{};
  if (client.find(':') == std::string::npos || ::inet_pton(AF_INET6, client.c_str(), &address) != 1) return client;
  std::memset(address.s6_addr + 8, 0, 8);
  char text[INET6_ADDRSTRLEN] = "";
  ::inet_ntop(AF_INET6, &address, text, sizeof text);
  return std::string(text) + "/64";
}

void SignInLimiter::drop_old(std::deque<SteadyPoint>& failures, SteadyPoint now) const {
  while (!failures.empty() && failures.front() + m_limits.window <= now) failures.pop_front();
}

}  // namespace creditwatch::server
