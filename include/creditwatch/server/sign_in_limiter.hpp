#pragma once

#include "creditwatch/common/clock.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace creditwatch::server {

// How many failed sign-ins a client may make, and how many clients are remembered.
struct FailedSignInLimits {
  std::size_t max_failures = 5;
  Duration window = std::chrono::minutes(1);
  // Clients remembered at once; past this the one idle longest is forgotten.
  std::size_t max_clients = 10'000;
};

// Failed sign-ins per client: at most `max_failures` in any `window`; past that the
// client is refused until its oldest failure leaves the window, so guessing the token runs
// at a few tries a minute. A client is its peer address, an IPv6 one its /64 (one host
// commonly holds a whole /64). Behind a reverse proxy every browser is the proxy's address,
// so the limit then holds for all of them together: slower for everyone, never looser.
class SignInLimiter {
public:
  explicit SignInLimiter(const Clock& clock, FailedSignInLimits limits = {});

  // How long `client` must wait before its next try; zero when it may try now.
  Duration wait(const std::string& client);
  // Counts a failed try of `client`; returns the failures in the window, this one included.
  std::size_t fail(const std::string& client);
  // A successful sign-in clears the client's failures.
  void forget(const std::string& client);
  const FailedSignInLimits& limits() const { return m_limits; }

private:
  static std::string key_of(const std::string& client);
  void drop_old(std::deque<SteadyPoint>& failures, SteadyPoint now) const;

  const Clock& m_clock;
  FailedSignInLimits m_limits;
  std::mutex m_mutex;
  std::map<std::string, std::deque<SteadyPoint>> m_failures;  // by key_of(client), oldest first
};

}  // namespace creditwatch::server
