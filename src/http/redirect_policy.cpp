#include "creditwatch/http/redirect_policy.hpp"

#include "curl_handles.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::http {
namespace {

struct Origin {
  std::string scheme;  // lower-case
  std::string host;    // lower-case; IPv6 in brackets
  std::string port;    // explicit, else the scheme's default
  std::string shown;   // host, with the port when the URL names one
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string url_part(CURLU* url, CURLUPart what, unsigned int flags) {
  char* text = nullptr;
  if (curl_url_get(url, what, &text, flags) != CURLUE_OK || !text) return "";
  std::string out(text);
  curl_free(text);
  return out;
}

std::optional<Origin> origin_of(const std::string& text) {
  UrlPtr url(curl_url());
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    return std::nullopt;
  }
  Origin o;
  o.scheme = lower(url_part(url.get(), CURLUPART_SCHEME, 0));
  o.host = lower(url_part(url.get(), CURLUPART_HOST, 0));
  o.port = url_part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  const std::string explicit_port = url_part(url.get(), CURLUPART_PORT, 0);
  o.shown = explicit_port.empty() ? o.host : o.host + ":" + explicit_port;
  if (o.scheme.empty()) return std::nullopt;
  return o;
}

}  // namespace

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::optional<std::string> redirect_refusal(const std::string& method, const std::string& from_url, long status,
                                            const std::string& target_url) {
  const std::string redirected = "redirected (HTTP " + std::to_string(status) + ") ";
  const auto from = origin_of(from_url);
  const auto to = origin_of(target_url);
  if (!from || !to) return redirected + "to an unreadable location; not followed";
  if (to->scheme != "http" && to->scheme != "https") {
    return redirected + "to a " + to->scheme + ": URL; not followed";
  }
  if (to->host.empty()) return redirected + "to an unreadable location; not followed";
  if (from->scheme == "https" && to->scheme == "http") {
    return redirected + "to plain http at " + to->shown + "; not followed (credentials never leave TLS)";
  }
  if (to->scheme != from->scheme || to->host != from->host || to->port != from->port) {
    return redirected + "to " + to->shown + "; not followed (credentials stay with the configured host)";
  }
  // The same origin, but a body (a routing key, a message) is never sent twice.
  if (method != "GET") return redirected + "to " + to->shown + "; a " + method + " is not followed";
  return std::nullopt;
}

}  // namespace creditwatch::http
