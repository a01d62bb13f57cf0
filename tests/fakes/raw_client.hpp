#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace creditwatch::testing {

// A raw TCP client, bound to `source` (any 127.0.0.0/8 address) so the server sees it as
// a client of its own.
class RawClient {
public:
  explicit RawClient(int port, const std::string& source = "127.0.0.1") {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~RawClient() { ::close(m_fd); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return m_connected; }
  // Best effort: a storm connection may have been closed by the server already.
  void send_best_effort(const std::string& data) {
    ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  void send(const std::string& data) { REQUIRE(::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size())); }

  // Everything received until the server closes or `timeout` passes; `closed` says which.
  std::string read_until_closed(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string out = std::exchange(m_pending, std::string());
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (closed) *closed = false;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{m_fd, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 0))) <= 0) break;
      char buffer[65536];
      const auto n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

  // One whole answer (head and Content-Length body) on a kept-alive connection.
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto head_end = m_pending.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const auto at = m_pending.find("Content-Length: ");
        const auto length = std::stoul(m_pending.substr(at + 16));
        if (m_pending.size() >= head_end + 4 + length) {
          auto response = m_pending.substr(0, head_end + 4 + length);
          m_pending.erase(0, response.size());
          return response;
        }
      }
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buffer[65536];
      const auto n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      m_pending.append(buffer, static_cast<std::size_t>(n));
    }
    return m_pending;
  }

private:
  int m_fd = -1;
  bool m_connected = false;
  std::string m_pending;
};

}  // namespace creditwatch::testing
