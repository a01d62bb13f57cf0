#include "connection.hpp"

#include "creditwatch/common/database_url.hpp"
#include "creditwatch/common/text.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <thread>

namespace creditwatch::storage::postgres {
namespace {

constexpr auto k_first_backoff = std::chrono::milliseconds(500);
// Short next to a lease (at least 3 s): a server that is back must be found before this
// replica's leases run out, or it gives up accounts (and stays 503) for no reason.
constexpr auto k_max_backoff = std::chrono::milliseconds(2'000);

std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

std::string error_of(const pg_conn* conn) { return one_line(conn ? PQerrorMessage(conn) : "out of memory"); }

bool loopback(const std::string& host) {
  return host.empty() || host.front() == '/' || host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" ||
         host == "::1";
}

// The value of `key` in the URL's query, if present.
std::optional<std::string> query_value(const std::string& query, const std::string& key) {
  std::size_t at = 0;
  while (at < query.size()) {
    auto end = query.find('&', at);
    if (end == std::string::npos) end = query.size();
    const auto pair = query.substr(at, end - at);
    if (pair.rfind(key + "=", 0) == 0) return pair.substr(key.size() + 1);
    at = end + 1;
  }
  return std::nullopt;
}

std::vector<const char*> pointers(const std::vector<Param>& params) {
  std::vector<const char*> out;
  out.reserve(params.size());
  for (const auto& p : params) out.push_back(p ? p->c_str() : nullptr);
  return out;
}

}  // namespace

std::string conninfo_for(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto authority_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto query_start = url.find('?', authority_start);
  const auto query = query_start == std::string::npos ? std::string() : url.substr(query_start + 1);
  auto authority_end = url.find_first_of("/?", authority_start);
  if (authority_end == std::string::npos) authority_end = url.size();
  auto authority = url.substr(authority_start, authority_end - authority_start);
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  // libpq tries each host of a list ("h1:5432,h2:5432", or host=h1,h2) in turn: all must be
  // on this machine to go without verification.
  const std::string hosts = query_value(query, "host").value_or(authority);
  bool remote = false;
  for (std::size_t start = 0;;) {
    const auto end = std::min(hosts.find(',', start), hosts.size());
    std::string host = hosts.substr(start, end - start);
    if (!host.empty() && host.front() == '[') {
      host = host.substr(0, host.find(']') + 1);
    } else if (const auto colon = host.find(':'); colon != std::string::npos) {
      host = host.substr(0, colon);
    }
    remote = remote || !loopback(host);
    if (end == hosts.size()) break;
    start = end + 1;
  }

  std::string extra;
  const auto add = [&extra](const std::string& pair) { extra += (extra.empty() ? "" : "&") + pair; };
  if (!query_value(query, "sslmode") && remote) {
    add("sslmode=verify-full");
    if (!query_value(query, "sslrootcert")) add("sslrootcert=/etc/ssl/certs/ca-certificates.crt");
  }
  // A partitioned server must not hold a probe thread for libpq's default of forever.
  if (!query_value(query, "connect_timeout")) add("connect_timeout=5");
  if (!query_value(query, "application_name")) add("application_name=creditwatch");
  // A network that drops packets silently would otherwise hold a query (and the loop thread
  // renewing leases) until the kernel gives up on the connection, about 15 minutes.
  if (!query_value(query, "keepalives_idle")) add("keepalives_idle=5&keepalives_interval=2&keepalives_count=2");
  if (!query_value(query, "tcp_user_timeout")) add("tcp_user_timeout=10000");
  if (extra.empty()) return url;
  return url + (query_start == std::string::npos ? "?" : "&") + extra;
}

Result::Result(pg_result* result) : m_result(result) {}
void Result::Clear::operator()(pg_result* result) const { PQclear(result); }
int Result::rows() const { return PQntuples(m_result.get()); }
bool Result::is_null(int row, int column) const { return PQgetisnull(m_result.get(), row, column) != 0; }
std::string Result::text(int row, int column) const {
  return std::string(PQgetvalue(m_result.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(m_result.get(), row, column)));
}
std::int64_t Result::int64(int row, int column) const {
  return std::strtoll(PQgetvalue(m_result.get(), row, column), nullptr, 10);
}
double Result::real(int row, int column) const { return std::strtod(PQgetvalue(m_result.get(), row, column), nullptr); }
std::int64_t Result::affected() const { return std::strtoll(PQcmdTuples(m_result.get()), nullptr, 10); }

void Connection::Finish::operator()(pg_conn* conn) const { PQfinish(conn); }

Connection::Connection(const std::string& conninfo) : m_conn(PQconnectdb(conninfo.c_str())) {
  if (!m_conn || PQstatus(m_conn.get()) != CONNECTION_OK) {
    // libpq quotes the parts of a URL it cannot parse, a password included.
    throw DatabaseError("could not connect to PostgreSQL: " +
                        redact(error_of(m_conn.get()), database_url_passwords(conninfo)));
  }
  // Quiet: notices (e.g. "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(m_conn.get(), [](void*, const char*) {}, nullptr);
}

bool Connection::healthy() const { return m_conn && PQstatus(m_conn.get()) == CONNECTION_OK; }

Result Connection::check(pg_result* raw, const char* what) {
  Result result(raw);
  const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  std::string message = raw ? one_line(PQresultErrorMessage(raw)) : error_of(m_conn.get());
  if (message.empty()) message = error_of(m_conn.get());
  throw DatabaseError(std::string(what) + ": " + message);
}

Result Connection::run(const std::string& sql, const std::vector<Param>& params) {
  auto found = m_prepared.find(sql);
  if (found == m_prepared.end()) {
    const auto name = "cw" + std::to_string(m_prepared.size());
    check(PQprepare(m_conn.get(), name.c_str(), sql.c_str(), 0, nullptr), "prepare failed");
    found = m_prepared.emplace(sql, name).first;
  }
  const auto values = pointers(params);
  return check(PQexecPrepared(m_conn.get(), found->second.c_str(), static_cast<int>(values.size()), values.data(),
                              nullptr, nullptr, 0),
               "query failed");
}

Result Connection::run_once(const std::string& sql, const std::vector<Param>& params) {
  const auto values = pointers(params);
  return check(PQexecParams(m_conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                            nullptr, nullptr, 0),
               "query failed");
}

void Connection::exec(const std::string& sql) { check(PQexec(m_conn.get(), sql.c_str()), "statement failed"); }

Transaction::Transaction(Connection& connection) : m_connection(connection) { m_connection.exec("BEGIN"); }

Transaction::~Transaction() {
  if (m_done || !m_connection.healthy()) return;
  try {
    m_connection.exec("ROLLBACK");
  } catch (const DatabaseError&) {
    // The connection is broken; the pool replaces it and the server rolled back for us.
  }
}

void Transaction::commit() {
  try {
    m_connection.exec("COMMIT");
  } catch (const DatabaseError& e) {
    if (m_connection.healthy()) throw;  // refused (e.g. a constraint): rolled back for sure
    throw CommitOutcomeUnknown(e.what());
  }
  m_done = true;
}

ConnectionPool::ConnectionPool(std::string conninfo, std::size_t size) : m_conninfo(std::move(conninfo)), m_size(size) {}

ConnectionPool::Lease::Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
    : m_pool(pool), m_connection(std::move(connection)) {}

ConnectionPool::Lease::~Lease() { m_pool.give_back(std::move(m_connection)); }

ConnectionPool::Lease ConnectionPool::borrow() {
  std::unique_lock lock(m_mutex);
  m_cv.wait(lock, [&] { return !m_idle.empty() || m_open < m_size; });
  if (!m_idle.empty()) {
    auto connection = std::move(m_idle.back());
    m_idle.pop_back();
    return Lease(*this, std::move(connection));
  }
  if (std::chrono::steady_clock::now() < m_retry_at) {
    throw DatabaseError("PostgreSQL unavailable (reconnecting with backoff): " + m_last_failure);
  }
  ++m_open;
  lock.unlock();
  try {
    auto connection = std::make_unique<Connection>(m_conninfo);
    lock.lock();
    m_backoff = std::chrono::milliseconds(0);
    m_retry_at = {};
    lock.unlock();
    return Lease(*this, std::move(connection));
  } catch (const DatabaseError& e) {
    lock.lock();
    --m_open;
    m_backoff = m_backoff.count() == 0 ? k_first_backoff : std::min(m_backoff * 2, k_max_backoff);
    m_retry_at = std::chrono::steady_clock::now() + m_backoff;
    m_last_failure = e.what();
    m_cv.notify_one();
    throw;
  }
}

void ConnectionPool::discard_idle() {
  std::lock_guard lock(m_mutex);
  m_open -= m_idle.size();
  m_idle.clear();
  m_cv.notify_all();
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(m_mutex);
  if (connection && connection->healthy()) {
    m_idle.push_back(std::move(connection));
  } else {
    --m_open;  // lost: the next borrow connects anew
  }
  m_cv.notify_one();
}

}  // namespace creditwatch::storage::postgres
