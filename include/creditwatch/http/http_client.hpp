#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/result.hpp"

#include <atomic>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace creditwatch::http {

struct Header {
  std::string name;
  std::string value;  // may hold a credential: never logged
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;
  Duration connect_timeout = std::chrono::seconds(5);
  Duration total_timeout = std::chrono::seconds(15);
  std::size_t max_body_bytes = 1 << 20;
  // false: a longer body is a body_too_large failure (a provider's answer must be whole to
  // be read). true: the status and the first max_body_bytes are kept and the rest is not
  // read (a sink's 200 with a huge body is still a delivery, not a failure to retry).
  bool truncate_body = false;
  // Basic auth "user:password" for APIs that use it (Twilio); never logged.
  std::string basic_auth;
};

struct Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  Duration elapsed{0};
  bool body_truncated = false;  // the body was cut at max_body_bytes (Request::truncate_body)

  // Seconds from a Retry-After header (delta-seconds or HTTP date), if any.
  std::optional<Duration> retry_after() const;
};

// Why a request produced no HTTP response. HTTP error statuses are not failures here:
// they come back as a Response, and the caller decides what a 402 or 500 means; a redirect
// the client would not follow (see redirect_policy.hpp) is a failure of kind `redirect`.
enum class FailureKind { dns, connect, tls, timeout, body_too_large, protocol, redirect, internal };

struct Failure {
  FailureKind kind;
  std::string message;  // curl's explanation, with the URL's credentials removed
  Duration elapsed{0};
};

const char* to_string(FailureKind kind);

using Outcome = Result<Response, Failure>;

// Sends one request. Implementations must keep TLS verification on for every host.
// Not thread-safe: use one client per thread.
class Client {
public:
  virtual ~Client() = default;
  virtual Outcome send(const Request& request) = 0;
  // The flag that aborts this client's transfers at shutdown, if it has one, so other
  // transports used on the same thread (SMTP) can honour it too.
  virtual const std::atomic<bool>* cancel_flag() const { return nullptr; }
};

// The User-Agent every request carries: "creditwatch/VERSION".
std::string user_agent();

}  // namespace creditwatch::http
