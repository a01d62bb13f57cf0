#include "creditwatch/server/http_server.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/server/status_page.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace creditwatch::server {
namespace {

void reply_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// Constant-time comparison so the token cannot be guessed byte by byte from timings.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::optional<std::pair<std::string, int>> parse_listen(const std::string& listen) {
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') return std::nullopt;
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int number = std::stoi(port);
  if (number > 65535) return std::nullopt;
  return std::make_pair(host, number);
}

HttpServer::HttpServer(Endpoints endpoints, std::string auth_token)
    : m_endpoints(std::move(endpoints)), m_auth_token(std::move(auth_token)), m_server(std::make_unique<httplib::Server>()) {
  routes();
}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::authorized(const std::string& header) const {
  if (m_auth_token.empty()) return true;
  const std::string prefix = "Bearer ";
  return header.rfind(prefix, 0) == 0 && same_secret(header.substr(prefix.size()), m_auth_token);
}

void HttpServer::routes() {
  m_server->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/healthz" || authorized(req.get_header_value("Authorization"))) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content("unauthorized\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  m_server->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    auto [ok, reason] = m_endpoints.health();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : reason + "\n", "text/plain");
  });
  m_server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(m_endpoints.metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  m_server->Get("/api/v1/accounts", [this](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, m_endpoints.accounts());
  });
  m_server->Get(R"(/api/v1/accounts/([^/]+)/samples)", [this](const httplib::Request& req, httplib::Response& res) {
    TimePoint since = std::chrono::system_clock::now() - std::chrono::hours(24 * 7);
    if (req.has_param("since")) {
      auto parsed = parse_rfc3339(req.get_param_value("since"));
      if (!parsed) {
        reply_json(res, 400, {{"error", "since must be an RFC 3339 time, e.g. 2026-05-01T00:00:00Z"}});
        return;
      }
      since = *parsed;
    }
    auto body = m_endpoints.samples(req.matches[1], since);
    if (!body) {
      reply_json(res, 404, {{"error", "no such account"}});
      return;
    }
    reply_json(res, 200, *body);
  });
  m_server->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
    res.set_content(status_page_html(), "text/html; charset=utf-8");
  });
  m_server->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content(std::to_string(res.status) + "\n", "text/plain");
  });
}

int HttpServer::start(const std::string& listen) {
  auto address = parse_listen(listen);
  if (!address) throw std::runtime_error("http.listen \"" + listen + "\" is not HOST:PORT");
  int port = address->second;
  if (port == 0) {
    port = m_server->bind_to_any_port(address->first);
  } else if (!m_server->bind_to_port(address->first, port)) {
    port = -1;
  }
  if (port <= 0) throw std::runtime_error("cannot listen on " + listen);
  m_thread = std::thread([this] { m_server->listen_after_bind(); });
  return port;
}

void HttpServer::stop() {
  if (m_server) m_server->stop();
  if (m_thread.joinable()) m_thread.join();
}

}  // namespace creditwatch::server
