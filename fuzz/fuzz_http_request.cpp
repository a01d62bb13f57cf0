// The HTTP request parser on arbitrary bytes, fed in arbitrary pieces (the first byte picks
// the piece size): never crashes, never consumes more than it was given, fails only with
// the statuses it documents, and reads the same requests whatever the pieces.
#include "creditwatch/server/http_request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using creditwatch::server::RequestLimits;
using creditwatch::server::RequestParser;

// The methods and paths of the requests read from `input` given `piece` bytes at a time,
// then "!" and the status when it failed.
std::vector<std::string> read_all(std::string_view input, std::size_t piece) {
  RequestLimits limits;
  limits.max_head_bytes = 512;
  limits.max_body_bytes = 256;
  limits.max_headers = 8;
  RequestParser parser(limits);
  std::vector<std::string> seen;
  std::string buffer;
  std::size_t fed = 0;
  while (true) {
    const auto step = parser.parse(buffer);
    if (step.consumed > buffer.size()) std::abort();
    if (step.status == RequestParser::Status::failed) {
      const int s = step.error_status;
      if (s != 400 && s != 413 && s != 414 && s != 431 && s != 501 && s != 505) std::abort();
      seen.push_back("!" + std::to_string(s));
      return seen;
    }
    if (step.status == RequestParser::Status::complete) {
      if (step.consumed == 0) std::abort();
      const auto request = parser.take();
      seen.push_back(request.method + " " + request.path + " " + std::to_string(request.body.size()));
      buffer.erase(0, step.consumed);
      continue;
    }
    if (fed >= input.size()) return seen;
    const auto n = std::min(piece, input.size() - fed);
    buffer.append(input.substr(fed, n));
    fed += n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t piece = 1 + data[0] % 64;
  const auto whole = read_all(input, input.size() + 1);
  if (read_all(input, piece) != whole) std::abort();
  const auto decoded = creditwatch::server::percent_decode(input, true);
  if (decoded && decoded->size() > input.size()) std::abort();
  return 0;
}
