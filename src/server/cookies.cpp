#include "creditwatch/server/cookies.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::server {
namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::optional<std::string> cookie_value(const HttpRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (header != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto end = rest.find(';');
      const auto pair = trimmed(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      const auto equals = pair.find('=');
      if (equals == std::string_view::npos || trimmed(pair.substr(0, equals)) != name) continue;
      auto cookie = trimmed(pair.substr(equals + 1));
      if (cookie.size() >= 2 && cookie.front() == '"' && cookie.back() == '"') cookie = cookie.substr(1, cookie.size() - 2);
      return std::string(cookie);
    }
  }
  return std::nullopt;
}

bool came_over_https(const HttpRequest& request) {
  if (const auto proto = request.header("x-forwarded-proto")) {
    // A chain of proxies lists one scheme each; the first is what the browser used.
    const std::string_view first = std::string_view(*proto).substr(0, proto->find(','));
    return lower(trimmed(first)) == "https";
  }
  if (const auto forwarded = request.header("forwarded")) {
    const std::string_view first = std::string_view(*forwarded).substr(0, forwarded->find(','));
    std::string_view rest = first;
    while (!rest.empty()) {
      const auto end = rest.find(';');
      const auto pair = lower(trimmed(rest.substr(0, end)));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      if (pair == "proto=https" || pair == "proto=\"https\"") return true;
    }
  }
  return false;
}

std::string set_cookie(std::string_view name, std::string_view value, std::chrono::seconds max_age, bool secure) {
  std::string out = std::string(name) + "=" + std::string(value) + "; Path=/; Max-Age=" +
                    std::to_string(max_age.count()) + "; HttpOnly; SameSite=Strict";
  if (secure) out += "; Secure";
  return out;
}

}  // namespace creditwatch::server
