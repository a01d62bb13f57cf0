#pragma once

#include <optional>
#include <string>

namespace creditwatch::http {

// Requests carry credentials meant for the configured host only: x-api-key and
// Authorization headers, custom headers, routing keys in POST bodies, basic auth. So the
// client follows a redirect itself, and only one that stays on the same origin (scheme,
// host and port), for a GET, at most k_max_redirects times in a row.
inline constexpr int k_max_redirects = 3;

// True for the statuses that ask the client to go elsewhere (301, 302, 303, 307, 308).
bool is_redirect(long status);

// Why the answer `status` to `method from_url`, pointing at `target_url` (the Location
// resolved against from_url), must not be followed; nullopt when it may be. The reason
// names the target's host (and port) but never its path, query or user info, which may
// carry secrets: "redirected (HTTP 302) to other.example.com; not followed (credentials
// stay with the configured host)".
std::optional<std::string> redirect_refusal(const std::string& method, const std::string& from_url, long status,
                                            const std::string& target_url);

}  // namespace creditwatch::http
