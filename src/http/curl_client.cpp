#include "creditwatch/http/curl_client.hpp"

#include "curl_handles.hpp"

#include "creditwatch/http/redirect_policy.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string_view>

namespace creditwatch::http {
namespace {

struct Transfer {
  Response response;
  std::size_t max_body_bytes = 0;
  bool truncate_body = false;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t bytes = size * count;
  if (t->response.body.size() + bytes > t->max_body_bytes) {
    if (t->truncate_body) {
      t->response.body.append(data, t->max_body_bytes - t->response.body.size());
      t->response.body_truncated = true;
    } else {
      t->too_large = true;
    }
    return 0;  // makes curl abort with CURLE_WRITE_ERROR: the rest is never read
  }
  t->response.body.append(data, bytes);
  return bytes;
}

// Called once per header line of every response: read in place, so a line costs only the
// name and value it stores (the probe path's allocations were dominated by such copies).
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t bytes = size * count;
  const std::string_view line(data, bytes);
  // A new status line (after a redirect or 100-continue) starts a fresh header set.
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();
    return bytes;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string_view value = line.substr(colon + 1);
  auto first = value.find_first_not_of(" \t");
  auto last = value.find_last_not_of(" \t\r\n");
  auto& stored = t->response.headers[std::move(name)];
  if (first == std::string_view::npos) {
    stored.clear();
  } else {
    stored.assign(value.substr(first, last - first + 1));
  }
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel && cancel->load() ? 1 : 0;
}

}  // namespace

FailureKind classify_curl_code(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return FailureKind::dns;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING: return FailureKind::connect;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_ABORTED_BY_CALLBACK: return FailureKind::timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: return FailureKind::tls;
    case CURLE_FILESIZE_EXCEEDED: return FailureKind::body_too_large;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_WEIRD_SERVER_REPLY: return FailureKind::protocol;
    default: return FailureKind::internal;
  }
}

struct CurlClient::Handle {
  EasyPtr easy{curl_easy_init()};
  // Whether the last request set options a plain GET does not overwrite (another method, a
  // body, basic auth), or none was made yet: then the next one starts from curl_easy_reset.
  bool needs_reset = true;
};

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string curl_version_text() { return curl_version(); }

CurlClient::CurlClient() : m_handle(std::make_unique<Handle>()) {
  global_init();
  if (!m_handle->easy) throw std::runtime_error("curl_easy_init failed");
}

CurlClient::~CurlClient() = default;

namespace {

// One request to `url` with no redirect followed. When the answer is a redirect,
// `location` receives its target resolved against `url`.
// `needs_reset`: the handle's flag (see CurlClient::Handle), updated for the next request.
Outcome perform(CURL* h, bool& needs_reset, const std::atomic<bool>* cancel, const Request& request,
                const std::string& url, Duration total_timeout, std::string& location) {
  // Reset clears per-request options but keeps the connection cache, so keep-alive works.
  // Between plain GETs (every balance probe) it is skipped: each of them sets every option
  // that differs between requests, and the fixed ones stay as the first request set them
  // (a reset and some twenty options per probe were a visible share of the probe's CPU).
  const bool plain = request.method == "GET" && request.basic_auth.empty();
  const bool fresh = needs_reset || !plain;
  needs_reset = !plain;
  if (fresh) curl_easy_reset(h);
  Transfer transfer;
  transfer.max_body_bytes = request.max_body_bytes;
  transfer.truncate_body = request.truncate_body;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  SlistPtr headers;
  for (const auto& header : request.headers) {
    std::string line = header.name + ": " + header.value;
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  if (!request.body.empty()) {
    headers.reset(curl_slist_append(headers.release(), "Expect:"));  // no 100-continue round trip
  }

  if (fresh) {  // the same for every request
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    // Never CURLOPT_FOLLOWLOCATION: curl would resend our custom headers (x-api-key, ...)
    // to whatever host the Location names. send() follows same-origin redirects itself.
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent().c_str());
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  }
  // Everything below may differ from the previous request, so it is set every time.
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total_timeout.count()));
  // With truncate_body a declared length over the cap is no failure: on_body cuts it (0: no cap).
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(request.truncate_body ? 0 : request.max_body_bytes));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());  // none: nullptr
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, cancel ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
  if (!request.basic_auth.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERPWD, request.basic_auth.c_str());
  }
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty() || request.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
    }
  }

  CURLcode code = curl_easy_perform(h);
  double seconds = 0;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &seconds);
  auto elapsed = Duration(static_cast<std::int64_t>(seconds * 1000));
  // Drop the credential pointers before the handle outlives this call.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_USERPWD, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);

  if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return Failure{FailureKind::body_too_large,
                   "response body exceeds " + std::to_string(request.max_body_bytes) + " bytes", elapsed};
  }
  if (code != CURLE_OK && !transfer.response.body_truncated) {
    // error_buffer may name the host but never the headers, so no key reaches it.
    std::string message = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
    return Failure{classify_curl_code(code), message, elapsed};
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  transfer.response.elapsed = elapsed;
  if (is_redirect(transfer.response.status)) {
    const char* target = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &target) == CURLE_OK && target) location = target;
  }
  return std::move(transfer.response);
}

}  // namespace

Outcome CurlClient::send(const Request& request) {
  std::string url = request.url;
  Duration spent{0};
  for (int redirects = 0;; ++redirects) {
    std::string location;
    auto outcome = perform(m_handle->easy.get(), m_handle->needs_reset, m_cancel, request, url, request.total_timeout - spent, location);
    if (!outcome) {
      outcome.error().elapsed += spent;
      return outcome;
    }
    outcome->elapsed += spent;
    if (location.empty()) return outcome;  // not a redirect, or one without a Location
    // Judged against the configured URL: every hop followed stays on its origin.
    if (auto refusal = redirect_refusal(request.method, request.url, outcome->status, location)) {
      return Failure{FailureKind::redirect, *refusal, outcome->elapsed};
    }
    spent = outcome->elapsed;
    if (redirects == k_max_redirects) {
      return Failure{FailureKind::redirect, "more than " + std::to_string(k_max_redirects) + " redirects", spent};
    }
    if (spent >= request.total_timeout) {  // a timeout of 0 would mean none to curl
      return Failure{FailureKind::timeout, "timed out following redirects", spent};
    }
    url = std::move(location);
  }
}

}  // namespace creditwatch::http
