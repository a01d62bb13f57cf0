#pragma once

#include "creditwatch/common/clock.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace creditwatch::server {

// How long sessions last and how many are kept.
struct SessionLimits {
  Duration lifetime = std::chrono::hours(12);
  // Past this, opening a session ends the one closest to its end: sign-ins cannot grow
  // memory without bound.
  std::size_t max_sessions = 10'000;
};

// The browsers signed in with the HTTP token. A session is named by 256 random bits from
// OpenSSL's CSPRNG, given out once (for the cookie) and kept here only as its SHA-256, so
// neither a look at memory nor the timing of a lookup tells a live id. Each session ends
// `lifetime` after it began on the clock's monotonic time (a wall-clock step neither ends
// nor extends it), when closed, or when every session is closed (the token changed).
class SessionTable {
public:
  explicit SessionTable(const Clock& clock, SessionLimits limits = {});

  // Opens a session; returns its id (64 lower-case hex characters). Throws when the random
  // source fails.
  std::string open();
  // Whether `id` names a session that has not ended.
  bool valid(std::string_view id) const;
  // Ends the session `id`, if any.
  void close(std::string_view id);
  // Ends every session.
  void close_all();
  // Sessions not yet ended.
  std::size_t size() const;
  Duration lifetime() const { return m_limits.lifetime; }

private:
  using Digest = std::array<unsigned char, 32>;
  static Digest digest(std::string_view id);
  void drop_ended(SteadyPoint now);

  const Clock& m_clock;
  SessionLimits m_limits;
  mutable std::mutex m_mutex;
  std::map<Digest, SteadyPoint> m_ends;  // SHA-256 of the id -> when the session ends
};

}  // namespace creditwatch::server
