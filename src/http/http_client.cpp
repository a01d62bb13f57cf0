#include "creditwatch/http/http_client.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/version.hpp"

#include <ctime>

namespace creditwatch::http {

const char* to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::dns: return "dns";
    case FailureKind::connect: return "connect";
    case FailureKind::tls: return "tls";
    case FailureKind::timeout: return "timeout";
    case FailureKind::body_too_large: return "body_too_large";
    case FailureKind::protocol: return "protocol";
    case FailureKind::redirect: return "redirect";
    case FailureKind::internal: return "internal";
  }
  return "internal";
}

std::optional<Duration> Response::retry_after() const {
  auto it = headers.find("retry-after");
  if (it == headers.end()) return std::nullopt;
  const std::string& value = it->second;
  if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos && value.size() < 10) {
    return std::chrono::seconds(std::stol(value));
  }
  // HTTP-date, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  if (strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
    auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto delta = std::chrono::duration_cast<Duration>(at - std::chrono::system_clock::now());
    return delta.count() > 0 ? delta : Duration(0);
  }
  return std::nullopt;
}

std::string user_agent() { return std::string("creditwatch/") + k_version; }

}  // namespace creditwatch::http
