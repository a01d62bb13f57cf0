#pragma once

#include "creditwatch/common/result.hpp"
#include "creditwatch/config/config.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace creditwatch::app {

// The running daemon's HTTP API, as the operator commands (`silence`, `ack`) use it: the
// address from `http.listen` (a wildcard listen is reached on loopback) or --url, and the
// bearer token from `http.auth_token` when one is set. Commands talk to the daemon rather
// than to the database so that a silence or an acknowledgement takes effect at once and a
// replica set needs no database credentials on the operator's machine.
struct ApiError {
  std::string message;
};

class DaemonApi {
public:
  // `url` overrides the address (e.g. http://creditwatch.internal:9477); empty: from the config.
  DaemonApi(const config::Config& config, const std::string& url);

  // The answer's JSON on a 2xx; otherwise one line for the operator: the daemon's own
  // `error` text, or why it could not be reached. The token never appears in it.
  Result<nlohmann::json, ApiError> call(const std::string& method, const std::string& path,
                                           const nlohmann::json& body = nullptr) const;
  const std::string& base_url() const { return m_base_url; }

private:
  std::string m_base_url;
  std::string m_token;
};

}  // namespace creditwatch::app
