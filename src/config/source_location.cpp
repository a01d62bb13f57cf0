#include "creditwatch/config/source_location.hpp"

namespace creditwatch::config {

std::string ConfigError::to_string() const {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " + message;
}

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors) : m_errors(std::move(errors)) {
  for (const auto& e : m_errors) {
    if (!m_summary.empty()) m_summary += "\n";
    m_summary += e.to_string();
  }
}

}  // namespace creditwatch::config
