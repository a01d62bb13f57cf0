#include "creditwatch/server/connection_loop.hpp"

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <tuple>

// Deadlines run on std::chrono::steady_clock rather than an injected Clock: they bound
// real sockets waiting in poll(), which only real elapsed time can wake.
namespace creditwatch::server {
namespace {

using namespace std::chrono_literals;

// How long a closed-for-writing connection is drained so the client reads the whole error
// answer before the socket goes (closing with unread input would reset it).
constexpr auto k_linger = 1s;
// The longest poll() sleeps, so stop() and deadlines are never far off.
constexpr auto k_max_wait = 1s;
// After the process ran out of descriptors, accept() rests this long.
constexpr auto k_accept_pause = 100ms;
// At most one log line this often about connections closed to make room.
constexpr auto k_eviction_log_every = 10s;
// Accepted per loop round, so a connection flood cannot starve reads and writes.
constexpr int k_accepts_per_round = 64;
// Read per connection per round.
constexpr std::size_t k_read_chunk = 16 * 1024;
constexpr std::size_t k_reads_per_round = 8;

// The peer's address without the port: the key of the per-client cap. An IPv4 peer on
// a dual-stack socket counts as its IPv4 address.
std::string peer_of(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, text, sizeof text);
  }
  std::string peer = text;
  if (peer.rfind("::ffff:", 0) == 0 && peer.find('.') != std::string::npos) peer.erase(0, 7);
  return peer;
}

std::chrono::milliseconds until(std::chrono::steady_clock::time_point deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  return std::clamp(std::chrono::ceil<std::chrono::milliseconds>(left), 0ms,
                    std::chrono::milliseconds(k_max_wait));
}

}  // namespace

ConnectionLoop::ConnectionLoop(ServerLimits limits, Dispatch dispatch)
    : m_limits(limits), m_dispatch(std::move(dispatch)), m_wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!m_wake) throw std::runtime_error("cannot create the HTTP server's eventfd");
}

ConnectionLoop::~ConnectionLoop() { stop(); }

void ConnectionLoop::start(ListenSocket listener) {
  m_listener = std::move(listener);
  m_thread = std::thread([this] { run(); });
}

void ConnectionLoop::replace_listener(ListenSocket listener) {
  {
    std::lock_guard lock(m_mutex);
    m_next_listener = std::move(listener);
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(m_wake.get(), &one, sizeof one);
}

void ConnectionLoop::complete(std::uint64_t connection, HttpResponse response) {
  {
    std::lock_guard lock(m_mutex);
    m_completed.emplace_back(connection, std::move(response));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(m_wake.get(), &one, sizeof one);
}

void ConnectionLoop::stop() {
  m_stopping = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(m_wake.get(), &one, sizeof one);
  if (m_thread.joinable()) m_thread.join();
}

void ConnectionLoop::run() {
  ::pthread_setname_np(::pthread_self(), "http-loop");
  while (!m_stopping) {
    wait_for_events();
    expire();
  }
  m_connections.clear();
  m_per_client.clear();
  m_listener.fd.reset();
}

void ConnectionLoop::wait_for_events() {
  const auto now = std::chrono::steady_clock::now();
  const bool accepting = now >= m_accept_paused_until;
  std::vector<pollfd> fds{{m_wake.get(), POLLIN, 0}, {accepting ? m_listener.fd.get() : -1, POLLIN, 0}};
  std::vector<std::uint64_t> ids;
  auto wake_at = accepting ? now + k_max_wait : m_accept_paused_until;
  for (const auto& [id, connection] : m_connections) {
    short events = 0;
    if (connection.phase == Phase::reading || connection.phase == Phase::lingering) events = POLLIN;
    if (connection.phase == Phase::writing) events = POLLOUT;
    if (connection.phase != Phase::handling) wake_at = std::min(wake_at, connection.deadline);
    // A connection being handled is left out: a hang-up would otherwise wake poll() at once,
    // again and again, until its answer is ready.
    fds.push_back({connection.phase == Phase::handling ? -1 : connection.fd.get(), events, 0});
    ids.push_back(id);
  }
  if (::poll(fds.data(), fds.size(), static_cast<int>(until(wake_at).count())) < 0) return;  // EINTR: go round
  if (fds[0].revents != 0) take_posted();
  if (fds[1].revents != 0) accept_all();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (fds[i + 2].revents != 0) on_ready(ids[i], fds[i + 2].revents);
  }
}

void ConnectionLoop::take_posted() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto drained = ::read(m_wake.get(), &count, sizeof count);
  std::vector<std::pair<std::uint64_t, HttpResponse>> completed;
  std::optional<ListenSocket> listener;
  {
    std::lock_guard lock(m_mutex);
    completed.swap(m_completed);
    listener.swap(m_next_listener);
  }
  if (listener) m_listener = std::move(*listener);
  for (auto& [id, response] : completed) {
    const auto* connection = find(id);
    if (connection && connection->phase == Phase::handling) answer(id, response, connection->keep_alive);
  }
}

void ConnectionLoop::accept_all() {
  for (int i = 0; i < k_accepts_per_round; ++i) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    Fd fd(::accept4(m_listener.fd.get(), reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd) {
      admit(std::move(fd), peer_of(address));
      continue;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of descriptors: give one back and let the next round accept into it.
      const auto now = std::chrono::steady_clock::now();
      if (!evict(nullptr)) m_accept_paused_until = now + k_accept_pause;
      if (now - m_out_of_fds_logged >= k_eviction_log_every) {
        spdlog::warn("http: out of file descriptors accepting a connection ({} open)", m_connections.size());
        m_out_of_fds_logged = now;
      }
      return;
    }
    if (errno != ECONNABORTED && errno != EINTR && errno != EPROTO) return;  // EAGAIN: all taken
  }
}

void ConnectionLoop::admit(Fd fd, std::string client) {
  while (m_per_client[client] >= m_limits.max_per_client && evict(&client)) {
  }
  while (m_connections.size() >= m_limits.max_connections && evict(nullptr)) {
  }
  const auto id = m_next_id++;
  auto& connection = m_connections[id];
  connection.fd = std::move(fd);
  connection.client = std::move(client);
  connection.parser = RequestParser(m_limits.request);
  ++m_per_client[connection.client];
  start_reading(connection, false);
}

// Closes the least useful connection (of `client`, or of anyone): one waiting for a
// request or draining first, then one being written to, then one being handled; the
// oldest of each. False when there is none.
bool ConnectionLoop::evict(const std::string* client) {
  const auto rank = [](Phase phase) {
    return phase == Phase::reading || phase == Phase::lingering ? 0 : phase == Phase::writing ? 1 : 2;
  };
  std::uint64_t victim = 0;
  std::tuple<int, SteadyPoint> best{3, SteadyPoint::max()};
  for (const auto& [id, connection] : m_connections) {
    if (client && connection.client != *client) continue;
    const std::tuple<int, SteadyPoint> key{rank(connection.phase), connection.phase_started};
    if (key < best) {
      best = key;
      victim = id;
    }
  }
  if (victim == 0) return false;
  close(victim);
  // A storm evicts thousands a minute: say so once in a while, with the count.
  ++m_evicted;
  const auto now = std::chrono::steady_clock::now();
  if (now - m_eviction_logged >= k_eviction_log_every) {
    spdlog::info("http: closed {} idle or incomplete connections to stay within {} per client and {} in total",
                 m_evicted, m_limits.max_per_client, m_limits.max_connections);
    m_evicted = 0;
    m_eviction_logged = now;
  }
  return true;
}

void ConnectionLoop::on_ready(std::uint64_t id, short revents) {
  auto* connection = find(id);
  if (!connection) return;
  if (connection->phase == Phase::writing) {
    if (revents & (POLLERR | POLLNVAL)) {
      close(id);
    } else {
      flush(id);
    }
  } else if (connection->phase == Phase::reading || connection->phase == Phase::lingering) {
    read_from(id);
  } else if (revents & (POLLERR | POLLNVAL)) {
    close(id);
  }
}

void ConnectionLoop::read_from(std::uint64_t id) {
  char buffer[k_read_chunk];
  for (std::size_t round = 0; round < k_reads_per_round; ++round) {
    auto* connection = find(id);
    if (!connection) return;
    const auto n = ::recv(connection->fd.get(), buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close(id);  // the peer went away, half a request or not
      return;
    }
    if (n < 0) break;
    if (connection->phase == Phase::lingering) continue;  // drained, not read
    if (connection->idle) {
      connection->idle = false;
      connection->deadline = std::chrono::steady_clock::now() + m_limits.header_timeout;
    }
    connection->input.append(buffer, static_cast<std::size_t>(n));
    // Enough for any request and what may be pipelined behind it: parse before reading on.
    if (connection->input.size() > m_limits.request.max_head_bytes + m_limits.request.max_body_bytes) break;
  }
  process_input(id);
}

void ConnectionLoop::process_input(std::uint64_t id) {
  auto* connection = find(id);
  if (!connection || connection->phase != Phase::reading || connection->input.empty()) return;
  const bool had_head = connection->parser.head_complete();
  const auto step = connection->parser.parse(connection->input);
  if (step.status == RequestParser::Status::incomplete) {
    if (!had_head && connection->parser.head_complete()) {
      connection->deadline = std::chrono::steady_clock::now() + m_limits.body_timeout;
    }
    return;
  }
  if (step.status == RequestParser::Status::failed) {
    connection->head_only = false;
    connection->phase = Phase::handling;
    answer(id, HttpResponse::text(step.error_status, step.error + "\n"), false);
    return;
  }
  auto request = connection->parser.take();
  request.client = connection->client;
  connection->input.erase(0, step.consumed);
  connection->head_only = request.method == "HEAD";
  connection->keep_alive = request.keep_alive();
  connection->phase = Phase::handling;
  connection->phase_started = std::chrono::steady_clock::now();
  if (auto immediate = m_dispatch(id, std::move(request))) answer(id, *immediate, connection->keep_alive);
}

void ConnectionLoop::answer(std::uint64_t id, const HttpResponse& response, bool keep_alive) {
  auto* connection = find(id);
  if (!connection) return;
  connection->output = serialize(response, keep_alive, connection->head_only);
  connection->sent = 0;
  connection->keep_alive = keep_alive;
  connection->phase = Phase::writing;
  connection->phase_started = std::chrono::steady_clock::now();
  connection->deadline = connection->phase_started + m_limits.write_timeout;
  flush(id);
}

void ConnectionLoop::flush(std::uint64_t id) {
  auto* connection = find(id);
  if (!connection) return;
  while (connection->sent < connection->output.size()) {
    const auto n = ::send(connection->fd.get(), connection->output.data() + connection->sent,
                          connection->output.size() - connection->sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;  // POLLOUT brings us back
    if (n < 0) {
      close(id);
      return;
    }
    connection->sent += static_cast<std::size_t>(n);
  }
  connection->output = std::string();
  if (!connection->keep_alive) {
    linger(*connection);
    return;
  }
  start_reading(*connection, true);
  process_input(id);  // a pipelined request may be waiting already
}

void ConnectionLoop::start_reading(Connection& connection, bool idle) {
  connection.phase = Phase::reading;
  connection.phase_started = std::chrono::steady_clock::now();
  connection.idle = idle && connection.input.empty();
  connection.deadline = connection.phase_started + (connection.idle ? m_limits.idle_timeout : m_limits.header_timeout);
}

void ConnectionLoop::linger(Connection& connection) {
  ::shutdown(connection.fd.get(), SHUT_WR);
  connection.phase = Phase::lingering;
  connection.phase_started = std::chrono::steady_clock::now();
  connection.deadline = connection.phase_started + k_linger;
}

void ConnectionLoop::expire() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> late;
  for (const auto& [id, connection] : m_connections) {
    if (connection.phase != Phase::handling && connection.deadline <= now) late.push_back(id);
  }
  for (const auto id : late) {
    auto* connection = find(id);
    if (!connection) continue;
    if (connection->phase == Phase::reading && !connection->idle) {
      connection->phase = Phase::handling;
      connection->head_only = false;
      answer(id, HttpResponse::text(408, "request not received in time\n"), false);
    } else {
      close(id);
    }
  }
}

void ConnectionLoop::close(std::uint64_t id) {
  const auto it = m_connections.find(id);
  if (it == m_connections.end()) return;
  const auto client = m_per_client.find(it->second.client);
  if (client != m_per_client.end() && --client->second == 0) m_per_client.erase(client);
  m_connections.erase(it);
}

ConnectionLoop::Connection* ConnectionLoop::find(std::uint64_t id) {
  const auto it = m_connections.find(id);
  return it == m_connections.end() ? nullptr : &it->second;
}

}  // namespace creditwatch::server
