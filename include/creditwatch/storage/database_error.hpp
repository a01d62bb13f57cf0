#pragma once

#include <stdexcept>
#include <string>

namespace creditwatch::storage {

// A database refused or could not do what was asked. The message never holds a password.
class DatabaseError : public std::runtime_error {
public:
  explicit DatabaseError(const std::string& what, int code = 0) : std::runtime_error(what), m_code(code) {}
  // The backend's own code: SQLite's result code (e.g. SQLITE_FULL = 13); for PostgreSQL,
  // 0 (the SQLSTATE is in the message).
  int code() const { return m_code; }

private:
  int m_code;
};

// A COMMIT whose answer was lost with the connection: the transaction may or may not have
// been committed, so the caller must not simply run it again (it could enqueue a page twice).
class CommitOutcomeUnknown : public DatabaseError {
public:
  using DatabaseError::DatabaseError;
};

}  // namespace creditwatch::storage
