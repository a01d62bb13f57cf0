// Any JSON endpoint that reports a balance: the user names the URL, the headers and where the
// amount sits (RFC 6901 JSON Pointers). Covers relays and APIs without a dedicated reader
// (shared/reference/providers.md sections 0 and 7.9: numeric strings, 200 with an error inside,
// currencies missing from the body, amounts in cents).
#include "builders.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

using Pointer = nlohmann::json::json_pointer;

// Header values shorter than this are not credentials; redacting them would mangle messages.
constexpr std::size_t k_min_secret_length = 8;

struct Target {
  std::string key;  // the setting, for messages: "balance_pointer"
  Pointer pointer;
};

struct HttpJsonSettings {
  std::string url;
  std::string method = "GET";
  std::vector<http::Header> headers;
  std::string body;
  Target balance;
  std::optional<Target> spend;
  std::optional<Target> currency_at;
  std::optional<std::string> currency;
  Decimal scale = Decimal::from_micros(Decimal::k_scale);
  std::optional<Target> ok_at;
  std::string ok_value;
};

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

bool same_name(const std::string& a, const std::string& b) { return upper(a) == upper(b); }

bool exists(const nlohmann::json& body, const Pointer& pointer) {
  try {
    (void)body.at(pointer);
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// The value at `target`, or a message naming the first step of the path that is not there.
Result<const nlohmann::json*, ProbeError> resolve(const nlohmann::json& body, const Target& target) {
  try {
    return &body.at(target.pointer);
  } catch (const nlohmann::json::exception&) {
  }
  Pointer missing = target.pointer;
  Pointer parent = missing.parent_pointer();
  while (!parent.empty() && !exists(body, parent)) {
    missing = parent;
    parent = parent.parent_pointer();
  }
  const nlohmann::json& holder = body.at(parent);
  const std::string where = parent.empty() ? "the body" : parent.to_string();
  std::string why;
  if (holder.is_object()) {
    why = where + " has no \"" + missing.back() + "\"";
  } else if (holder.is_array()) {
    why = where + " has no entry " + missing.back() + " (it has " + std::to_string(holder.size()) + ")";
  } else {
    why = where + " is " + describe(holder) + ", not an object or list";
  }
  return bad_response(target.key + " " + target.pointer.to_string() + ": " + why);
}

Result<Decimal, ProbeError> amount_at(const nlohmann::json& body, const Target& target, Decimal scale) {
  auto value = resolve(body, target);
  if (!value) return value.error();
  auto number = amount(**value);
  if (!number) {
    return bad_response(target.key + " " + target.pointer.to_string() + ": expected a number or numeric string, got " +
                        describe(**value));
  }
  return number->scaled(scale);
}

class HttpJson final : public Provider {
public:
  HttpJson(config::AccountConfig account, HttpJsonSettings settings)
      : m_account(std::move(account)), m_settings(std::move(settings)) {
    for (const auto& h : m_settings.headers) {
      if (h.value.size() >= k_min_secret_length) m_secrets.push_back(h.value);
      auto last_word = h.value.substr(h.value.find_last_of(' ') + 1);  // "Bearer KEY" -> "KEY"
      if (last_word.size() >= k_min_secret_length) m_secrets.push_back(last_word);
    }
  }

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, m_settings.url);
    request.method = m_settings.method;
    request.headers.insert(request.headers.end(), m_settings.headers.begin(), m_settings.headers.end());
    request.body = m_settings.body;
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    ProbeResult result = outcome->status / 100 == 2 ? read(*outcome) : ProbeResult(from_status(*outcome));
    // Provider messages can echo a header's credential; the api_key is redacted upstream.
    if (!result) result.error().message = redact(result.error().message, m_secrets);
    return result;
  }

private:
  ProbeResult read(const http::Response& response) const {
    auto body = parse_any(response);
    if (!body) return body.error();
    if (auto failed = check_ok(*body)) return *failed;
    auto balance = amount_at(*body, m_settings.balance, m_settings.scale);
    if (!balance) return balance.error();
    auto currency = currency_of(*body);
    if (!currency) return currency.error();
    BalanceEntry entry{*currency, *balance, std::nullopt, nlohmann::json::object()};
    if (m_settings.spend) {
      auto spend = amount_at(*body, *m_settings.spend, m_settings.scale);
      if (!spend) return spend.error();
      entry.spend_total = *spend;
    }
    Reading reading;
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  // Like parse_object, but a list or a bare value at the top is fine: the pointer says where to look.
  static Result<nlohmann::json, ProbeError> parse_any(const http::Response& response) {
    auto start = response.body.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return bad_response("empty body");
    auto parsed = nlohmann::json::parse(response.body.begin() + static_cast<std::ptrdiff_t>(start),
                                        response.body.end(), nullptr, false);
    if (!parsed.is_discarded()) return parsed;
    if (response.body[start] == '<') return bad_response("expected JSON, got an HTML page");
    return bad_response("expected JSON, got malformed or truncated text");
  }

  // Wrappers that answer 200 with {"code": 40001, "message": "..."} instead of an HTTP error.
  std::optional<ProbeError> check_ok(const nlohmann::json& body) const {
    if (!m_settings.ok_at) return std::nullopt;
    const Target& ok = *m_settings.ok_at;
    std::string seen = "nothing";
    if (auto value = resolve(body, ok)) {
      const nlohmann::json& v = **value;
      if ((v.is_string() ? v.get<std::string>() : v.dump()) == m_settings.ok_value) return std::nullopt;
      seen = describe(v);
    }
    std::string message = "provider reported an error (" + ok.pointer.to_string() + " is " + seen +
                          ", expected " + m_settings.ok_value + ")";
    std::string detail = provider_message(body);
    return bad_response(detail.empty() ? message : message + ": " + detail);
  }

  Result<std::string, ProbeError> currency_of(const nlohmann::json& body) const {
    if (!m_settings.currency_at) return *m_settings.currency;
    auto value = resolve(body, *m_settings.currency_at);
    if (!value) return value.error();
    const std::string path = "currency_pointer " + m_settings.currency_at->pointer.to_string();
    if (!(*value)->is_string() || (*value)->get<std::string>().empty()) {
      return bad_response(path + ": expected a currency code, got " + describe(**value));
    }
    std::string code = upper((*value)->get<std::string>());
    if (m_settings.currency && !same_name(code, *m_settings.currency)) {
      return bad_response(path + " says " + code + ", but the account's currency is " + *m_settings.currency);
    }
    return code;
  }

  config::AccountConfig m_account;
  HttpJsonSettings m_settings;
  std::vector<std::string> m_secrets;
};

// Everything after scheme://host[:port]: "/v1/x?y" of "https://h/v1/x?y".
std::string path_of(const std::string& url) {
  auto scheme = url.find("://");
  auto rest = url.find_first_of("/?", scheme == std::string::npos ? 0 : scheme + 3);
  return rest == std::string::npos ? "" : url.substr(rest);
}

bool absolute(const std::string& url) { return url.starts_with("http://") || url.starts_with("https://"); }

std::optional<Target> read_pointer(SettingsReader& settings, const std::string& key) {
  auto text = settings.string(key);
  if (!text) return std::nullopt;
  try {
    return Target{key, Pointer(*text)};
  } catch (const nlohmann::json::exception& e) {
    std::string why = e.what();
    why = why.substr(why.find("] ") == std::string::npos ? 0 : why.find("] ") + 2);
    settings.error(key, key + ": \"" + *text + "\" is not a JSON Pointer (RFC 6901, e.g. /data/balance): " + why);
    return std::nullopt;
  }
}

// url, with base_url (when given) replacing its scheme and host, as for every provider.
std::optional<std::string> read_url(const config::AccountConfig& account, SettingsReader& settings) {
  auto url = settings.required_string("url");
  if (!url) return std::nullopt;
  if (!account.base_url.empty()) return join_url(account.base_url, path_of(*url));
  if (!absolute(*url)) {
    settings.error("url", "url: expected an http:// or https:// address, got \"" + *url + "\"");
    return std::nullopt;
  }
  return url;
}

void read_request(const config::AccountConfig& account, SettingsReader& settings, HttpJsonSettings& s) {
  if (auto method = settings.string("method")) {
    s.method = upper(*method);
    if (s.method != "GET" && s.method != "POST") {
      settings.error("method", "method: expected GET or POST, got \"" + *method + "\"");
    }
  }
  if (const auto* headers = settings.raw("headers")) {
    if (!headers->value.empty() || !headers->items.empty()) {
      settings.error("headers", "headers: expected a mapping of header names to values");
    }
    for (const auto& [name, value] : headers->entries) s.headers.push_back({name, value});
  }
  if (auto body = settings.string("body")) {
    s.body = *body;
    if (s.method != "POST") settings.error("body", "body needs method: POST");
    auto has = [&](const char* name) {
      return std::any_of(s.headers.begin(), s.headers.end(), [&](const auto& h) { return same_name(h.name, name); });
    };
    if (!has("Content-Type")) s.headers.push_back({"Content-Type", "application/json"});
  }
  const bool has_authorization = std::any_of(s.headers.begin(), s.headers.end(),
                                             [](const auto& h) { return same_name(h.name, "Authorization"); });
  if (!account.api_key.empty() && !has_authorization) {
    s.headers.push_back({"Authorization", "Bearer " + account.api_key.reveal()});
  }
}

void read_answer(const config::AccountConfig& account, SettingsReader& settings, HttpJsonSettings& s, bool& ok) {
  if (auto balance = read_pointer(settings, "balance_pointer")) {
    s.balance = *balance;
  } else {
    if (!settings.raw("balance_pointer")) settings.error("balance_pointer", "provider http_json needs balance_pointer");
    ok = false;
  }
  s.spend = read_pointer(settings, "spend_pointer");
  s.currency_at = read_pointer(settings, "currency_pointer");
  s.currency = account.currency;
  if (!s.currency && !settings.raw("currency_pointer")) {
    settings.error("currency", "provider http_json needs currency or currency_pointer");
  }
  if (auto scale = settings.decimal("scale")) {
    if (*scale <= Decimal()) settings.error("scale", "scale: must be more than 0, got " + scale->to_string());
    s.scale = *scale;
  }
  s.ok_at = read_pointer(settings, "ok_pointer");
  auto ok_value = settings.string("ok_value");
  if (settings.raw("ok_pointer") && !ok_value) settings.error("ok_pointer", "ok_pointer needs ok_value");
  if (ok_value && !settings.raw("ok_pointer")) settings.error("ok_value", "ok_value needs ok_pointer");
  s.ok_value = ok_value.value_or("");
}

}  // namespace

std::unique_ptr<Provider> make_http_json(const config::AccountConfig& account, const Clock&, SettingsReader& settings) {
  HttpJsonSettings s;
  bool ok = true;
  if (auto url = read_url(account, settings)) {
    s.url = *url;
  } else {
    ok = false;
  }
  read_request(account, settings, s);
  read_answer(account, settings, s, ok);
  if (!settings.finish() || !ok) return nullptr;
  return std::make_unique<HttpJson>(account, std::move(s));
}

}  // namespace creditwatch::providers
