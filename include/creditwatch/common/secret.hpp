#pragma once

#include <string>
#include <utility>

namespace creditwatch {

// A credential (API key, webhook URL, routing key, password). It deliberately has no
// stream or fmt formatter, so it cannot reach a log line by accident; code that needs
// the value calls reveal() at the one place it goes on the wire.
class Secret {
public:
  Secret() = default;
  explicit Secret(std::string value) : m_value(std::move(value)) {}

  const std::string& reveal() const { return m_value; }
  bool empty() const { return m_value.empty(); }
  // For telling whether a reloaded config changed a credential; never for checking one
  // a client sent (that needs a constant-time comparison).
  bool operator==(const Secret&) const = default;

private:
  std::string m_value;
};

}  // namespace creditwatch
