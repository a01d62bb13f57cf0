#pragma once

#include "creditwatch/common/decimal.hpp"
#include "creditwatch/config/config.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace creditwatch::config {

// Reads typed values out of yaml-cpp nodes, resolving ${VAR} and *_file, and collects
// every problem with its location instead of stopping at the first.
class ConfigReader {
public:
  explicit ConfigReader(std::string file) : m_file(std::move(file)) {}

  YAML::Node load();

  SourceLocation location(const YAML::Node& node) const;
  void error(const YAML::Node& node, std::string message);
  const std::vector<ConfigError>& errors() const { return m_errors; }
  void throw_if_errors() const;

  // The value node under `key`, or `map` itself when the key is absent (for locations).
  YAML::Node at(const YAML::Node& map, const std::string& key) const;

  bool expect_map(const YAML::Node& node, const std::string& what);
  // Reports keys of `map` not in `allowed`, with a "did you mean" hint.
  void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed);

  // Each returns true when the key was present and valid, and leaves `out` alone otherwise.
  bool string(const YAML::Node& map, const std::string& key, std::string& out);
  bool duration(const YAML::Node& map, const std::string& key, Duration& out);
  bool number(const YAML::Node& map, const std::string& key, double& out);
  // A byte size: a whole number with an optional unit B, KB, MB, GB, KiB, MiB or GiB.
  bool size(const YAML::Node& map, const std::string& key, std::uint64_t& out);
  bool decimal(const YAML::Node& map, const std::string& key, Decimal& out);
  bool boolean(const YAML::Node& map, const std::string& key, bool& out);
  bool one_of(const YAML::Node& map, const std::string& key, const std::vector<std::string>& choices, std::string& out);
  bool string_list(const YAML::Node& map, const std::string& key, std::vector<std::string>& out);
  bool string_map(const YAML::Node& map, const std::string& key, std::map<std::string, std::string>& out);
  // `key` or `key_file` (never both); the value is marked secret.
  bool secret(const YAML::Node& map, const std::string& key, Setting& out);
  // Every key of `map` not in `known` becomes a Setting for the provider/notifier to check.
  void collect_settings(const YAML::Node& map, const std::vector<std::string>& known, Settings& out);

private:
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& key);
  std::optional<std::string> substitute(const YAML::Node& node, const std::string& raw);
  std::string tab_hint(int line) const;
  std::optional<std::string> read_secret_file(const YAML::Node& node, const std::string& path);

  std::string m_file;
  std::vector<ConfigError> m_errors;
};

}  // namespace creditwatch::config
