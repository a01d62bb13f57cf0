#pragma once

#include <optional>
#include <string>
#include <utility>

namespace creditwatch::server {

// Owns one file descriptor: closed on destruction, moved but never copied.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd();
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  void reset();

private:
  int m_fd = -1;
};

// A bound, listening, non-blocking TCP socket.
struct ListenSocket {
  Fd fd;
  int port = 0;  // the bound port (the kernel's pick when 0 was asked for)
};

// Binds and listens on `listen` ("HOST:PORT", "[v6]:PORT", HOST a name or an address;
// port 0 picks a free one). Throws std::runtime_error saying which address and why.
ListenSocket open_listener(const std::string& listen);

// Splits "HOST:PORT" / "[v6]:PORT" (an empty HOST is 0.0.0.0); nullopt when malformed.
std::optional<std::pair<std::string, int>> parse_listen(const std::string& listen);

}  // namespace creditwatch::server
