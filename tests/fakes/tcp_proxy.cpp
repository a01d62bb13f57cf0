#include "fakes/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <stdexcept>

namespace creditwatch::testing {
namespace {

// How often the threads look at the stop and cut flags while nothing moves.
constexpr int k_poll_ms = 50;

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return addr;
}

// Writes all of `data`; false when the peer is gone.
bool write_all(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(int target_port) : m_target_port(target_port) {
  m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int yes = 1;
  ::setsockopt(m_listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr = loopback(0);
  if (::bind(m_listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_listener, 64) != 0) {
    ::close(m_listener);
    throw std::runtime_error("tcp proxy: cannot listen on 127.0.0.1");
  }
  socklen_t length = sizeof addr;
  ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&addr), &length);
  m_port = ntohs(addr.sin_port);
  m_acceptor = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  m_stopping = true;
  if (m_acceptor.joinable()) m_acceptor.join();
  std::vector<std::thread> pumps;
  {
    std::lock_guard lock(m_mutex);
    pumps.swap(m_pumps);
  }
  for (auto& t : pumps) t.join();
  ::close(m_listener);
}

void TcpProxy::cut() {
  m_cut = true;
  ++m_generation;
}

void TcpProxy::mend() { m_cut = false; }

void TcpProxy::accept_loop() {
  while (!m_stopping) {
    pollfd listening{m_listener, POLLIN, 0};
    if (::poll(&listening, 1, k_poll_ms) <= 0) continue;
    const int client = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (m_cut) {
      ::close(client);
      continue;
    }
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in target = loopback(m_target_port);
    if (::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
      ::close(server);
      ::close(client);
      continue;
    }
    std::lock_guard lock(m_mutex);
    m_pumps.emplace_back([this, client, server, generation = m_generation.load()] { pump(client, server, generation); });
  }
}

// Copies bytes both ways until either side closes, the proxy is cut, or it stops.
void TcpProxy::pump(int client, int server, unsigned generation) {
  std::array<char, 16384> buffer{};
  while (!m_stopping && m_generation == generation) {
    std::array<pollfd, 2> fds{pollfd{client, POLLIN, 0}, pollfd{server, POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), k_poll_ms) <= 0) continue;
    bool open = true;
    for (std::size_t i = 0; i < fds.size() && open; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::recv(fds[i].fd, buffer.data(), buffer.size(), 0);
      open = n > 0 && write_all(fds[1 - i].fd, buffer.data(), n);
    }
    if (!open) break;
  }
  ::close(client);
  ::close(server);
}

}  // namespace creditwatch::testing
