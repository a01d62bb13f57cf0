// The sd_notify protocol spoken directly (sd_notify(3) documents it as stable and meant to
// be reimplemented): one datagram of newline-separated assignments to the AF_UNIX socket
// named by $NOTIFY_SOCKET, '@' meaning the abstract namespace. Linking libsystemd for one
// sendto() also loaded libgcrypt, libgpg-error, liblz4, liblzma and libcap: six shared
// libraries, about 0.9 MiB of resident memory and their relocations at every start,
// including every `check` run from cron or a Nagios agent. The daemon feeds the watchdog
// every second while its scheduler loop turns, which satisfies any WatchdogSec, so it does
// not read WATCHDOG_USEC.
#include "creditwatch/app/systemd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace creditwatch::app {

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

}  // namespace creditwatch::app
