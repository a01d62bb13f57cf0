#pragma once

#include "creditwatch/config/config.hpp"
#include "creditwatch/providers/provider.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

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

// Parses a JSON object body; blank-line keep-alives before it are skipped. Anything else
// (HTML, truncated JSON, a bare string) is a bad_response naming what was seen.
Result<nlohmann::json, ProbeError> parse_object(const http::Response& response);

// An amount sent as a JSON number or a numeric string; nullopt for anything else.
std::optional<Decimal> amount(const nlohmann::json& value);

// Reads a required amount at `path` of `object` or explains what was there instead.
Result<Decimal, ProbeError> required_amount(const nlohmann::json& object, const std::string& key,
                                            const std::string& path_for_message);

// The provider's own error text from {"error":{"message":...}}, {"message":...} and similar.
std::string provider_message(const nlohmann::json& body);

ProbeError bad_response(std::string message);

// A short description of a JSON value for error messages: `true`, `"abc"`, `an object`.
std::string describe(const nlohmann::json& value);

}  // namespace creditwatch::providers
