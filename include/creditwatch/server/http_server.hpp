#pragma once

#include "creditwatch/common/clock.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace httplib {
class Server;
}

namespace creditwatch::server {

// What the endpoints show, supplied by the daemon. Each callback must be thread-safe.
struct Endpoints {
  std::function<std::pair<bool, std::string>()> health;  // ok?, reason when not
  std::function<std::string()> metrics;
  std::function<nlohmann::json()> accounts;
  // nullopt when the account does not exist.
  std::function<std::optional<nlohmann::json>(const std::string& account, TimePoint since)> samples;
};

// The embedded HTTP server: /healthz, /metrics, /api/v1/accounts, /api/v1/accounts/NAME/samples
// and the status page at /. With a token, everything but /healthz needs
// `Authorization: Bearer TOKEN`.
class HttpServer {
public:
  HttpServer(Endpoints endpoints, std::string auth_token);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `listen` ("HOST:PORT", "[::1]:PORT"; port 0 picks a free one) and serves in a
  // background thread. Returns the bound port; throws when the address cannot be bound.
  int start(const std::string& listen);
  void stop();

private:
  void routes();
  bool authorized(const std::string& header) const;

  Endpoints m_endpoints;
  std::string m_auth_token;
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
};

// Splits "HOST:PORT" / "[v6]:PORT"; nullopt when malformed.
std::optional<std::pair<std::string, int>> parse_listen(const std::string& listen);

}  // namespace creditwatch::server
