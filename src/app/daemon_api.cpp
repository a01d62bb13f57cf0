#include "daemon_api.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/server/listen_socket.hpp"

#include <stdexcept>

namespace creditwatch::app {
namespace {

std::string loopback_url(const std::string& listen) {
  if (listen == "off") throw std::runtime_error("http.listen is off: the daemon serves no API to talk to (use --url)");
  auto address = server::parse_listen(listen);
  if (!address) throw std::runtime_error("http.listen \"" + listen + "\" is not host:port (use --url)");
  if (address->second == 0) {
    throw std::runtime_error("http.listen has port 0 (the daemon picks one at start): give its address with --url");
  }
  std::string host = address->first;
  if (host.empty() || host == "0.0.0.0" || host == "*") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "::1";
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(address->second);
}

// "http://user:pass@host:9477" -> "http://host:9477": a --url may carry a password, and an
// error message must not repeat it.
std::string without_userinfo(const std::string& url) {
  const auto scheme = url.find("://");
  const auto host = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = url.find('@', host);
  if (at == std::string::npos || url.find('/', host) < at) return url;
  return url.substr(0, host) + url.substr(at + 1);
}

}  // namespace

DaemonApi::DaemonApi(const config::Config& config, const std::string& url)
    : m_base_url(url.empty() ? loopback_url(config.http.listen) : url), m_token(config.http.auth_token) {
  while (!m_base_url.empty() && m_base_url.back() == '/') m_base_url.pop_back();
}

Result<nlohmann::json, ApiError> DaemonApi::call(const std::string& method, const std::string& path,
                                                    const nlohmann::json& body) const {
  http::CurlClient client;
  http::Request request;
  request.method = method;
  request.url = m_base_url + path;
  request.total_timeout = std::chrono::seconds(10);
  if (!m_token.empty()) request.headers.push_back({"Authorization", "Bearer " + m_token});
  if (!body.is_null()) {
    request.headers.push_back({"Content-Type", "application/json"});
    request.body = notify::json_text(body);
  }
  auto outcome = client.send(request);
  if (!outcome) {
    return ApiError{
        "cannot reach the daemon at " + without_userinfo(m_base_url) + ": " + redact(outcome.error().message, {m_token}) +
        " (is `creditwatch run` running with this config? --url points elsewhere)"};
  }
  const auto& response = *outcome;
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status >= 200 && response.status < 300) {
    return json.is_discarded() ? nlohmann::json() : json;
  }
  std::string why = json.is_object() && json.contains("error") && json["error"].is_string()
                        ? json["error"].get<std::string>()
                        : cut_text(safe_text(response.body, LineBreaks::fold), 200);
  if (response.status == 401) why += " (set http.auth_token in this config to the daemon's token)";
  return ApiError{"HTTP " + std::to_string(response.status) + ": " + redact(why, {m_token})};
}

}  // namespace creditwatch::app
