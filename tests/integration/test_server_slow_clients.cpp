// The real daemon's HTTP endpoints under a slow-client storm (issue 14 item 13): 64
// connections that send half a request line and wait, more spread over other loopback
// addresses, clients that send a byte a second, clients that pipeline requests and never
// read the answers. /healthz and /metrics keep answering within 2 s, an oversized head gets
// 431 and a closed connection, and after the storm the daemon holds no more descriptors or
// threads than before it.
#include "http_daemon.hpp"

#include "fakes/raw_client.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {


// The names in `dir`: a process's open descriptors (fd/) or threads (task/).
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  return names;
}

// Threads of process `pid` whose name starts "http-" (the HTTP server's; the scheduler
// grows and shrinks its own pool of probe threads as it needs).
std::size_t http_threads(int pid) {
  const auto dir = "/proc/" + std::to_string(pid) + "/task";
  std::size_t n = 0;
  for (const auto& task : entries(dir)) n += read_file(dir + "/" + task + "/comm").rfind("http-", 0) == 0 ? 1 : 0;
  return n;
}

struct Timed {
  int status = 0;
  std::chrono::milliseconds took{};
};

Timed timed_get(const HttpDaemon& daemon, const std::string& path) {
  const auto started = std::chrono::steady_clock::now();
  auto res = daemon.get(path);
  return {res ? res->status : 0,
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)};
}

// The storm: everything is held until destruction.
class Storm {
public:
  explicit Storm(int port) : m_port(port) {}
  ~Storm() { stop(); }
  Storm(const Storm&) = delete;
  Storm& operator=(const Storm&) = delete;

  // `count` connections from `source` that send half a request line and wait.
  void half_open(const std::string& source, int count) {
    for (int i = 0; i < count; ++i) {
      m_sockets.push_back(std::make_unique<RawClient>(m_port, source));
      m_sockets.back()->send_best_effort("GET /healthz HT");
    }
  }
  // `count` clients from `source` that pipeline `requests` requests for `path` and never read.
  void non_readers(const std::string& source, int count, const std::string& path, int requests) {
    std::string pipeline;
    for (int i = 0; i < requests; ++i) pipeline += "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < count; ++i) {
      m_sockets.push_back(std::make_unique<RawClient>(m_port, source));
      m_sockets.back()->send_best_effort(pipeline);
    }
  }
  // `count` clients from `source` sending a request a byte a second, reconnecting when closed.
  void trickle(const std::string& source, int count) {
    for (int i = 0; i < count; ++i) {
      m_threads.emplace_back([this, source] {
        const std::string request = "GET /api/v1/accounts HTTP/1.1\r\nHost: x\r\n\r\n";
        while (!m_stop) {
          RawClient socket(m_port, source);
          for (std::size_t at = 0; at < request.size() && !m_stop; ++at) {
            socket.send_best_effort(request.substr(at, 1));
            bool closed = false;
            socket.read_until_closed(1s, &closed);
            if (closed) break;
          }
        }
      });
    }
  }
  void stop() {
    m_stop = true;
    for (auto& t : m_threads) t.join();
    m_threads.clear();
    m_sockets.clear();
  }

private:
  int m_port;
  std::atomic<bool> m_stop{false};
  std::vector<std::unique_ptr<RawClient>> m_sockets;
  std::vector<std::thread> m_threads;
};

}  // namespace

TEST_SUITE("server_slow_clients") {
  TEST_CASE("a slow-client storm leaves /healthz and /metrics answering within 2 s, and no fds or threads behind") {
    TempDir dir;
    dir.write("creditwatch.yaml", daemon_yaml(dir, simulated_account("sim", "1000", "100")));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(eventually([&] { return timed_get(daemon, "/healthz").status == 200; }, 10s));
    for (const char* path : {"/metrics", "/api/v1/accounts", "/"}) REQUIRE(timed_get(daemon, path).status == 200);
    const auto fd_dir = "/proc/" + std::to_string(daemon.pid()) + "/fd";
    const auto fds_before = entries(fd_dir).size();
    const auto threads_before = http_threads(daemon.pid());
    CHECK(threads_before == 4);  // the loop, the priority lane and two general workers

    Storm storm(daemon.port());
    storm.half_open("127.0.0.1", 64);  // what the acceptance check does
    for (int i = 2; i < 10; ++i) storm.half_open("127.0.0." + std::to_string(i), 8);
    storm.non_readers("127.0.0.10", 4, "/", 300);
    storm.non_readers("127.0.0.11", 4, "/metrics", 300);
    storm.trickle("127.0.0.12", 4);
    storm.trickle("127.0.0.1", 4);

    // Through the storm, past the server's header deadline (5 s) so the held connections
    // have been timed out and replaced at least once.
    const auto storm_end = std::chrono::steady_clock::now() + 8s;
    int probes = 0;
    std::size_t peak_fds = 0;
    std::chrono::milliseconds slowest{0};
    while (std::chrono::steady_clock::now() < storm_end) {
      peak_fds = std::max(peak_fds, entries(fd_dir).size());
      for (const char* path : {"/healthz", "/metrics"}) {
        const auto t = timed_get(daemon, path);
        CAPTURE(path);
        CHECK(t.status == 200);
        CHECK(t.took < 2s);
        slowest = std::max(slowest, t.took);
      }
      ++probes;
      storm.half_open("127.0.0.1", 4);  // keep the storm coming
      std::this_thread::sleep_for(250ms);
    }
    CHECK(probes >= 10);
    MESSAGE("storm: " << probes << " rounds of /healthz and /metrics, slowest " << slowest.count() << " ms; "
                      << peak_fds - fds_before << " more descriptors at the peak");
    // Well over 150 storm connections, but 127.0.0.1 holds at most 16 of them (8 each from
    // the other addresses, 4 from each non-reader and trickle address): the caps hold.
    CHECK(peak_fds > fds_before + 60);
    CHECK(peak_fds <= fds_before + 16 + 8 * 8 + 4 * 3 + 2);

    // An oversized head gets 431 and the connection is closed.
    {
      RawClient big(daemon.port(), "127.0.0.13");
      REQUIRE(big.connected());
      big.send_best_effort("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n");
      bool closed = false;
      const auto answer = big.read_until_closed(5s, &closed);
      CHECK(answer.rfind("HTTP/1.1 431 ", 0) == 0);
      CHECK(closed);
    }

    storm.stop();
    CHECK(eventually([&] { return entries(fd_dir).size() <= fds_before; }, 15s));
    CHECK(http_threads(daemon.pid()) == threads_before);
    CHECK(timed_get(daemon, "/healthz").status == 200);
    CHECK(daemon.running());
    CHECK(daemon.terminate() == 0);
  }
}
