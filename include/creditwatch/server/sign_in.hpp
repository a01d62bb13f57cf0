#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/server/http_request.hpp"
#include "creditwatch/server/http_response.hpp"
#include "creditwatch/server/sessions.hpp"
#include "creditwatch/server/sign_in_limiter.hpp"

#include <mutex>
#include <optional>
#include <string>

namespace creditwatch::server {

// The name of the session cookie.
inline constexpr const char* k_session_cookie = "creditwatch_session";

// Who may use the server when `http.auth_token` is set: API clients sending
// `Authorization: Bearer TOKEN`, and browsers holding a session cookie from the sign-in form
// (GET /sign-in, POST /sign-in with `token` and `next`, POST /sign-out). Without a token
// everything is open, as before. Thread-safe.
class SignIn {
public:
  SignIn(std::string token, const Clock& clock, SessionLimits sessions = {}, FailedSignInLimits failures = {});

  // The token from now on (empty: no auth). A different token ends every session: a browser
  // signed in with the old one must sign in again.
  void set_token(std::string token);
  // Whether `request` may see what the token guards: always when there is no token.
  bool allowed(const HttpRequest& request) const;
  // The answer to the sign-in paths (/sign-in, /sign-out); nullopt for any other path.
  std::optional<HttpResponse> handle(const HttpRequest& request);
  // The answer to a request that is not allowed: for /api/, /metrics and anything but GET
  // or HEAD a JSON 401 (API clients), for a page the way to the sign-in form.
  HttpResponse refusal(const HttpRequest& request) const;

private:
  HttpResponse form(int status, const std::string& message, const std::string& next) const;
  HttpResponse sign_in(const HttpRequest& request);
  HttpResponse sign_out(const HttpRequest& request);
  std::string token() const;

  mutable std::mutex m_token_mutex;
  std::string m_token;
  SessionTable m_sessions;
  SignInLimiter m_failures;
};

// Whether a state-changing browser request comes from our own pages: its Origin, when
// sent, names the host it was sent to (Host, or X-Forwarded-Host from a reverse proxy that
// rewrites Host), and
// Sec-Fetch-Site, when sent, says same-origin or none. The session cookie is
// SameSite=Strict already; this guards the sign-in and sign-out forms themselves.
bool from_own_page(const HttpRequest& request);

// `next` when it is a path on this server ("/accounts/x?y=1"), else "/": the sign-in
// redirects only within the site.
std::string local_target(const std::string& next);

}  // namespace creditwatch::server
