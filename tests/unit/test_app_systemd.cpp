// The sd_notify protocol spoken without libsystemd: datagrams to a path or an abstract
// NOTIFY_SOCKET.
#include "creditwatch/app/systemd.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

using creditwatch::app::notify_systemd;
using creditwatch::testing::TempDir;

namespace {

// Sets an environment variable for one scope and restores what was there.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : m_name(name) {
    if (const char* old = std::getenv(name)) m_old = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (m_old) {
      ::setenv(m_name, m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  const char* m_name;
  std::optional<std::string> m_old;
};

// A datagram socket bound where systemd would listen; `name` starting with '@' is abstract.
class Listener {
public:
  explicit Listener(const std::string& name) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    if (name[0] == '@') address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
    timeval timeout{2, 0};
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Listener() { ::close(m_fd); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  std::string receive() const {
    char buffer[4096];
    const auto n = ::recv(m_fd, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

private:
  int m_fd = -1;
};

}  // namespace

TEST_SUITE("app.systemd") {
  TEST_CASE("outside systemd nothing is sent") {
    ScopedEnv socket("NOTIFY_SOCKET", std::nullopt);
    CHECK_FALSE(notify_systemd("READY=1"));
  }

  TEST_CASE("a filesystem NOTIFY_SOCKET gets the state as one datagram") {
    TempDir dir;
    const std::string path = dir.file("notify.sock");
    Listener systemd(path);
    ScopedEnv socket("NOTIFY_SOCKET", path);
    REQUIRE(notify_systemd("READY=1\nSTATUS=3 accounts"));
    CHECK(systemd.receive() == "READY=1\nSTATUS=3 accounts");
    REQUIRE(notify_systemd("STOPPING=1"));
    CHECK(systemd.receive() == "STOPPING=1");
  }

  TEST_CASE("an abstract NOTIFY_SOCKET (leading @) is reached by its exact name") {
    const std::string name = "@creditwatch-test-" + std::to_string(::getpid());
    Listener systemd(name);
    ScopedEnv socket("NOTIFY_SOCKET", name);
    REQUIRE(notify_systemd("WATCHDOG=1"));
    CHECK(systemd.receive() == "WATCHDOG=1");
  }

  TEST_CASE("a relative, empty or missing socket is not a failure, just not systemd") {
    for (const char* value : {"", "notify.sock", "@"}) {
      CAPTURE(value);
      ScopedEnv socket("NOTIFY_SOCKET", std::string(value));
      CHECK_FALSE(notify_systemd("READY=1"));
    }
    TempDir dir;
    ScopedEnv socket("NOTIFY_SOCKET", dir.file("nobody-listens.sock"));
    CHECK_FALSE(notify_systemd("READY=1"));
  }
}
