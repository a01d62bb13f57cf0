#include "creditwatch/providers/support.hpp"

#include "creditwatch/common/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace creditwatch::providers {
namespace {

constexpr std::size_t k_max_message = 200;  // bytes, the ellipsis included

// JSON text that never throws (a value's dump is only ever quoted in a message).
std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// provider_message() to a bounded depth: real error bodies nest two or three levels, and a
// hostile one ({"error":{"error":...}} a hundred thousand deep) must not recurse us off
// the stack.
std::string message_within(const nlohmann::json& body, int depth) {
  constexpr int k_max_depth = 4;
  if (!body.is_object()) return body.is_string() ? message_text(body.get<std::string>()) : "";
  for (const char* key : {"error", "message", "msg", "detail", "error_msg"}) {
    auto it = body.find(key);
    if (it == body.end()) continue;
    if (it->is_string()) return message_text(it->get<std::string>());
    if (it->is_object() && depth < k_max_depth) {
      auto nested = message_within(*it, depth + 1);
      if (!nested.empty()) return nested;
    }
  }
  return "";
}

}  // namespace

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::dns: return "dns";
    case ErrorKind::connect: return "connect";
    case ErrorKind::tls: return "tls";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::body_too_large: return "body_too_large";
    case ErrorKind::rate_limited: return "rate_limited";
    case ErrorKind::server_error: return "server_error";
    case ErrorKind::http_status: return "http_status";
    case ErrorKind::bad_response: return "bad_response";
    case ErrorKind::key_invalid: return "key_invalid";
    case ErrorKind::exhausted: return "exhausted";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

http::Request make_request(const config::AccountConfig& account, std::string url) {
  http::Request request;
  request.url = std::move(url);
  request.total_timeout = account.tuning.timeout;
  request.connect_timeout = std::min<Duration>(account.tuning.timeout, std::chrono::seconds(5));
  request.headers.push_back({"Accept", "application/json"});
  return request;
}

std::string join_url(const std::string& base, const std::string& path) {
  std::string left = base;
  while (!left.empty() && left.back() == '/') left.pop_back();
  if (path.empty()) return left;
  return path.front() == '/' ? left + path : left + "/" + path;
}

ProbeError from_failure(const http::Failure& failure) {
  ErrorKind kind = ErrorKind::internal;
  switch (failure.kind) {
    case http::FailureKind::dns: kind = ErrorKind::dns; break;
    case http::FailureKind::connect: kind = ErrorKind::connect; break;
    case http::FailureKind::tls: kind = ErrorKind::tls; break;
    case http::FailureKind::timeout: kind = ErrorKind::timeout; break;
    case http::FailureKind::body_too_large: kind = ErrorKind::body_too_large; break;
    case http::FailureKind::protocol: kind = ErrorKind::bad_response; break;
    // The host answered with a status we do not act on (a redirect we would not follow).
    case http::FailureKind::redirect: kind = ErrorKind::http_status; break;
    case http::FailureKind::internal: kind = ErrorKind::internal; break;
  }
  return ProbeError{kind, message_text(failure.message), 0, std::nullopt};
}

ProbeError from_status(const http::Response& response) {
  ProbeError e;
  e.http_status = response.status;
  const std::string detail = provider_message(response);
  auto with_detail = [&](std::string text) {
    return message_text(detail.empty() ? text : text + ": " + detail);
  };
  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.status == 401 || response.status == 403) {
    e.kind = ErrorKind::key_invalid;
    e.message = with_detail(status + " key rejected");
  } else if (response.status == 402) {
    e.kind = ErrorKind::exhausted;
    e.message = with_detail(status + " out of balance");
  } else if (response.status == 429) {
    e.kind = ErrorKind::rate_limited;
    e.retry_after = response.retry_after();
    e.message = with_detail(status + " rate limited");
  } else if (response.status >= 500) {
    e.kind = ErrorKind::server_error;
    e.message = with_detail(status + " server error");
  } else {
    e.kind = ErrorKind::http_status;
    e.message = with_detail(status);
  }
  return e;
}

Result<nlohmann::json, ProbeError> parse_object(const http::Response& response) {
  auto start = response.body.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return bad_response("empty body");
  std::string_view body(response.body);
  body.remove_prefix(start);
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    if (body.front() == '<') return bad_response("expected JSON, got an HTML page");
    return bad_response("expected JSON, got malformed or truncated text");
  }
  if (!parsed.is_object()) return bad_response("expected a JSON object, got " + describe(parsed));
  return parsed;
}

Result<nlohmann::json, ProbeError> fetch_object(http::Client& client, const http::Request& request,
                                                StatusReader on_status) {
  auto outcome = client.send(request);
  if (!outcome) return from_failure(outcome.error());
  if (outcome->status != 200) return on_status(*outcome);
  return parse_object(*outcome);
}

std::optional<Decimal> amount(const nlohmann::json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) return Decimal::parse(json_text(value));
  if (value.is_number_float()) return Decimal::parse(json_text(value));
  if (value.is_string()) return Decimal::parse(value.get<std::string>());
  return std::nullopt;
}

Result<Decimal, ProbeError> required_amount(const nlohmann::json& object, const std::string& key,
                                            const std::string& path_for_message) {
  if (!object.is_object() || !object.contains(key)) return bad_response(path_for_message + " is missing");
  if (auto value = amount(object[key])) return *value;
  return bad_response(path_for_message + ": expected a number or numeric string, got " + describe(object[key]));
}

Result<const nlohmann::json*, ProbeError> required_object(const nlohmann::json& body, const std::string& key) {
  auto it = body.find(key);
  if (it == body.end()) return bad_response(key + " is missing");
  if (!it->is_object()) return bad_response(key + ": expected an object, got " + describe(*it));
  return &*it;
}

void copy_amounts(const nlohmann::json& object, std::initializer_list<const char*> keys, nlohmann::json& details) {
  for (const char* key : keys) {
    auto it = object.find(key);
    if (it == object.end()) continue;
    if (auto value = amount(*it)) details[key] = value->to_string();
  }
}

std::string provider_message(const nlohmann::json& body) { return message_within(body, 0); }

std::string provider_message(const http::Response& response) {
  // Read from safe text: one stray byte or raw control character (a gateway that cuts or
  // re-encodes the body) would make the JSON unreadable and hide the provider's words. Line
  // breaks fold to spaces, which JSON takes between tokens, and inside strings where a raw
  // line break is not allowed.
  return provider_message(nlohmann::json::parse(safe_text(response.body, LineBreaks::fold), nullptr, false));
}

std::string message_text(std::string_view text) {
  // "..." rather than "…": scheduler/assessment.cpp recognises a key cut by this limit by
  // its start followed by "..." and scrubs it.
  return cut_text(safe_text(text, LineBreaks::fold), k_max_message, "...");
}

ProbeError bad_response(std::string message) {
  return ProbeError{ErrorKind::bad_response, message_text(message), 0, std::nullopt};
}

std::string lower_ascii(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string host_of(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  std::string host = authority.substr(0, authority.find(':'));
  while (!host.empty() && host.back() == '.') host.pop_back();
  return lower_ascii(host);
}

std::string percent_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      out += escaped;
    }
  }
  return out;
}

std::string describe(const nlohmann::json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "a list";
  if (value.is_null()) return "null";
  return message_text(json_text(value));
}

}  // namespace creditwatch::providers
