// The sd_notify protocol spoken directly (sd_notify(3) documents it as stable and meant to
// be reimplemented): one datagram of newline-separated assignments to the AF_UNIX socket
// named by $NOTIFY_SOCKET, '@' meaning the abstract namespace. Linking libsystemd for one
// sendto() also loaded libgcrypt, libgpg-error, liblz4, liblzma and libcap: six shared
// libraries, about 0.9 MiB of resident memory and their relocations at every start,
// including every `check` run from cron or a Nagios agent.
#include "creditwatch/app/systemd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace creditwatch::app {
namespace {

std::optional<std::uint64_t> parse_unsigned(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  const std::string_view view(text);
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size()) return std::nullopt;
  return value;
}

}  // namespace

bool notify_systemd(const std::string& state) {
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (socket_path == nullptr) return false;
  const std::string_view path(socket_path);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@') || path.size() >= sizeof address.sun_path) {
    return false;
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';
  // Exact length: an abstract name is not NUL-terminated and its length is part of it.
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto sent =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::chrono::microseconds systemd_watchdog_period() {
  const auto usec = parse_unsigned(std::getenv("WATCHDOG_USEC"));
  // Zero and values past the signed range (USEC_INFINITY among them) mean no watchdog, as
  // for sd_watchdog_enabled(3).
  if (!usec || *usec == 0 || *usec > static_cast<std::uint64_t>(std::chrono::microseconds::max().count())) {
    return std::chrono::microseconds(0);
  }
  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited the
  // environment must not answer for its parent.
  if (const char* pid = std::getenv("WATCHDOG_PID")) {
    const auto owner = parse_unsigned(pid);
    if (!owner || *owner != static_cast<std::uint64_t>(::getpid())) return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(*usec));
}

}  // namespace creditwatch::app
