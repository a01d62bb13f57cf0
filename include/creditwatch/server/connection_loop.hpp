#pragma once

#include "creditwatch/server/http_request.hpp"
#include "creditwatch/server/http_response.hpp"
#include "creditwatch/server/listen_socket.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace creditwatch::server {

// How much any one client may take of the server. The defaults keep /healthz answering
// within a second while hundreds of connections dawdle.
struct ServerLimits {
  RequestLimits request;
  std::chrono::milliseconds header_timeout{5'000};  // connect (or first byte) to the end of the head
  std::chrono::milliseconds body_timeout{10'000};   // end of the head to the end of the body
  std::chrono::milliseconds idle_timeout{15'000};   // a kept-alive connection between requests
  std::chrono::milliseconds write_timeout{10'000};  // to write one answer
  std::size_t max_connections = 256;                // in total
  std::size_t max_per_client = 16;                  // from one peer address
  std::size_t max_queued = 64;                      // complete requests waiting, per lane
  std::size_t general_threads = 2;                  // handler threads besides the priority one
};

// The one thread that owns every socket of the server. It reads requests without blocking,
// under the deadlines and sizes of ServerLimits, and hands only complete ones on, so a slow
// or silent client costs a descriptor and a few bytes, never a thread. Answers are written
// without blocking too. When a client or the whole server is at its cap, a new connection
// is still accepted and the least useful old one (idle or incomplete first, oldest first)
// is closed: a fresh liveness probe always gets in.
class ConnectionLoop {
public:
  // Called on the loop thread with each complete request. Returns the answer at once, or
  // nullopt when the answer will come later through complete().
  using Dispatch = std::function<std::optional<HttpResponse>(std::uint64_t connection, HttpRequest request)>;

  ConnectionLoop(ServerLimits limits, Dispatch dispatch);
  ~ConnectionLoop();
  ConnectionLoop(const ConnectionLoop&) = delete;
  ConnectionLoop& operator=(const ConnectionLoop&) = delete;

  // Starts the thread, accepting on `listener`.
  void start(ListenSocket listener);
  // Accepts on `listener` from now on and closes the old one; connections already open
  // are served to their end. Thread-safe.
  void replace_listener(ListenSocket listener);
  // The answer to a request handed out by Dispatch. Thread-safe; dropped when the
  // connection has been closed meanwhile.
  void complete(std::uint64_t connection, HttpResponse response);
  // Closes every connection and joins the thread.
  void stop();

private:
  using SteadyPoint = std::chrono::steady_clock::time_point;
  enum class Phase { reading, handling, writing, lingering };
  struct Connection {
    Fd fd;
    std::string client;  // peer address: the key of the per-client cap
    Phase phase = Phase::reading;
    SteadyPoint phase_started;
    SteadyPoint deadline;
    bool idle = true;          // reading, and no byte of the next request yet
    bool head_only = false;    // the request being answered is a HEAD
    bool keep_alive = false;   // after the answer being written
    std::string input;         // received, not yet consumed
    RequestParser parser;
    std::string output;        // the answer being written
    std::size_t sent = 0;
  };

  void run();
  void wait_for_events();
  void take_posted();
  void accept_all();
  void admit(Fd fd, std::string client);
  bool evict(const std::string* client);
  void on_ready(std::uint64_t id, short revents);
  void read_from(std::uint64_t id);
  void process_input(std::uint64_t id);
  void answer(std::uint64_t id, const HttpResponse& response, bool keep_alive);
  void flush(std::uint64_t id);
  void start_reading(Connection& connection, bool idle);
  void linger(Connection& connection);
  void expire();
  void close(std::uint64_t id);
  Connection* find(std::uint64_t id);

  const ServerLimits m_limits;
  const Dispatch m_dispatch;
  Fd m_wake;  // eventfd: complete(), replace_listener() and stop() poke the loop through it
  ListenSocket m_listener;
  std::atomic<bool> m_stopping{false};
  std::thread m_thread;

  // Shared with other threads.
  std::mutex m_mutex;
  std::vector<std::pair<std::uint64_t, HttpResponse>> m_completed;
  std::optional<ListenSocket> m_next_listener;

  // Loop thread only.
  std::map<std::uint64_t, Connection> m_connections;  // by id, so oldest first
  std::map<std::string, std::size_t> m_per_client;
  std::uint64_t m_next_id = 1;
  SteadyPoint m_accept_paused_until{};
  std::size_t m_evicted = 0;  // since the last log line about it
  SteadyPoint m_eviction_logged{};
  SteadyPoint m_out_of_fds_logged{};
};

}  // namespace creditwatch::server
