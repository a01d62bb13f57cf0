#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace creditwatch::server {

// What a handler answers. Content-Length and Connection are added when it is written.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // more header fields

  static HttpResponse text(int status, std::string body);
  // Pretty-printed; invalid UTF-8 in strings is replaced, never thrown on.
  static HttpResponse json(int status, const nlohmann::json& body);
};

// "Not Found" for 404; "Unknown" for a status it does not know.
const char* reason_phrase(int status);

// The bytes on the wire: an HTTP/1.1 status line, the header fields, then the body unless
// `head_only` (an answer to HEAD keeps Content-Length but sends no body).
std::string serialize(const HttpResponse& response, bool keep_alive, bool head_only);

}  // namespace creditwatch::server
