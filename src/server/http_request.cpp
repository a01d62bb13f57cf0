#include "creditwatch/server/http_request.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::server {
namespace {

using Step = RequestParser::Step;

Step failure(int status, std::string why) {
  Step step;
  step.status = RequestParser::Status::failed;
  step.error_status = status;
  step.error = std::move(why);
  return step;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// RFC 9110 tchar: what a method or a header name may be made of.
bool is_token(std::string_view text) {
  static constexpr std::string_view k_extra = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || k_extra.find(c) != std::string_view::npos;
  });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "/a/b?x=1" (or "http://host/a/b?x=1") into path, segments and query; false when malformed.
bool read_target(std::string_view target, HttpRequest& request) {
  if (const auto scheme = target.find("://"); target.front() != '/' && scheme != std::string_view::npos) {
    const auto path_start = target.find('/', scheme + 3);
    target = path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
  }
  if (target.empty() || target.front() != '/') return false;
  target = target.substr(0, target.find('#'));
  const auto question = target.find('?');
  const auto raw_path = target.substr(0, question);
  auto path = percent_decode(raw_path, false);
  if (!path) return false;
  request.path = std::move(*path);
  for (const auto piece : split(raw_path.substr(1), '/')) {
    auto segment = percent_decode(piece, false);
    if (!segment) return false;
    request.segments.push_back(std::move(*segment));
  }
  if (question == std::string_view::npos) return true;
  for (const auto pair : split(target.substr(question + 1), '&')) {
    if (pair.empty()) continue;
    const auto equals = pair.find('=');
    auto key = percent_decode(pair.substr(0, equals), true);
    auto value = percent_decode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
    if (!key || !value) return false;
    request.query.emplace_back(std::move(*key), std::move(*value));
  }
  return true;
}

// "GET /path HTTP/1.1"; 0 when fine, else the status to answer.
int read_request_line(std::string_view line, HttpRequest& request) {
  const auto first = line.find(' ');
  const auto last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) return 400;
  const auto method = line.substr(0, first);
  const auto target = line.substr(first + 1, last - first - 1);
  const auto version = line.substr(last + 1);
  if (!is_token(method) || target.empty() || target.find(' ') != std::string_view::npos) return 400;
  if (version.rfind("HTTP/", 0) != 0) return 400;
  if (version == "HTTP/1.1" || version == "HTTP/1.0") {
    request.minor_version = version.back() - '0';
  } else {
    return 505;
  }
  request.method = std::string(method);
  request.target = std::string(target);
  return read_target(target, request) ? 0 : 400;
}

}  // namespace

std::optional<std::string> HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> HttpRequest::query_value(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

bool HttpRequest::keep_alive() const {
  const auto connection = lower(header("connection").value_or(""));
  if (connection.find("close") != std::string::npos) return false;
  return minor_version >= 1 || connection.find("keep-alive") != std::string::npos;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(plus_is_space && text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

RequestParser::RequestParser(RequestLimits limits) : m_limits(limits) {}

void RequestParser::reset() {
  m_scanned = 0;
  m_head_length = 0;
  m_body_length = 0;
  m_request = HttpRequest{};
}

HttpRequest RequestParser::take() {
  HttpRequest request = std::move(m_request);
  reset();
  return request;
}

RequestParser::Step RequestParser::parse(std::string_view input) {
  if (m_head_length == 0) {
    // Blank lines before a request line are tolerated (RFC 9112 section 2.2).
    const auto start = std::min(input.find_first_not_of("\r\n"), input.size());
    std::size_t end = 0;
    std::size_t i = std::max(m_scanned, start);
    for (; i < input.size() && end == 0; ++i) {
      if (input[i] != '\n') continue;
      if (i + 1 < input.size() && input[i + 1] == '\n') {
        end = i + 2;
      } else if (i + 2 < input.size() && input[i + 1] == '\r' && input[i + 2] == '\n') {
        end = i + 3;
      } else if (i + 2 >= input.size()) {
        break;  // the blank line may still be on its way
      }
    }
    m_scanned = i;
    if (end == 0 && input.size() <= m_limits.max_head_bytes) return {};
    if (end == 0 || end > m_limits.max_head_bytes) {
      // Judged on the first max_head_bytes alone, so the answer does not depend on how the
      // bytes were split into packets.
      const auto first_line_end = input.substr(0, m_limits.max_head_bytes).find('\n', start);
      return first_line_end == std::string_view::npos ? failure(414, "request line too long")
                                                      : failure(431, "request header fields too large");
    }
    auto head = read_head(input.substr(start, end - start));
    if (head.status == Status::failed) return head;
    m_head_length = end;
  }
  if (input.size() < m_head_length + m_body_length) return {};
  m_request.body = std::string(input.substr(m_head_length, m_body_length));
  Step step;
  step.status = Status::complete;
  step.consumed = m_head_length + m_body_length;
  return step;
}

RequestParser::Step RequestParser::read_head(std::string_view head) {
  auto lines = split(head, '\n');
  for (auto& line : lines) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  }
  if (const int status = read_request_line(lines.front(), m_request); status != 0) {
    return failure(status, status == 505 ? "HTTP version not supported" : "malformed request line");
  }
  std::optional<std::string> length;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto line = lines[i];
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (line.front() == ' ' || line.front() == '\t' || colon == std::string_view::npos ||
        !is_token(line.substr(0, colon))) {
      return failure(400, "malformed header field");
    }
    if (m_request.headers.size() >= m_limits.max_headers) return failure(431, "too many header fields");
    auto name = lower(line.substr(0, colon));
    std::string value(trim(line.substr(colon + 1)));
    if (name == "transfer-encoding") return failure(501, "request bodies must have a Content-Length");
    if (name == "content-length") {
      if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos ||
          (length && *length != value)) {
        return failure(400, "malformed Content-Length");
      }
      length = value;
    }
    m_request.headers.emplace_back(std::move(name), std::move(value));
  }
  m_body_length = length ? std::stoull(*length) : 0;
  if (m_body_length > m_limits.max_body_bytes) return failure(413, "request body too large");
  return {};
}

}  // namespace creditwatch::server
