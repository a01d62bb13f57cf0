#include "creditwatch/server/listen_socket.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace creditwatch::server {
namespace {

// Room for a burst of connections while the event loop is between two accept rounds.
constexpr int k_backlog = 512;

using AddressList = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;

int bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

// A listening socket on one resolved address, or the errno that stopped it.
std::pair<Fd, int> listen_on(const addrinfo& candidate) {
  Fd fd(::socket(candidate.ai_family, candidate.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, candidate.ai_protocol));
  if (!fd) return {Fd(), errno};
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd.get(), candidate.ai_addr, candidate.ai_addrlen) != 0 || ::listen(fd.get(), k_backlog) != 0) {
    return {Fd(), errno};
  }
  return {std::move(fd), 0};
}

}  // namespace

Fd::~Fd() { reset(); }

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

void Fd::reset() {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

std::optional<std::pair<std::string, int>> parse_listen(const std::string& listen) {
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') return std::nullopt;
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int number = std::stoi(port);
  if (number > 65535) return std::nullopt;
  return std::make_pair(host, number);
}

ListenSocket open_listener(const std::string& listen) {
  const auto address = parse_listen(listen);
  if (!address) throw std::runtime_error("http.listen \"" + listen + "\" is not HOST:PORT");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const auto service = std::to_string(address->second);
  if (const int rc = ::getaddrinfo(address->first.c_str(), service.c_str(), &hints, &found); rc != 0) {
    throw std::runtime_error("cannot listen on " + listen + ": " + gai_strerror(rc));
  }
  AddressList addresses(found, &freeaddrinfo);
  int error = 0;
  for (const addrinfo* candidate = addresses.get(); candidate; candidate = candidate->ai_next) {
    auto [fd, failed] = listen_on(*candidate);
    if (fd) {
      const int port = bound_port(fd.get());
      return ListenSocket{std::move(fd), port};
    }
    error = failed;
  }
  throw std::runtime_error("cannot listen on " + listen + ": " + std::strerror(error));
}

}  // namespace creditwatch::server
