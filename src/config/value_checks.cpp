#include "value_checks.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <regex>

namespace creditwatch::config {
namespace {

// User label names that would clash with the labels creditwatch sets on every series.
const std::vector<std::string> k_reserved_labels = {"account", "provider", "currency"};

bool is_token_char(unsigned char c) {
  static const std::string_view k_symbols = "!#$%&'*+-.^_`|~";
  return std::isalnum(c) || k_symbols.find(static_cast<char>(c)) != std::string_view::npos;
}

// `text` with control bytes spelled out (\r, \n, \xNN), so a message stays on one line.
std::string visible(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string where(const SourceLocation& at) { return std::to_string(at.line) + ":" + std::to_string(at.column); }

}  // namespace

bool is_http_url(const std::string& url) {
  static const std::regex pattern(R"(https?://(\[[0-9a-f:.]+\]|[^/?#\s:@\[\]]+)(:[0-9]{1,5})?([/?#]\S*)?)",
                                  std::regex::icase);
  return std::regex_match(url, pattern);
}

std::string metric_label_name(std::string_view name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out = "_" + out;
  return out;
}

void check_labels(ConfigReader& r, const YAML::Node& labels) {
  if (!labels.IsMap()) return;  // string_map reported it
  std::map<std::string, std::pair<std::string, SourceLocation>> seen;  // metric name -> key, where
  for (const auto& entry : labels) {
    const std::string key = entry.first.Scalar();
    const std::string name = metric_label_name(key);
    const std::string quoted = "\"" + visible(key) + "\"";
    if (std::find(k_reserved_labels.begin(), k_reserved_labels.end(), name) != k_reserved_labels.end()) {
      r.error(entry.first, "label " + quoted + " is reserved: creditwatch sets " + name + " on every metric itself");
      continue;
    }
    if (name.rfind("__", 0) == 0) {
      r.error(entry.first, "label " + quoted + " is reserved: Prometheus keeps names starting with __ for itself");
      continue;
    }
    auto [it, added] = seen.try_emplace(name, key, r.location(entry.first));
    if (!added) {
      r.error(entry.first, "label " + quoted + " is the metric label " + name + ", as is label \"" +
                               visible(it->second.first) + "\" at " + where(it->second.second));
    }
  }
}

void check_headers(ConfigReader& r, const YAML::Node& headers, const std::map<std::string, std::string>& values) {
  if (!headers.IsMap()) return;
  for (const auto& entry : headers) {
    const std::string name = entry.first.Scalar();
    bool token = !name.empty();
    for (unsigned char c : name) token = token && is_token_char(c);
    if (!token) {
      r.error(entry.first, "headers: \"" + visible(name) +
                               "\" is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)");
      continue;
    }
    auto value = values.find(name);
    if (value != values.end() && value->second.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      r.error(entry.second, "headers: the value of " + name + " contains a line break or NUL");
    }
  }
}

}  // namespace creditwatch::config
