#include "creditwatch/server/http_server.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/server/sign_in_page.hpp"
#include "creditwatch/server/web_assets.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace creditwatch::server {
namespace {

// The UI's scripts and styles come from this origin only (web/, embedded); the page talks to
// the API on the same origin.
constexpr const char* k_page_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:";

constexpr std::string_view k_assets_prefix = "/assets/";

// An embedded file of web/ as an answer, or 404. Pages are never stored (they show live
// figures); scripts and styles are revalidated, so an upgraded binary serves its own at once.
HttpResponse asset_response(std::string_view path) {
  const auto asset = web_asset(path);
  if (!asset) return HttpResponse::text(404, "not found\n");
  HttpResponse response;
  response.content_type = std::string(asset->content_type);
  response.body = std::string(asset->body);
  const bool page = path.ends_with(".html");
  response.headers.emplace_back("Cache-Control", page ? "no-store" : "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (page) response.headers.emplace_back("Content-Security-Policy", k_page_policy);
  return response;
}

HttpResponse busy() {
  auto response = HttpResponse::text(503, "busy, try again\n");
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

std::optional<std::size_t> parse_limit(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const auto limit = std::stoull(text);
  if (limit == 0) return std::nullopt;
  return std::min<std::size_t>(limit, k_max_samples_limit);
}

// Whether `method` is among `allowed` ("GET, HEAD, POST").
bool method_in(const std::string& method, std::string_view allowed) {
  std::size_t at = 0;
  while (at < allowed.size()) {
    const auto end = std::min(allowed.find(", ", at), allowed.size());
    if (allowed.substr(at, end - at) == method) return true;
    at = end + 2;
  }
  return false;
}

// The clock of a server not given one.
const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

HttpServer::HttpServer(Endpoints endpoints, std::string auth_token, ServerLimits limits, const Clock* clock)
    : m_endpoints(std::move(endpoints)),
      m_sign_in(std::move(auth_token), clock ? *clock : system_clock()),
      m_limits(limits) {}

HttpServer::~HttpServer() { stop(); }

int HttpServer::start(const std::string& listen) {
  auto listener = open_listener(listen);
  const int port = listener.port;
  m_loop = std::make_unique<ConnectionLoop>(
      m_limits, [this](std::uint64_t connection, HttpRequest request) { return dispatch(connection, std::move(request)); });
  m_workers = std::make_unique<RequestWorkers>(m_limits.general_threads, m_limits.max_queued);
  m_loop->start(std::move(listener));
  return port;
}

int HttpServer::rebind(const std::string& listen) {
  if (!m_loop) return start(listen);
  auto listener = open_listener(listen);
  const int port = listener.port;
  m_loop->replace_listener(std::move(listener));
  return port;
}

void HttpServer::set_auth_token(std::string auth_token) { m_sign_in.set_token(std::move(auth_token)); }

void HttpServer::stop() {
  if (m_loop) m_loop->stop();
  if (m_workers) m_workers->stop();
}

// On the loop thread: answers what needs no handler at once (sign-in, 401 or the way to the
// form, 404, 405, a full queue) and queues the rest.
std::optional<HttpResponse> HttpServer::dispatch(std::uint64_t connection, HttpRequest request) {
  if (auto answer = m_sign_in.handle(request)) return answer;
  const bool open = request.path == "/healthz" || is_sign_in_asset(request.path);
  if (!open && !m_sign_in.allowed(request)) return m_sign_in.refusal(request);
  const auto& s = request.segments;
  std::optional<Route> route;
  if (request.path == "/healthz") route = Route::healthz;
  if (request.path == "/metrics") route = Route::metrics;
  if (request.path == "/api/v1/accounts") route = Route::accounts;
  if (request.path == "/api/v1/summary") route = Route::summary;
  if (request.path == "/api/v1/cluster") route = Route::cluster;
  if (request.path == "/api/v1/maintenance") route = Route::maintenance;
  if (request.path == "/") route = Route::page;
  if (request.path.starts_with(k_assets_prefix)) route = Route::asset;
  if (s.size() == 2 && s[0] == "accounts" && !s[1].empty()) route = Route::account_page;
  if (s.size() == 4 && s[0] == "api" && s[1] == "v1" && s[2] == "accounts" && !s[3].empty()) route = Route::account;
  if (s.size() == 5 && s[0] == "api" && s[1] == "v1" && s[2] == "accounts" && !s[3].empty() && s[4] == "samples") {
    route = Route::samples;
  }
  if (s.size() == 5 && s[0] == "api" && s[1] == "v1" && s[2] == "accounts" && !s[3].empty() && s[4] == "series") {
    route = Route::series;
  }
  if (s.size() == 3 && s[0] == "api" && s[1] == "v1" && s[2] == "silences") route = Route::silences;
  if (s.size() == 4 && s[0] == "api" && s[1] == "v1" && s[2] == "silences" && !s[3].empty()) route = Route::silence;
  if (s.size() == 6 && s[0] == "api" && s[1] == "v1" && s[2] == "alerts" && !s[3].empty() && !s[4].empty() &&
      s[5] == "ack") {
    route = Route::ack;
  }
  if (!route) return HttpResponse::text(404, "not found\n");
  std::string_view allowed = "GET, HEAD";
  if (*route == Route::silences) allowed = "GET, HEAD, POST";
  if (*route == Route::silence) allowed = "DELETE";
  if (*route == Route::ack) allowed = "POST, DELETE";
  if (!method_in(request.method, allowed)) {
    auto response = HttpResponse::text(405, "method not allowed\n");
    response.headers.emplace_back("Allow", std::string(allowed));
    return response;
  }
  // A browser signed in with the session cookie would send it along with another site's
  // form or script too: a write must come from our own pages (API clients send no Origin).
  if (request.method != "GET" && request.method != "HEAD" && !from_own_page(request)) {
    spdlog::warn("http: {} {} from {} refused: sent from another site's page (Origin {})", request.method, request.path,
                 request.client, request.header("origin").value_or("not sent"));
    return HttpResponse::json(403, {{"error", "refused: the request was sent from another site's page"}});
  }
  const auto lane = *route == Route::healthz || *route == Route::metrics ? Lane::priority : Lane::general;
  auto job = [this, connection, route = *route, request = std::move(request)] {
    m_loop->complete(connection, respond(route, request));
  };
  if (!m_workers->submit(lane, std::move(job))) return busy();
  return std::nullopt;
}

HttpResponse HttpServer::respond(Route route, const HttpRequest& request) {
  try {
    switch (route) {
      case Route::healthz: {
        auto [ok, reason] = m_endpoints.health();
        return HttpResponse::text(ok ? 200 : 503, ok ? "ok\n" : reason + "\n");
      }
      case Route::metrics: {
        auto response = HttpResponse::text(200, m_endpoints.metrics());
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return response;
      }
      case Route::accounts:
        return accounts(request);
      case Route::summary:
        return HttpResponse::json(200, m_endpoints.summary ? m_endpoints.summary() : nlohmann::json::object());
      case Route::samples:
        return samples(request);
      case Route::series:
        return series(request);
      case Route::maintenance:
        return HttpResponse::json(200, m_endpoints.maintenance ? m_endpoints.maintenance()
                                                               : nlohmann::json{{"windows", nlohmann::json::array()}});
      case Route::cluster:
        return HttpResponse::json(200, m_endpoints.cluster ? m_endpoints.cluster() : nlohmann::json::object());
      case Route::page:
        return asset_response("index.html");
      case Route::asset:
        return asset_response(std::string_view(request.path).substr(k_assets_prefix.size()));
      case Route::account_page:
        return asset_response("account.html");
      case Route::account: {
        auto body = m_endpoints.account ? m_endpoints.account(request.segments[3]) : std::nullopt;
        if (!body) return HttpResponse::json(404, {{"error", "no such account"}});
        return HttpResponse::json(200, *body);
      }
      case Route::silences:
      case Route::silence:
      case Route::ack:
        return controls(route, request);
    }
  } catch (const std::exception& e) {
    spdlog::error("http: {} failed: {}", request.path, e.what());
  }
  return HttpResponse::text(500, "internal error\n");
}

HttpResponse HttpServer::controls(Route route, const HttpRequest& request) {
  const auto& s = request.segments;
  const auto& e = m_endpoints;
  const bool post = request.method == "POST";
  const bool del = request.method == "DELETE";
  if (route == Route::silences && post && e.add_silence) return e.add_silence(request.body);
  if (route == Route::silences && !post && e.silences) {
    const auto all = request.query_value("all").value_or("");
    return e.silences(all == "1" || all == "true");
  }
  if (route == Route::silence && del && e.expire_silence) return e.expire_silence(s[3]);
  if (route == Route::ack && post && e.acknowledge) return e.acknowledge(s[3], s[4], request.body);
  if (route == Route::ack && del && e.unacknowledge) return e.unacknowledge(s[3], s[4]);
  return HttpResponse::text(404, "not found\n");
}

HttpResponse HttpServer::accounts(const HttpRequest& request) {
  auto query = parse_accounts_query(request);
  if (!query) return HttpResponse::json(400, {{"error", query.error()}});
  return HttpResponse::json(200, m_endpoints.accounts(*query));
}

HttpResponse HttpServer::samples(const HttpRequest& request) {
  SamplesQuery query;
  query.limit = k_default_samples_limit;
  if (const auto since = request.query_value("since")) {
    query.since = parse_rfc3339(*since);
    if (!query.since) {
      return HttpResponse::json(400, {{"error", "since must be an RFC 3339 time, e.g. 2026-05-01T00:00:00Z"}});
    }
  }
  if (const auto limit = request.query_value("limit")) {
    const auto parsed = parse_limit(*limit);
    if (!parsed) {
      return HttpResponse::json(
          400, {{"error", "limit must be a whole number from 1 to " + std::to_string(k_max_samples_limit)}});
    }
    query.limit = *parsed;
  }
  auto body = m_endpoints.samples(request.segments[3], query);
  if (!body) return HttpResponse::json(404, {{"error", "no such account"}});
  return HttpResponse::json(200, *body);
}

HttpResponse HttpServer::series(const HttpRequest& request) {
  SeriesQuery query;
  for (const auto& [name, field] : {std::pair{"from", &query.from}, std::pair{"to", &query.to}}) {
    if (const auto text = request.query_value(name)) {
      *field = parse_rfc3339(*text);
      if (!*field) {
        return HttpResponse::json(
            400, {{"error", std::string(name) + " must be an RFC 3339 time, e.g. 2026-05-01T00:00:00Z"}});
      }
    }
  }
  if (query.from && query.to && *query.from >= *query.to) {
    return HttpResponse::json(400, {{"error", "from must be before to"}});
  }
  if (const auto step = request.query_value("step")) {
    query.step = parse_duration(*step);
    if (!query.step || *query.step <= Duration::zero()) {
      return HttpResponse::json(400, {{"error", "step must be a duration, e.g. 1h, 15m or 1d"}});
    }
  }
  if (!m_endpoints.series) return HttpResponse::text(404, "not found\n");
  auto answer = m_endpoints.series(request.segments[3], query);
  if (!answer) return HttpResponse::json(404, {{"error", "no such account"}});
  return HttpResponse::json(answer->bad_request ? 400 : 200, answer->body);
}

}  // namespace creditwatch::server
