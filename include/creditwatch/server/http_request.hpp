#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace creditwatch::server {

// One parsed HTTP/1.x request. Names of headers are lower-cased; the path and the query
// are percent-decoded.
struct HttpRequest {
  std::string method;
  std::string target;                                           // as sent
  std::string path;                                             // decoded, without the query
  std::vector<std::string> segments;                            // path split at '/', each decoded
  std::vector<std::pair<std::string, std::string>> query;       // decoded, '+' read as a space
  std::vector<std::pair<std::string, std::string>> headers;     // lower-case name, trimmed value
  std::string body;
  int minor_version = 1;  // HTTP/1.minor
  std::string client;     // the peer's address without the port, set by the connection loop

  // The first header called `name` (lower case), if any.
  std::optional<std::string> header(std::string_view name) const;
  // The first query parameter called `name`, if any.
  std::optional<std::string> query_value(std::string_view name) const;
  // Whether the connection stays open after the answer (HTTP/1.1 unless "close", HTTP/1.0
  // only with "keep-alive").
  bool keep_alive() const;
};

// What one request may weigh. Past these the answer is 431 (head) or 413 (body).
struct RequestLimits {
  std::size_t max_head_bytes = 16 * 1024;  // request line and headers
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_headers = 100;
};

// Reads requests incrementally from a connection's input. Bytes arrive in any pieces; the
// parser remembers how far it has looked, so a client sending a byte at a time costs a
// constant amount per byte.
class RequestParser {
public:
  enum class Status { incomplete, complete, failed };
  struct Step {
    Status status = Status::incomplete;
    std::size_t consumed = 0;  // bytes of `input` the complete request took
    int error_status = 0;      // 400, 413, 414, 431, 501 or 505 when failed
    std::string error;         // why, for the answer body
  };

  explicit RequestParser(RequestLimits limits = {});

  // Looks at everything received and not yet consumed. On `complete`, take() gives the
  // request and the caller drops `consumed` bytes before the next call.
  Step parse(std::string_view input);
  HttpRequest take();
  // Whether the head of the request in progress has been read (its body may still be due).
  bool head_complete() const { return m_head_length > 0; }

private:
  Step read_head(std::string_view head);
  void reset();

  RequestLimits m_limits;
  std::size_t m_scanned = 0;      // how far the end of the head has been looked for
  std::size_t m_head_length = 0;  // including the blank line; 0 until found
  std::size_t m_body_length = 0;
  HttpRequest m_request;
};

// "%41b+c" -> "Ab c" with `plus_is_space`; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace creditwatch::server
