#include "sink_support.hpp"

#include "creditwatch/common/amount_text.hpp"
#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"

#include <cctype>
#include <cmath>

namespace creditwatch::notify {
namespace {

constexpr std::string_view k_ellipsis = "\xE2\x80\xA6";  // "…": one code point, one UTF-16 unit, three bytes

// Bytes in the UTF-8 sequence that starts with `lead`; a stray continuation byte counts as one
// so malformed input still advances.
std::size_t sequence_bytes(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

std::size_t units_of(std::size_t bytes, TextUnit unit) {
  switch (unit) {
    case TextUnit::code_points: return 1;
    case TextUnit::utf16: return bytes == 4 ? 2 : 1;  // astral code points are surrogate pairs
    case TextUnit::bytes: return bytes;
  }
  return bytes;
}

std::string optional_decimal(const std::optional<Decimal>& value, const std::string& currency) {
  if (!value) return "-";
  return amount_with_unit(value->to_string(), currency);
}

// Names and labels as one line of safe text: a sink's detail fields are no place for a NUL
// or a line break from a config file.
std::string line(const std::string& text) { return safe_text(text, LineBreaks::fold); }

nlohmann::json number_or_null(const std::optional<double>& value) {
  if (!value || !std::isfinite(*value)) return nullptr;
  return *value;
}

}  // namespace

std::size_t text_length(std::string_view text, TextUnit unit) {
  std::size_t length = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t bytes = std::min(sequence_bytes(static_cast<unsigned char>(text[i])), text.size() - i);
    length += units_of(bytes, unit);
    i += bytes;
  }
  return length;
}

std::string truncate_text(std::string_view raw, std::size_t limit, TextUnit unit) {
  // Counted on safe text: an invalid byte becomes a three-byte U+FFFD, and a sink's limit
  // must hold for what is sent.
  const std::string safe = safe_text(raw);
  const std::string_view text = safe;
  if (text_length(text, unit) <= limit) return safe;
  const std::size_t ellipsis_units = units_of(k_ellipsis.size(), unit);
  const bool room_for_ellipsis = limit >= ellipsis_units;
  const std::size_t budget = room_for_ellipsis ? limit - ellipsis_units : limit;
  std::size_t used = 0;
  std::size_t end = 0;
  while (end < text.size()) {
    const std::size_t bytes = std::min(sequence_bytes(static_cast<unsigned char>(text[end])), text.size() - end);
    if (used + units_of(bytes, unit) > budget) break;
    used += units_of(bytes, unit);
    end += bytes;
  }
  std::string out(text.substr(0, end));
  if (room_for_ellipsis) out += k_ellipsis;
  return out;
}

std::string answer_text(std::string_view text) {
  constexpr std::size_t k_max_answer = 300;  // bytes, the ellipsis included
  return cut_text(safe_text(text, LineBreaks::fold), k_max_answer);
}

std::vector<std::string> url_secrets(const std::string& url) {
  std::vector<std::string> out{url};
  const auto scheme = url.find("://");
  const auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path != std::string::npos) out.push_back(url.substr(path));
  const auto query = url.find('?');
  if (query != std::string::npos) out.push_back(url.substr(query));
  return out;
}

std::optional<std::string> read_http_url(config::SettingsReader& settings, const std::string& key,
                                         std::optional<std::string> fallback) {
  auto url = fallback ? settings.string(key) : settings.required_string(key);
  if (!url) return fallback;
  if (url->rfind("https://", 0) != 0 && url->rfind("http://", 0) != 0) {
    settings.error(key, key + " must be an http(s) URL");
    return std::nullopt;
  }
  return url;
}

std::string strip_trailing_slashes(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string percent_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xF];
    }
  }
  return out;
}

std::optional<Duration> json_seconds(const std::string& body, const nlohmann::json::json_pointer& where) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.contains(where)) return std::nullopt;
  const auto& value = json.at(where);
  if (!value.is_number() || value.get<double>() < 0) return std::nullopt;
  return Duration(static_cast<Duration::rep>(std::ceil(value.get<double>() * 1000.0)));
}

std::optional<Duration> header_seconds(const std::string& value) {
  try {
    std::size_t used = 0;
    const double seconds = std::stod(value, &used);
    if (used != value.size() || !std::isfinite(seconds) || seconds < 0) return std::nullopt;
    return Duration(static_cast<Duration::rep>(std::ceil(seconds * 1000.0)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<std::pair<std::string, std::string>> figure_strings(const Notification& n) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"account", line(n.account)},
      {"provider", line(n.provider)},
      {"rule", alerts::to_string(n.rule)},
      {"severity", alerts::to_string(n.severity)},
      {"status", alerts::to_string(n.event)},
      {"balance", line(optional_decimal(n.balance, n.currency))},
      {"burn_per_day",
       n.burn_per_day ? line(amount_with_unit(format_number(n.burn_per_day, 2), n.currency)) : "-"},
      {"runway", n.runway_days ? describe_days(*n.runway_days) : "-"},
      {"runway_p10", n.runway_p10_days ? describe_days(*n.runway_p10_days) : "-"},
      {"exhausted_at", n.exhausted_at ? format_rfc3339(*n.exhausted_at) : "-"},
      {"recommended_topup", line(optional_decimal(n.recommended_topup, n.currency))},
      {"dedup_key", line(n.dedup_key)},
      {"time", format_rfc3339(n.at)},
  };
  if (n.test) out.emplace_back("test", "this is a test notification from creditwatch test-notify");
  if (n.ack) out.emplace_back("acknowledged", line(acknowledgement_text(*n.ack)));
  for (const auto& [k, v] : n.labels) out.emplace_back(line("label." + k), line(v));
  return out;
}

nlohmann::json figures_json(const Notification& n) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : n.labels) labels[line(k)] = line(v);
  return {
      {"account", line(n.account)},
      {"provider", line(n.provider)},
      {"rule", alerts::to_string(n.rule)},
      {"severity", alerts::to_string(n.severity)},
      {"status", alerts::to_string(n.event)},
      {"test", n.test},
      {"balance", n.balance ? nlohmann::json(n.balance->to_string()) : nlohmann::json(nullptr)},
      {"currency", line(n.currency)},
      {"burn_per_day", number_or_null(n.burn_per_day)},
      {"runway_days", number_or_null(n.runway_days)},
      {"runway_p10_days", number_or_null(n.runway_p10_days)},
      {"exhausted_at", n.exhausted_at ? nlohmann::json(format_rfc3339(*n.exhausted_at)) : nlohmann::json(nullptr)},
      {"recommended_topup",
       n.recommended_topup ? nlohmann::json(n.recommended_topup->to_string()) : nlohmann::json(nullptr)},
      {"labels", labels},
      {"time", format_rfc3339(n.at)},
      {"ack", n.ack ? nlohmann::json{{"by", line(n.ack->by)},
                                     {"at", format_rfc3339(n.ack->at)},
                                     {"comment", line(n.ack->comment)}}
                    : nlohmann::json(nullptr)},
  };
}

std::string acknowledgement_text(const Acknowledgement& ack) {
  return "by " + (ack.by.empty() ? std::string("(unnamed)") : ack.by) + " at " + format_rfc3339(ack.at) +
         (ack.comment.empty() ? "" : ": " + ack.comment);
}

}  // namespace creditwatch::notify
