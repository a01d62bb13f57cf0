#pragma once

#include "creditwatch/config/config.hpp"
#include "creditwatch/providers/provider.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace creditwatch::providers {

// Helpers shared by the providers' parsers; each provider file keeps only its own shape.

// A request with the account's timeout and credentials headers to be added by the caller.
http::Request make_request(const config::AccountConfig& account, std::string url);

// Joins a base URL and a path without doubling or dropping the slash.
std::string join_url(const std::string& base, const std::string& path);

ProbeError from_failure(const http::Failure& failure);

// Default meaning of an HTTP error status: 401/403 key_invalid, 402 exhausted, 429 rate
// limited (with Retry-After), 5xx server error, other 4xx http_status. The message
// carries the provider's own error text when the body has one.
ProbeError from_status(const http::Response& response);

// What a provider makes of an HTTP status other than 200: from_status, unless it knows better.
using StatusReader = ProbeError (*)(const http::Response& response);

// Sends `request` and returns the JSON object a 200 answer carries. A transport failure, any
// other status (read by `on_status`) or a body that is not a JSON object is the error.
Result<nlohmann::json, ProbeError> fetch_object(http::Client& client, const http::Request& request,
                                                StatusReader on_status = from_status);

// Parses a JSON object body; blank-line keep-alives before it are skipped. Anything else
// (HTML, truncated JSON, a bare string) is a bad_response naming what was seen.
Result<nlohmann::json, ProbeError> parse_object(const http::Response& response);

// An amount sent as a JSON number or a numeric string; nullopt for anything else.
std::optional<Decimal> amount(const nlohmann::json& value);

// Reads a required amount at `path` of `object` or explains what was there instead.
Result<Decimal, ProbeError> required_amount(const nlohmann::json& object, const std::string& key,
                                            const std::string& path_for_message);

// The object at `key` of `body` ("data"), or a bad_response saying what was there instead.
Result<const nlohmann::json*, ProbeError> required_object(const nlohmann::json& body, const std::string& key);

// Copies each of `keys` that `object` holds as an amount into `details`, as exact text
// (the breakdown a reading shows beside its balance: granted, topped up, credit line...).
void copy_amounts(const nlohmann::json& object, std::initializer_list<const char*> keys, nlohmann::json& details);

// The provider's own error text from {"error":{"message":...}}, {"message":...} and similar,
// as message_text.
std::string provider_message(const nlohmann::json& body);

// The same from an answer's body, read leniently: invalid UTF-8 or control characters in the
// body do not hide the message. "" when the body holds none.
std::string provider_message(const http::Response& response);

// Text from outside (a provider's words, a transport error) as a probe message may carry it:
// one line of safe text (common/text.hpp) cut to at most 200 bytes at a character boundary.
// Every ProbeError message is made of such pieces and our own words, so it is always valid
// UTF-8 that any JSON dump, SQLite column or sink accepts.
std::string message_text(std::string_view text);

ProbeError bad_response(std::string message);

// ASCII lower case, for matching provider words and host names (not for display).
std::string lower_ascii(std::string text);

// The host part of a URL, lower-cased, without user info, port or trailing dot: what decides
// the currency of providers whose bodies have none (a .cn host bills in CNY).
std::string host_of(const std::string& url);

// `text` as a URL query value: RFC 3986 unreserved characters kept, every other byte %XX.
std::string percent_encode(const std::string& text);

// A short description of a JSON value for error messages: `true`, `"abc"`, `an object`.
std::string describe(const nlohmann::json& value);

}  // namespace creditwatch::providers
