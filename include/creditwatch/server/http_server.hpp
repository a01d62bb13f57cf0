#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/server/account_pages.hpp"
#include "creditwatch/server/connection_loop.hpp"
#include "creditwatch/server/listen_socket.hpp"
#include "creditwatch/server/request_workers.hpp"
#include "creditwatch/server/sign_in.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace creditwatch::server {

// What GET /api/v1/accounts/NAME/samples asked for.
struct SamplesQuery {
  std::optional<TimePoint> since;  // nullopt: the endpoint's default
  std::size_t limit = 0;           // at most this many samples, the newest ones
};
// `limit` when the request names none, and the most it may name.
inline constexpr std::size_t k_default_samples_limit = 10'000;
inline constexpr std::size_t k_max_samples_limit = 100'000;

// What GET /api/v1/accounts/NAME/series asked for: [from, to) in steps of `step`. Checked
// here for form only (times, a positive step); the endpoint fits them to the data.
struct SeriesQuery {
  std::optional<TimePoint> from;  // nullopt: the endpoint's default
  std::optional<TimePoint> to;    // nullopt: now
  std::optional<Duration> step;   // nullopt: the endpoint picks one
};

// What the endpoints show, supplied by the daemon. Each callback must be thread-safe.
struct Endpoints {
  std::function<std::pair<bool, std::string>()> health;  // ok?, reason when not
  std::function<std::string()> metrics;
  // One page of accounts (the query already checked).
  std::function<nlohmann::json(const AccountsQuery& query)> accounts;
  // nullopt when the account does not exist.
  std::function<std::optional<nlohmann::json>(const std::string& account, const SamplesQuery& query)> samples;
  // The replicas sharing the database and what each holds (GET /api/v1/cluster).
  std::function<nlohmann::json()> cluster;
  // Counts by state and totals per currency (GET /api/v1/summary).
  std::function<nlohmann::json()> summary;
  // nullopt when the account does not exist; a JSON {"error": ...} body with `bad_request`
  // set when the query cannot be served (e.g. a step that is not whole hours or raw steps).
  struct SeriesAnswer {
    nlohmann::json body;
    bool bad_request = false;
  };
  std::function<std::optional<SeriesAnswer>(const std::string& account, const SeriesQuery& query)> series;
  // One account for its page (GET /api/v1/accounts/NAME): the listing's fields, its
  // settings with secrets redacted, its alerts and its latest probe. nullopt: no such account.
  std::function<std::optional<nlohmann::json>(const std::string& account)> account{};
  // Silences and acknowledgements (AlertControls): unset, their routes answer 404.
  std::function<HttpResponse(const std::string& body)> add_silence{};
  std::function<HttpResponse(bool all)> silences{};
  std::function<HttpResponse(const std::string& id)> expire_silence{};
  std::function<HttpResponse(const std::string& account, const std::string& rule, const std::string& body)>
      acknowledge{};
  std::function<HttpResponse(const std::string& account, const std::string& rule)> unacknowledge{};
  // The maintenance windows and which are open now (GET /api/v1/maintenance); unset: none.
  std::function<nlohmann::json()> maintenance{};
};

// The embedded HTTP server: /healthz, /metrics, /api/v1/accounts (paged), /api/v1/summary,
// /api/v1/accounts/NAME, /api/v1/accounts/NAME/samples, /api/v1/accounts/NAME/series,
// /api/v1/cluster, /api/v1/silences (GET, POST), /api/v1/silences/ID (DELETE),
// /api/v1/alerts/ACCOUNT/RULE/ack (POST, DELETE), and the status UI (web/, embedded): the fleet view at /, the account page
// at /accounts/NAME, their files under /assets/. With a token, everything but /healthz, the sign-in form and
// its stylesheet needs `Authorization: Bearer TOKEN` or a session cookie from the form (SignIn). Sockets belong to one ConnectionLoop thread; handlers run
// on RequestWorkers, /healthz and /metrics in a lane of their own.
class HttpServer {
public:
  // `clock` times sign-in sessions and failed sign-ins (nullptr: the system clock); it must
  // outlive the server.
  HttpServer(Endpoints endpoints, std::string auth_token, ServerLimits limits = {}, const Clock* clock = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `listen` ("HOST:PORT", "[::1]:PORT"; port 0 picks a free one) and serves in
  // background threads. Returns the bound port; throws when the address cannot be bound.
  int start(const std::string& listen);
  // Binds `listen` and only then stops accepting on the old address (open connections
  // are served to their end). Returns the bound port; throws, still serving the old
  // address, when `listen` cannot be bound.
  int rebind(const std::string& listen);
  // The token from now on (empty: no auth); a different token ends every sign-in session.
  // Thread-safe; requests already read keep the old.
  void set_auth_token(std::string auth_token);
  void stop();

private:
  enum class Route {
    healthz, metrics, accounts, summary, samples, series, cluster, maintenance, page, asset, account, account_page,
    silences, silence, ack
  };

  std::optional<HttpResponse> dispatch(std::uint64_t connection, HttpRequest request);
  HttpResponse respond(Route route, const HttpRequest& request);
  HttpResponse accounts(const HttpRequest& request);
  HttpResponse controls(Route route, const HttpRequest& request);
  HttpResponse samples(const HttpRequest& request);
  HttpResponse series(const HttpRequest& request);

  Endpoints m_endpoints;
  SignIn m_sign_in;
  ServerLimits m_limits;
  // The loop outlives the workers: a handler finishing late still hands its answer over.
  std::unique_ptr<ConnectionLoop> m_loop;
  std::unique_ptr<RequestWorkers> m_workers;
};

}  // namespace creditwatch::server
