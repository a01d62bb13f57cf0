#include "creditwatch/server/sessions.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace creditwatch::server {

SessionTable::SessionTable(const Clock& clock, SessionLimits limits) : m_clock(clock), m_limits(limits) {}

std::string SessionTable::open() {
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("the random source failed: no session id");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string id;
  id.reserve(random.size() * 2);
  for (const auto byte : random) {
    id.push_back(k_hex[byte >> 4]);
    id.push_back(k_hex[byte & 0x0f]);
  }
  const auto now = m_clock.monotonic();
  std::lock_guard lock(m_mutex);
  drop_ended(now);
  if (m_limits.max_sessions > 0 && m_ends.size() >= m_limits.max_sessions) {
    m_ends.erase(std::min_element(m_ends.begin(), m_ends.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
  m_ends[digest(id)] = now + m_limits.lifetime;
  return id;
}

bool SessionTable::valid(std::string_view id) const {
  if (id.empty()) return false;
  const auto key = digest(id);
  const auto now = m_clock.monotonic();
  std::lock_guard lock(m_mutex);
  const auto it = m_ends.find(key);
  return it != m_ends.end() && now < it->second;
}

void SessionTable::close(std::string_view id) {
  const auto key = digest(id);
  std::lock_guard lock(m_mutex);
  m_ends.erase(key);
}

void SessionTable::close_all() {
  std::lock_guard lock(m_mutex);
  m_ends.clear();
}

std::size_t SessionTable::size() const {
  const auto now = m_clock.monotonic();
  std::lock_guard lock(m_mutex);
  return static_cast<std::size_t>(
      std::count_if(m_ends.begin(), m_ends.end(), [now](const auto& entry) { return now < entry.second; }));
}

SessionTable::Digest SessionTable::digest(std::string_view id) {
  Digest out{};
  unsigned int length = 0;
  if (EVP_Digest(id.data(), id.size(), out.data(), &length, EVP_sha256(), nullptr) != 1 || length != out.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

void SessionTable::drop_ended(SteadyPoint now) {
  std::erase_if(m_ends, [now](const auto& entry) { return entry.second <= now; });
}

}  // namespace creditwatch::server
