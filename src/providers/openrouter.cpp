// OpenRouter: GET {base}/api/v1/credits, optionally GET {base}/api/v1/key (shapes in
// shared/reference/providers.md sections 2 and 10).
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://openrouter.ai";
constexpr const char* k_currency = "USD";

using Json = nlohmann::json;

// The `data` object of OpenRouter's envelope.
Result<Json, ProbeError> data_of(const Json& body) {
  auto data = body.find("data");
  if (data == body.end()) return bad_response("data is missing");
  if (!data->is_object()) return bad_response("data: expected an object, got " + describe(*data));
  return *data;
}

// An amount that may be null (OpenRouter's "unlimited"); nullopt for null or absent.
Result<std::optional<Decimal>, ProbeError> nullable_amount(const Json& data, const std::string& key) {
  auto it = data.find(key);
  if (it == data.end() || it->is_null()) return std::optional<Decimal>();
  if (auto value = amount(*it)) return std::optional<Decimal>(*value);
  return bad_response("data." + key + ": expected a number or null, got " + describe(*it));
}

std::string text_or_null(const std::optional<Decimal>& value) { return value ? value->to_string() : "unlimited"; }

// What GET /api/v1/key says about the calling key's spending cap.
struct KeyLimit {
  std::optional<Decimal> limit;
  std::optional<Decimal> remaining;  // nullopt: no cap
  std::optional<Decimal> usage;      // the key's all-time usage in USD
  std::string reset;                 // "monthly", ... or "" for never
};

Result<KeyLimit, ProbeError> parse_key(const Json& body) {
  auto data = data_of(body);
  if (!data) return data.error();
  KeyLimit key;
  auto limit = nullable_amount(*data, "limit");
  if (!limit) return limit.error();
  auto remaining = nullable_amount(*data, "limit_remaining");
  if (!remaining) return remaining.error();
  auto usage = nullable_amount(*data, "usage");
  if (!usage) return usage.error();
  key.limit = *limit;
  key.remaining = *remaining;
  key.usage = *usage;
  if (auto reset = data->find("limit_reset"); reset != data->end() && reset->is_string()) {
    key.reset = reset->get<std::string>();
  }
  // The key's `label` is left out on purpose: it echoes part of the key.
  return key;
}

void add_key_details(const KeyLimit& key, Json& details) {
  details["key_limit"] = text_or_null(key.limit);
  details["key_limit_remaining"] = text_or_null(key.remaining);
  if (!key.reset.empty()) details["key_limit_reset"] = key.reset;
  if (key.usage) details["key_usage"] = key.usage->to_string();
}

class OpenRouter final : public Provider {
public:
  OpenRouter(config::AccountConfig account, bool key_limit) : m_account(std::move(account)), m_key_limit(key_limit) {}

  ProbeResult probe(http::Client& client) override {
    auto outcome = get(client, "/api/v1/credits");
    if (!outcome) return from_failure(outcome.error());
    // /credits is documented as management-key only; an inference key still has /key.
    if (outcome->status == 403) return from_key_only(client, *outcome);
    if (outcome->status != 200) return from_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    auto reading = parse_credits(*body);
    if (reading && m_key_limit) add_key_limit(client, *reading);
    return reading;
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  http::Outcome get(http::Client& client, const std::string& path) const {
    auto request = make_request(m_account, join_url(base(), path));
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    return client.send(request);
  }

  static ProbeResult parse_credits(const Json& body) {
    auto data = data_of(body);
    if (!data) return data.error();
    auto credits = required_amount(*data, "total_credits", "data.total_credits");
    if (!credits) return credits.error();
    auto usage = required_amount(*data, "total_usage", "data.total_usage");
    if (!usage) return usage.error();
    // total_usage only ever grows, so it is the spend counter: top-ups never look like burn.
    BalanceEntry entry{k_currency, *credits - *usage, *usage, Json::object()};
    entry.details["total_credits"] = credits->to_string();
    entry.details["total_usage"] = usage->to_string();
    Reading reading;
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  Result<KeyLimit, ProbeError> fetch_key(http::Client& client) const {
    auto outcome = get(client, "/api/v1/key");
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return from_status(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    return parse_key(*body);
  }

  // `key_limit: true`: the key's own cap goes into details. The account balance stays the
  // reading even when /key fails, so a hiccup there never drops a good sample.
  void add_key_limit(http::Client& client, Reading& reading) const {
    auto& details = reading.balances.front().details;
    auto key = fetch_key(client);
    if (!key) {
      details["key_error"] = std::string(to_string(key.error().kind)) + ": " + key.error().message;
      return;
    }
    add_key_details(*key, details);
    if (key->remaining && *key->remaining <= Decimal()) reading.available = false;
  }

  // A 403 on /credits: the key is not a management key. A key with a spending cap still
  // has a meaningful balance (what is left of the cap); an uncapped key has none. That is
  // reported as key_invalid, not http_status: the configured key cannot do the job, it will
  // not fix itself, and the operator must act (CRITICAL) rather than wait for `stale`.
  ProbeResult from_key_only(http::Client& client, const http::Response& refused) const {
    auto key = fetch_key(client);
    if (!key) return key.error();
    if (!key->remaining) {
      const std::string said = provider_message(refused);
      return ProbeError{ErrorKind::key_invalid,
                        "HTTP 403: GET /api/v1/credits needs an OpenRouter management key" +
                            (said.empty() ? std::string() : " (\"" + said + "\")") +
                            "; this key has no spending limit, so GET /api/v1/key shows no balance either",
                        403, std::nullopt};
    }
    BalanceEntry entry{k_currency, *key->remaining, key->usage, Json::object()};
    entry.details["source"] = "key_limit";
    add_key_details(*key, entry.details);
    Reading reading;
    reading.available = *key->remaining > Decimal();
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  bool m_key_limit;
};

}  // namespace

std::unique_ptr<Provider> make_openrouter(const config::AccountConfig& account, const Clock&,
                                          SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider openrouter needs api_key or api_key_file");
  const bool key_limit = settings.boolean("key_limit").value_or(false);
  if (!settings.finish()) return nullptr;
  return std::make_unique<OpenRouter>(account, key_limit);
}

}  // namespace creditwatch::providers
