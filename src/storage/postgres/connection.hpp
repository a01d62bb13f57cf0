#pragma once

#include "creditwatch/storage/database_error.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace creditwatch::storage::postgres {

// A parameter of a query, in PostgreSQL's text format; nullopt is NULL.
using Param = std::optional<std::string>;

// The rows a query returned. Columns are 0-based; values are read from their text form.
class Result {
public:
  explicit Result(pg_result* result);
  int rows() const;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  double real(int row, int column) const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  std::int64_t affected() const;

private:
  struct Clear {
    void operator()(pg_result* result) const;
  };
  std::unique_ptr<pg_result, Clear> m_result;
};

// One libpq connection. Statements are prepared on first use and kept, per connection.
class Connection {
public:
  explicit Connection(const std::string& conninfo);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` with `params` as a prepared statement (named after its text).
  Result run(const std::string& sql, const std::vector<Param>& params = {});
  // Runs `sql` once, unprepared (statements of varying shape, migrations).
  Result run_once(const std::string& sql, const std::vector<Param>& params = {});
  // Runs one or more statements without parameters.
  void exec(const std::string& sql);
  // False once the connection is lost; the pool then replaces it.
  bool healthy() const;

private:
  struct Finish {
    void operator()(pg_conn* conn) const;
  };
  Result check(pg_result* result, const char* what);
  std::unique_ptr<pg_conn, Finish> m_conn;
  std::unordered_map<std::string, std::string> m_prepared;  // SQL text -> statement name
};

// Declared with DatabaseError: the group commit, shared by both stores, must tell it apart.
using storage::CommitOutcomeUnknown;

// RAII: BEGIN on construction, ROLLBACK unless commit() was called.
class Transaction {
public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

private:
  Connection& m_connection;
  bool m_done = false;
};

// A few connections shared by all threads. A thread borrows one for a method's length. A
// lost server fails fast: after a failed connect, further borrows throw at once until the
// backoff (0.5 s doubling to 2 s) has passed, so probes never queue behind connect timeouts.
class ConnectionPool {
public:
  ConnectionPool(std::string conninfo, std::size_t size);

  class Lease {
  public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() { return *m_connection; }
    Connection* operator->() { return m_connection.get(); }

  private:
    ConnectionPool& m_pool;
    std::unique_ptr<Connection> m_connection;
  };

  Lease borrow();
  // Closes the idle connections: one was found dead, so the server restarted or went away.
  void discard_idle();

private:
  void give_back(std::unique_ptr<Connection> connection);

  std::string m_conninfo;
  std::size_t m_size;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<std::unique_ptr<Connection>> m_idle;
  std::size_t m_open = 0;  // connections idle or lent
  std::chrono::steady_clock::time_point m_retry_at{};
  std::chrono::milliseconds m_backoff{0};
  std::string m_last_failure;
};

// The connection string libpq gets for a user's URL: the URL itself, plus certificate
// verification against the system's CA bundle when the server is not on this machine and
// the URL does not choose an sslmode itself (libpq's own default, "prefer", would accept
// any certificate, or none).
std::string conninfo_for(const std::string& url);

}  // namespace creditwatch::storage::postgres
