// Generic webhook: a JSON POST of the whole notification in creditwatch's own versioned
// schema (README.md, "Notifiers"), optionally signed with HMAC-SHA256 so the receiver can
// tell it came from us. Status handling as Alertmanager's webhook (sinks.md section 1.4):
// 2xx delivered, 408/429/5xx retried, other 4xx permanent.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <strings.h>

#include <algorithm>
#include <array>

namespace creditwatch::notify {
namespace {

// Bump when a field changes meaning or disappears; adding fields keeps the version.
constexpr const char* k_schema_version = "1";
constexpr const char* k_signature_header = "X-Creditwatch-Signature";
// Headers the sink sets itself; a configured header must not fight them.
constexpr std::array<const char*, 4> k_reserved_headers = {"Content-Type", "Content-Length", "Host",
                                                           k_signature_header};

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += k_digits[data[i] >> 4];
    out += k_digits[data[i] & 0xF];
  }
  return out;
}

// Lowercase hex HMAC-SHA256 of `body` under `key`.
std::string hmac_sha256_hex(const std::string& key, const std::string& body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), digest.data(), &length);
  return hex(digest.data(), length);
}

nlohmann::json payload(const Notification& n) {
  nlohmann::json body = figures_json(n);
  body["version"] = k_schema_version;
  body["dedup_key"] = n.dedup_key;
  body["reason"] = alerts::to_string(n.reason);
  body["title"] = n.title();
  body["summary"] = safe_text(n.summary, LineBreaks::fold);
  return body;
}

class Webhook final : public Notifier {
public:
  Webhook(Secret url, std::vector<http::Header> headers, Secret secret)
      : m_url(std::move(url)), m_headers(std::move(headers)), m_secret(std::move(secret)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override { return post(json_text(payload(n)), client); }

  // The digest's own JSON (notify/digest.hpp): "kind": "digest" tells it from an alert.
  DeliveryResult send_digest(const Digest& d, http::Client& client) override { return post(json_text(to_json(d)), client); }

private:
  DeliveryResult post(std::string body, http::Client& client) {
    auto request = sink_request(m_url.reveal());
    request.body = std::move(body);
    request.headers.insert(request.headers.end(), m_headers.begin(), m_headers.end());
    if (!m_secret.empty()) {
      request.headers.push_back({k_signature_header, "sha256=" + hmac_sha256_hex(m_secret.reveal(), request.body)});
    }
    auto result = classify_http(client.send(request), secrets());
    result.message = redact(std::move(result.message), secrets());
    return result;
  }

  std::vector<std::string> secrets() const {
    auto out = url_secrets(m_url.reveal());
    out.push_back(m_secret.reveal());
    for (const auto& header : m_headers) out.push_back(header.value);
    return out;
  }

  Secret m_url;
  std::vector<http::Header> m_headers;  // values may be credentials (Authorization)
  Secret m_secret;
};

bool has_line_break(const std::string& text) { return text.find_first_of("\r\n") != std::string::npos; }

std::vector<http::Header> read_headers(config::SettingsReader& settings) {
  std::vector<http::Header> headers;
  const auto* setting = settings.raw("headers");
  if (!setting) return headers;
  if (!setting->value.empty() || !setting->items.empty()) {
    settings.error("headers", "headers must be a map of header name to value");
    return headers;
  }
  for (const auto& [name, value] : setting->entries) {
    const bool reserved = std::any_of(k_reserved_headers.begin(), k_reserved_headers.end(),
                                      [&](const char* r) { return strcasecmp(r, name.c_str()) == 0; });
    if (reserved) settings.error("headers", "headers: " + name + " is set by creditwatch and cannot be configured");
    if (name.empty() || name.find_first_of(": \t\r\n") != std::string::npos) {
      settings.error("headers", "headers: \"" + name + "\" is not a valid header name");
    }
    if (has_line_break(value)) settings.error("headers", "headers: the value of " + name + " contains a line break");
    headers.push_back({name, value});
  }
  return headers;
}

}  // namespace

std::unique_ptr<Notifier> make_webhook(const config::NotifierConfig&, config::SettingsReader& settings) {
  auto url = read_http_url(settings, "url");
  auto headers = read_headers(settings);
  auto secret = settings.string("secret");
  if (secret && secret->empty()) settings.error("secret", "secret is empty (leave it out to send unsigned)");
  if (!settings.finish() || !url) return nullptr;
  return std::make_unique<Webhook>(Secret(*url), std::move(headers), Secret(secret.value_or("")));
}

}  // namespace creditwatch::notify
