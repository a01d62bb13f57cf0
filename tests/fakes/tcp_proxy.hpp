#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace creditwatch::testing {

// A loopback TCP proxy to 127.0.0.1:target_port, on a port the kernel picks, that a test can
// cut and mend: a network partition between one client (a replica) and its server
// (PostgreSQL) while other clients still reach the server directly. Cut, every open
// connection is closed and new ones are closed as soon as they are accepted, so the client
// sees its server go away at once rather than after its TCP timeouts.
class TcpProxy {
public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return m_port; }
  void cut();
  void mend();

private:
  void accept_loop();
  void pump(int client, int server, unsigned generation);

  int m_target_port;
  int m_listener = -1;
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::atomic<bool> m_cut{false};
  std::atomic<unsigned> m_generation{0};  // bumped by cut(): connections of older ones close
  std::mutex m_mutex;
  std::vector<std::thread> m_pumps;
  std::thread m_acceptor;
};

}  // namespace creditwatch::testing
