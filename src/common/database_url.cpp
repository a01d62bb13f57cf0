#include "creditwatch/common/database_url.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace creditwatch {
namespace {

using Span = std::pair<std::size_t, std::size_t>;  // offset, length

const std::vector<std::string_view> k_password_keys = {"password", "sslpassword"};

bool same_key(std::string_view text, std::string_view key) {
  return text.size() == key.size() && std::equal(text.begin(), text.end(), key.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

// The password in "scheme://user:password@host": after the first ':' of the user info, up to
// the last '@' before the query (libpq splits at the first '@', but a password with a raw
// '@' in it must not leave its tail behind).
void userinfo_password(std::string_view url, std::vector<Span>& out) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return;
  const std::size_t start = scheme_end + 3;
  const std::size_t query = std::min(url.find('?', start), url.size());
  const auto at = url.substr(0, query).rfind('@');
  if (at == std::string_view::npos || at < start) return;
  const auto colon = url.substr(0, at).find(':', start);
  if (colon != std::string_view::npos && colon + 1 < at) out.emplace_back(colon + 1, at - colon - 1);
}

// Values of password parameters: "?password=x&...", and the keyword form "password=x" that
// libpq also accepts, so a conninfo string passed here by mistake is covered too.
void parameter_passwords(std::string_view url, std::vector<Span>& out) {
  for (std::size_t eq = url.find('='); eq != std::string_view::npos; eq = url.find('=', eq + 1)) {
    std::size_t key_start = eq;
    while (key_start > 0 && std::isalnum(static_cast<unsigned char>(url[key_start - 1]))) --key_start;
    const bool bounded = key_start == 0 || url[key_start - 1] == '?' || url[key_start - 1] == '&' ||
                         std::isspace(static_cast<unsigned char>(url[key_start - 1]));
    const auto key = url.substr(key_start, eq - key_start);
    if (!bounded || std::none_of(k_password_keys.begin(), k_password_keys.end(),
                                 [&](std::string_view k) { return same_key(key, k); })) {
      continue;
    }
    std::size_t end = eq + 1;
    while (end < url.size() && url[end] != '&' && url[end] != '#' && !std::isspace(static_cast<unsigned char>(url[end]))) {
      ++end;
    }
    if (end > eq + 1) out.emplace_back(eq + 1, end - eq - 1);
  }
}

std::vector<Span> password_spans(std::string_view url) {
  std::vector<Span> out;
  userinfo_password(url, out);
  parameter_passwords(url, out);
  std::sort(out.begin(), out.end());
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

bool is_database_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

std::string redact_database_url(std::string_view url) {
  std::string out;
  std::size_t copied = 0;
  for (const auto& [offset, length] : password_spans(url)) {
    // Spans may overlap (a parameter inside a strange user info): hide their union.
    if (offset < copied) {
      copied = std::max(copied, offset + length);
      continue;
    }
    out.append(url.substr(copied, offset - copied));
    out += "***";
    copied = offset + length;
  }
  out.append(url.substr(copied));
  return out;
}

std::vector<std::string> database_url_passwords(std::string_view url) {
  std::vector<std::string> out;
  for (const auto& [offset, length] : password_spans(url)) {
    const std::string written(url.substr(offset, length));
    out.push_back(written);
    if (auto decoded = percent_decode(written); decoded != written) out.push_back(std::move(decoded));
  }
  return out;
}

}  // namespace creditwatch
