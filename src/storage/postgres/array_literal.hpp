#pragma once

#include <optional>
#include <string>

namespace creditwatch::storage::postgres {

// One column of many rows as a PostgreSQL array literal, {"1","2",NULL}: a batch of rows goes
// over as one parameter per column, so one prepared INSERT ... SELECT FROM unnest($1::bigint[],
// ...) serves batches of any size (one statement, one plan, one round trip).
class ArrayLiteral {
public:
  void add(const std::optional<std::string>& value) {
    if (m_size++ > 0) m_text += ',';
    if (!value) {
      m_text += "NULL";
      return;
    }
    m_text += '"';
    for (const char c : *value) {
      if (c == '"' || c == '\\') m_text += '\\';
      m_text += c;
    }
    m_text += '"';
  }
  // Numbers need no quotes.
  void add_number(long long value) {
    if (m_size++ > 0) m_text += ',';
    m_text += std::to_string(value);
  }
  std::size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  std::string finish() const { return m_text + "}"; }
  void clear() {
    m_text = "{";
    m_size = 0;
  }

private:
  std::string m_text = "{";
  std::size_t m_size = 0;
};

}  // namespace creditwatch::storage::postgres
