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

}  // namespace creditwatch::storage
