#pragma once

#include <string>
#include <vector>

namespace creditwatch::config {

// Where a value came from, so every error can say FILE:LINE:COL (1-based).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  bool operator==(const SourceLocation&) const = default;
};

struct ConfigError {
  SourceLocation where;
  std::string message;

  // "FILE:LINE:COL: message"
  std::string to_string() const;
};

// Thrown by load_config with every problem found, not just the first.
class ConfigErrors : public std::exception {
public:
  explicit ConfigErrors(std::vector<ConfigError> errors);
  const std::vector<ConfigError>& errors() const { return m_errors; }
  const char* what() const noexcept override { return m_summary.c_str(); }

private:
  std::vector<ConfigError> m_errors;
  std::string m_summary;
};

}  // namespace creditwatch::config
