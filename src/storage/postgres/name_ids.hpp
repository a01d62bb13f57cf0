#pragma once

#include "array_literal.hpp"
#include "connection.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace creditwatch::storage::postgres {

// The integer ids of account names (or currency codes), remembered once seen. Rows of these
// tables are never deleted or renamed, so a remembered id never goes stale. A name not yet
// there is inserted with ON CONFLICT DO NOTHING and then read back: replicas inserting the
// same name at once both end up with the one id the table kept.
class NameIds {
public:
  // `table` (accounts or currencies) with its unique text column `column` (name or code).
  NameIds(const char* table, const char* column)
      : m_insert(std::string("INSERT INTO ") + table + " (" + column + ") SELECT name FROM unnest($1::text[]) " +
                 "WITH ORDINALITY AS n(name, i) ORDER BY i ON CONFLICT (" + column + ") DO NOTHING"),
        m_select(std::string("SELECT ") + column + ", id FROM " + table + " WHERE " + column + " = ANY($1::text[])") {}

  // The ids of `names` (cleaned text, as stored); new ones are numbered in the order given
  // (readings of one instant are read back in currency-id order: the order they were written
  // in). Call it outside a transaction: the ids it inserts are committed at once, so one
  // remembered here can never be rolled back.
  std::unordered_map<std::string, std::int64_t> ids(Connection& connection, const std::vector<std::string>& names) {
    std::unordered_map<std::string, std::int64_t> out;
    ArrayLiteral missing;
    {
      std::lock_guard lock(m_mutex);
      for (const auto& name : names) {
        if (out.count(name) != 0) continue;
        if (const auto found = m_ids.find(name); found != m_ids.end()) {
          out.emplace(name, found->second);
        } else {
          out.emplace(name, 0);
          missing.add(name);
        }
      }
    }
    if (missing.empty()) return out;
    const auto array = missing.finish();
    connection.run(m_insert, {array});
    const auto rows = connection.run(m_select, {array});
    std::lock_guard lock(m_mutex);
    for (int i = 0; i < rows.rows(); ++i) {
      const auto name = rows.text(i, 0);
      const auto id = rows.int64(i, 1);
      m_ids[name] = id;
      out[name] = id;
    }
    return out;
  }

private:
  const std::string m_insert;
  const std::string m_select;
  std::mutex m_mutex;
  std::unordered_map<std::string, std::int64_t> m_ids;  // guarded by m_mutex
};

}  // namespace creditwatch::storage::postgres
