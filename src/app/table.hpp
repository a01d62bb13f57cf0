#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace creditwatch::app {

// A plain text table with left-aligned columns, as `check` and `status` print.
class Table {
public:
  explicit Table(std::vector<std::string> header) : m_rows{std::move(header)} {}
  void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  void print(std::ostream& out) const;

private:
  std::vector<std::vector<std::string>> m_rows;
};

// "12.3" with one decimal, or "-" when absent.
std::string format_days(const std::optional<double>& days);
std::string format_rate(const std::optional<double>& rate);

}  // namespace creditwatch::app
