#pragma once

// Small pieces the HTTP sinks share: limits that count characters the way each API does,
// credential redaction, URL settings, and rate-limit hints read from answer bodies.
#include "creditwatch/config/settings_reader.hpp"
#include "creditwatch/notify/notification.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch::notify {

// How an API counts the length of a text: Unicode code points (Discord, PagerDuty,
// Opsgenie), UTF-16 code units (Telegram), or bytes (ntfy).
enum class TextUnit { code_points, utf16, bytes };

// `text` as safe text (common/text.hpp: valid UTF-8, no NUL or control characters but line
// breaks and tabs) cut to at most `limit` units, ending in "…" when cut. Never splits a UTF-8
// sequence, so the result stays valid JSON text.
std::string truncate_text(std::string_view text, std::size_t limit, TextUnit unit = TextUnit::code_points);

// A sink's answer (any bytes: an HTML error page, a proxy's binary junk, an SMTP reply) as one
// line of safe text of at most 300 bytes, cut between characters: it is logged, stored with
// the outbox row and shown by the API.
std::string answer_text(std::string_view text);

// Length of `text` in `unit`.
std::size_t text_length(std::string_view text, TextUnit unit);

// The URL and its path (and query): a sink whose URL is the credential redacts both from
// anything it reports, since a server that echoes the request usually echoes the path.
std::vector<std::string> url_secrets(const std::string& url);

// Reads an http(s) URL setting. Without `fallback` the key is required. The error never
// repeats the value: a webhook URL is a credential.
std::optional<std::string> read_http_url(config::SettingsReader& settings, const std::string& key,
                                         std::optional<std::string> fallback = std::nullopt);

// `base` without trailing slashes, so "{base}/v2/alerts" never has "//".
std::string strip_trailing_slashes(std::string base);

// RFC 3986 percent-encoding of one path segment or query value.
std::string percent_encode(std::string_view text);

// A number of seconds (integer or fractional) at `where` in a JSON body, rounded up to
// whole milliseconds; nullopt when the body is not JSON or the field is missing.
std::optional<Duration> json_seconds(const std::string& body, const nlohmann::json::json_pointer& where);

// Fractional seconds from a header value such as Discord's "X-RateLimit-Reset-After: 1.5".
std::optional<Duration> header_seconds(const std::string& value);

// Every figure of a notification as text, in a stable order, for sinks whose detail
// fields are string maps (Opsgenie details, Teams facts). Labels come last as "label.K".
std::vector<std::pair<std::string, std::string>> figure_strings(const Notification& n);

// Every figure as typed JSON (numbers stay numbers, amounts stay exact decimal strings).
nlohmann::json figures_json(const Notification& n);

// "by alice at 2026-05-01T10:00:00Z: topping up today", the same words as body_text's
// "Acknowledged:" line, for sinks that lay figures out themselves (Slack's fields, Teams' facts).
std::string acknowledgement_text(const Acknowledgement& ack);

}  // namespace creditwatch::notify
