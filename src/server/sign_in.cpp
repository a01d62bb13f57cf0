#include "creditwatch/server/sign_in.hpp"

#include "creditwatch/common/html.hpp"
#include "creditwatch/server/cookies.hpp"
#include "creditwatch/server/sign_in_page.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <string_view>

namespace creditwatch::server {
namespace {

// Constant-time comparison so the token cannot be guessed byte by byte from timings.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += c;
    } else {
      out += '%';
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0x0f];
    }
  }
  return out;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// `token=...&next=...` from an application/x-www-form-urlencoded body.
std::optional<std::string> form_field(const std::string& body, std::string_view name) {
  std::string_view rest = body;
  while (!rest.empty()) {
    const auto end = rest.find('&');
    const auto pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const auto equals = pair.find('=');
    if (percent_decode(pair.substr(0, equals), true) != std::string(name)) continue;
    return percent_decode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
  }
  return std::nullopt;
}

// A pasted token often carries a trailing newline or spaces; no token has them.
std::string without_outer_space(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

HttpResponse see_other(const std::string& location) {
  auto response = HttpResponse::text(303, "see " + location + "\n");
  response.headers.emplace_back("Location", location);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

bool api_path(const std::string& path) {
  return path == "/metrics" || path == "/api" || path.rfind("/api/", 0) == 0;
}

std::string seconds_text(Duration wait) {
  return std::to_string(std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(wait).count()));
}

}  // namespace

SignIn::SignIn(std::string token, const Clock& clock, SessionLimits sessions, FailedSignInLimits failures)
    : m_token(std::move(token)), m_sessions(clock, sessions), m_failures(clock, failures) {}

void SignIn::set_token(std::string token) {
  std::lock_guard lock(m_token_mutex);
  if (token == m_token) return;
  m_token = std::move(token);
  m_sessions.close_all();
}

std::string SignIn::token() const {
  std::lock_guard lock(m_token_mutex);
  return m_token;
}

bool SignIn::allowed(const HttpRequest& request) const {
  const auto secret = token();
  if (secret.empty()) return true;
  const std::string prefix = "Bearer ";
  if (const auto header = request.header("authorization");
      header && header->rfind(prefix, 0) == 0 && same_secret(header->substr(prefix.size()), secret)) {
    return true;
  }
  const auto session = cookie_value(request, k_session_cookie);
  return session && m_sessions.valid(*session);
}

std::optional<HttpResponse> SignIn::handle(const HttpRequest& request) {
  if (request.path != "/sign-in" && request.path != "/sign-out") return std::nullopt;
  try {
    const bool read = request.method == "GET" || request.method == "HEAD";
    if (request.path == "/sign-in" && read) {
      const auto next = local_target(request.query_value("next").value_or("/"));
      if (token().empty() || allowed(request)) return see_other(next);
      return form(200, "", next);
    }
    if (request.method == "POST") return request.path == "/sign-in" ? sign_in(request) : sign_out(request);
    auto response = HttpResponse::text(405, "method not allowed\n");
    response.headers.emplace_back("Allow", request.path == "/sign-in" ? "GET, HEAD, POST" : "POST");
    return response;
  } catch (const std::exception& e) {
    spdlog::error("http: {} failed: {}", request.path, e.what());
    return HttpResponse::text(500, "internal error\n");
  }
}

HttpResponse SignIn::sign_in(const HttpRequest& request) {
  const auto next = local_target(form_field(request.body, "next").value_or("/"));
  if (!from_own_page(request)) {
    spdlog::warn("http: sign-in from {} refused: sent from another site's page (Origin {})", request.client,
                 request.header("origin").value_or("not sent"));
    return HttpResponse::json(403, {{"error", "sign-in refused: the form was sent from another site"}});
  }
  const auto secret = token();
  if (secret.empty()) return see_other(next);
  if (const auto wait = m_failures.wait(request.client); wait > Duration::zero()) {
    auto response = form(429, "Too many failed sign-ins from your address: try again in " + seconds_text(wait) + " s.", next);
    response.headers.emplace_back("Retry-After", seconds_text(wait));
    return response;
  }
  const auto given = without_outer_space(form_field(request.body, "token").value_or(""));
  if (given.empty() || !same_secret(given, secret)) {
    const auto failures = m_failures.fail(request.client);
    const auto& limits = m_failures.limits();
    if (failures >= limits.max_failures) {
      spdlog::warn("http: failed sign-in from {} ({} within {}s): further tries refused for {} s", request.client,
                   failures, std::chrono::ceil<std::chrono::seconds>(limits.window).count(),
                   seconds_text(m_failures.wait(request.client)));
    } else {
      spdlog::warn("http: failed sign-in from {} (wrong token; {} of {} allowed within {}s)", request.client, failures,
                   limits.max_failures, std::chrono::ceil<std::chrono::seconds>(limits.window).count());
    }
    return form(401, "That is not the token. Try again.", next);
  }
  m_failures.forget(request.client);
  const auto id = m_sessions.open();
  spdlog::info("http: signed in from {}", request.client);
  auto response = see_other(next);
  response.headers.emplace_back(
      "Set-Cookie", set_cookie(k_session_cookie, id, std::chrono::duration_cast<std::chrono::seconds>(m_sessions.lifetime()),
                               came_over_https(request)));
  return response;
}

HttpResponse SignIn::sign_out(const HttpRequest& request) {
  if (!from_own_page(request)) {
    return HttpResponse::json(403, {{"error", "sign-out refused: the form was sent from another site"}});
  }
  if (const auto session = cookie_value(request, k_session_cookie); session && m_sessions.valid(*session)) {
    m_sessions.close(*session);
    spdlog::info("http: signed out from {}", request.client);
  }
  auto response = see_other("/sign-in");
  response.headers.emplace_back("Set-Cookie", set_cookie(k_session_cookie, "", std::chrono::seconds(0), came_over_https(request)));
  return response;
}

HttpResponse SignIn::form(int status, const std::string& message, const std::string& next) const {
  std::string page = sign_in_page_template();
  replace_all(page, "{{message}}", html_escape(message));
  replace_all(page, "{{next}}", html_escape(next));
  auto response = HttpResponse::text(status, std::move(page));
  response.content_type = "text/html; charset=utf-8";
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Content-Security-Policy", sign_in_page_policy());
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  return response;
}

HttpResponse SignIn::refusal(const HttpRequest& request) const {
  const bool page = (request.method == "GET" || request.method == "HEAD") && !api_path(request.path);
  if (page) {
    const auto next = local_target(request.target);
    return see_other(next == "/" ? "/sign-in" : "/sign-in?next=" + percent_encode(next));
  }
  auto response =
      HttpResponse::json(401, {{"error", "unauthorized: send Authorization: Bearer TOKEN, or sign in at /sign-in"}});
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

bool from_own_page(const HttpRequest& request) {
  if (const auto site = request.header("sec-fetch-site")) {
    const auto value = lower(*site);
    if (value != "same-origin" && value != "none") return false;
  }
  const auto origin = request.header("origin");
  if (!origin) return true;
  std::string_view authority = *origin;
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (authority.rfind(scheme, 0) == 0) {
      authority.remove_prefix(scheme.size());
      break;
    }
  }
  if (authority.size() == origin->size() || authority.empty() || authority.find('/') != std::string_view::npos) {
    return false;  // "null", another scheme, or not an origin
  }
  // The Host the browser sent, or as a reverse proxy that rewrites Host passes it on.
  for (const auto& name : {"host", "x-forwarded-host"}) {
    const auto value = request.header(name).value_or("");
    const auto host = value.substr(0, value.find(','));
    const auto first = host.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    if (lower(authority) == lower(host.substr(first, host.find_last_not_of(" \t") - first + 1))) return true;
  }
  return false;
}

std::string local_target(const std::string& next) {
  const bool control = std::any_of(next.begin(), next.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f || c == '\\';
  });
  // "//host/x" would be another site to a browser, as would "/\host" to some.
  if (next.empty() || next.front() != '/' || next.rfind("//", 0) == 0 || control || next.size() > 2000) return "/";
  return next;
}

}  // namespace creditwatch::server
