#pragma once

#include "creditwatch/server/http_request.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace creditwatch::server {

// The value of the cookie `name` from the request's Cookie headers, if sent (the first one
// when sent more than once).
std::optional<std::string> cookie_value(const HttpRequest& request, std::string_view name);

// Whether the browser reached us over https: the daemon speaks plain HTTP, so this is a
// reverse proxy that terminated TLS and said so with `X-Forwarded-Proto: https` (or
// `Forwarded: proto=https`). A client that forges it only marks its own cookie Secure, which
// its browser then keeps off plain HTTP: trusting it cannot weaken anything.
bool came_over_https(const HttpRequest& request);

// A Set-Cookie value: HttpOnly (no script reads it), SameSite=Strict (no other site's page
// sends it), Path=/, Max-Age `max_age` (0 deletes it), Secure when `secure`.
std::string set_cookie(std::string_view name, std::string_view value, std::chrono::seconds max_age, bool secure);

}  // namespace creditwatch::server
