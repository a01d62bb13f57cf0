#include "creditwatch/common/time_zone.hpp"

#include "posix_time_zone.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

namespace creditwatch {

struct TimeZone::Data {
  std::string name;
  std::vector<std::int64_t> transitions;  // ascending, seconds since the epoch
  std::vector<std::uint8_t> type_after;   // the type each transition starts
  std::vector<posix_tz::ZoneType> types;  // never empty
  std::optional<posix_tz::Rule> rule;     // for instants after the last transition
};

namespace {

using posix_tz::ZoneType;

// Zone files are a few kilobytes; this only stops a wrong path from reading a huge file.
constexpr std::size_t k_max_tzif_size = 1 << 20;

std::shared_ptr<const TimeZone::Data> utc_data(std::string name) {
  auto data = std::make_shared<TimeZone::Data>();
  data->name = std::move(name);
  data->types.push_back({0, false, "UTC"});
  return data;
}

const ZoneType& type_at(const TimeZone::Data& zone, std::int64_t seconds) {
  const auto& times = zone.transitions;
  if (zone.rule && (times.empty() || seconds >= times.back())) return posix_tz::type_at(*zone.rule, seconds);
  // RFC 8536: before the first transition the first type applies.
  if (times.empty() || seconds < times.front()) return zone.types.front();
  const auto after = std::upper_bound(times.begin(), times.end(), seconds);
  return zone.types[zone.type_after[static_cast<std::size_t>(after - times.begin() - 1)]];
}

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint time_point(std::int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

// A name under the zone directory: letters, digits and _+-. in parts separated by single
// slashes, none of them empty, "." or ".." (so none is absolute or leaves the directory).
bool is_zone_name(std::string_view name) {
  const bool allowed_bytes = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
           c == '-' || c == '.' || c == '/';
  });
  if (!allowed_bytes) return false;
  for (std::size_t start = 0;;) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == name.size()) return true;
    start = end + 1;
  }
}

std::string zone_directory() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? dir : "/usr/share/zoneinfo";
}

// Reads TZif's big-endian fields, failing (not throwing) past the end.
class TzifReader {
public:
  explicit TzifReader(std::string_view data) : m_data(data) {}

  bool has(std::size_t bytes) const { return m_data.size() - m_pos >= bytes; }
  std::size_t position() const { return m_pos; }
  void skip(std::size_t bytes) { m_pos += bytes; }
  std::string_view rest() const { return m_data.substr(m_pos); }

  std::int64_t signed_int(int width) {
    std::uint64_t value = 0;
    for (int i = 0; i < width; ++i) value = value << 8 | static_cast<unsigned char>(m_data[m_pos++]);
    if (width == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
    return static_cast<std::int64_t>(value);
  }
  std::uint8_t byte() { return static_cast<std::uint8_t>(m_data[m_pos++]); }

private:
  std::string_view m_data;
  std::size_t m_pos = 0;
};

struct TzifCounts {
  char version = 0;
  std::int64_t is_ut = 0, is_std = 0, leap = 0, time = 0, type = 0, chars = 0;

  std::size_t block_size(int width) const {
    return static_cast<std::size_t>(time * width + time + type * 6 + chars + leap * (width + 4) + is_std + is_ut);
  }
};

std::optional<TzifCounts> read_header(TzifReader& in) {
  if (!in.has(44) || in.rest().substr(0, 4) != "TZif") return std::nullopt;
  in.skip(4);
  TzifCounts counts;
  counts.version = static_cast<char>(in.byte());
  in.skip(15);
  for (auto* count : {&counts.is_ut, &counts.is_std, &counts.leap, &counts.time, &counts.type, &counts.chars}) {
    *count = in.signed_int(4);
    if (*count < 0) return std::nullopt;
  }
  return counts;
}

// One data block (transitions, their types, the types, the abbreviations), `width`-byte
// times. Returns why it is unusable, or nothing.
std::optional<std::string> read_block(TzifReader& in, const TzifCounts& counts, int width, TimeZone::Data& zone) {
  if (!in.has(counts.block_size(width))) return "it is cut short";
  if (counts.type < 1 || counts.type > 256 || counts.chars < 1) return "it has no local time types";
  if (counts.leap > 0) return "it counts leap seconds (a right/ zone); use the zone without right/";
  const std::size_t block_end = in.position() + counts.block_size(width);
  for (std::int64_t i = 0; i < counts.time; ++i) zone.transitions.push_back(in.signed_int(width));
  for (std::int64_t i = 0; i < counts.time; ++i) zone.type_after.push_back(in.byte());
  std::vector<std::uint8_t> abbreviation_index;
  for (std::int64_t i = 0; i < counts.type; ++i) {
    const auto offset = static_cast<std::int32_t>(in.signed_int(4));
    const bool dst = in.byte() != 0;
    abbreviation_index.push_back(in.byte());
    if (offset < -25 * 3600 || offset > 26 * 3600) return "it has an offset of more than 26 hours";
    zone.types.push_back({offset, dst, ""});
  }
  const std::string_view chars = in.rest().substr(0, static_cast<std::size_t>(counts.chars));
  for (std::size_t i = 0; i < zone.types.size(); ++i) {
    if (abbreviation_index[i] >= chars.size()) return "an abbreviation lies outside the file";
    const std::string_view from = chars.substr(abbreviation_index[i]);
    zone.types[i].abbreviation = std::string(from.substr(0, from.find('\0')));
  }
  for (auto type : zone.type_after) {
    if (type >= zone.types.size()) return "a transition names a type that does not exist";
  }
  if (!std::is_sorted(zone.transitions.begin(), zone.transitions.end()) ||
      std::adjacent_find(zone.transitions.begin(), zone.transitions.end()) != zone.transitions.end()) {
    return "its transitions are out of order";
  }
  in.skip(block_end - in.position());
  return std::nullopt;
}

// Version 2 and later: the version 1 block (32-bit times) comes first and is skipped, then
// a second header and the 64-bit block, then "\n" TZ-string "\n".
std::optional<std::string> read_tzif(std::string_view data, TimeZone::Data& zone) {
  TzifReader in(data);
  auto counts = read_header(in);
  if (!counts) return "it is not a TZif file";
  if (counts->version == 0) return read_block(in, *counts, 4, zone);
  if (!in.has(counts->block_size(4))) return "it is cut short";
  in.skip(counts->block_size(4));
  counts = read_header(in);
  if (!counts) return "its second header is missing";
  if (auto problem = read_block(in, *counts, 8, zone)) return problem;
  const std::string_view footer = in.rest();
  if (footer.size() < 2 || footer.front() != '\n') return "its closing rule is missing";
  const std::size_t end = footer.find('\n', 1);
  if (end == std::string_view::npos) return "its closing rule is missing";
  const std::string_view text = footer.substr(1, end - 1);
  if (text.empty()) return std::nullopt;  // no rule: the last type holds for ever
  zone.rule = posix_tz::parse(text);
  if (!zone.rule) return "its closing rule \"" + std::string(text) + "\" is not a POSIX TZ string we read";
  return std::nullopt;
}

}  // namespace

TimeZone::TimeZone() : m_data(utc_data("UTC")) {}

Result<TimeZone, std::string> TimeZone::load(std::string_view name) {
  if (name == "UTC" || name == "Etc/UTC") return TimeZone(utc_data(std::string(name)));
  const std::string quoted = "\"" + std::string(name) + "\"";
  if (!is_zone_name(name)) return quoted + " is not a time zone name (like Europe/Berlin or UTC)";
  const std::string path = zone_directory() + "/" + std::string(name);
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) return quoted + " is a region, not a time zone (like Europe/Berlin)";
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const bool missing = errno == ENOENT;
    return missing ? "unknown time zone " + quoted + " (no " + path + "; is the tzdata package installed?)"
                   : "cannot read time zone " + quoted + " (" + path + ": " + std::strerror(errno) + ")";
  }
  std::string data;
  data.resize(k_max_tzif_size + 1);
  file.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(file.gcount()));
  if (data.size() > k_max_tzif_size) return "time zone " + quoted + " is not a TZif file (" + path + " is too large)";
  return from_tzif(name, data);
}

Result<TimeZone, std::string> TimeZone::from_tzif(std::string_view name, std::string_view data) {
  auto zone = std::make_shared<Data>();
  zone->name = std::string(name);
  if (auto problem = read_tzif(data, *zone)) {
    return "time zone \"" + std::string(name) + "\" cannot be used: " + *problem;
  }
  return TimeZone(std::move(zone));
}

Result<TimeZone, std::string> TimeZone::from_posix_rule(std::string_view rule) {
  auto zone = std::make_shared<Data>();
  zone->name = std::string(rule);
  zone->rule = posix_tz::parse(rule);
  if (!zone->rule) return "\"" + std::string(rule) + "\" is not a POSIX TZ rule (like CET-1CEST,M3.5.0,M10.5.0/3)";
  zone->types.push_back(zone->rule->standard);
  return TimeZone(std::move(zone));
}

const std::string& TimeZone::name() const { return m_data->name; }

std::chrono::seconds TimeZone::offset_at(TimePoint t) const {
  return std::chrono::seconds(type_at(*m_data, unix_seconds(t)).offset);
}

std::string TimeZone::abbreviation_at(TimePoint t) const { return type_at(*m_data, unix_seconds(t)).abbreviation; }

bool TimeZone::is_dst_at(TimePoint t) const { return type_at(*m_data, unix_seconds(t)).dst; }

CivilTime TimeZone::to_local(TimePoint t) const {
  const std::int64_t seconds = unix_seconds(t);
  return civil_from_seconds(seconds + type_at(*m_data, seconds).offset);
}

std::vector<TimePoint> TimeZone::instants_of(const CivilTime& local) const {
  // Offsets stay within a day of UTC, and zones change at most once in a few days, so the
  // offsets two days either side are every offset `local` can be read with.
  constexpr std::int64_t k_two_days = 2 * 86400;
  const std::int64_t as_utc = seconds_from_civil(local);
  std::vector<std::int64_t> found;
  for (std::int64_t probe : {as_utc - k_two_days, as_utc, as_utc + k_two_days}) {
    const std::int64_t candidate = as_utc - type_at(*m_data, probe).offset;
    if (as_utc - type_at(*m_data, candidate).offset == candidate) found.push_back(candidate);
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::vector<TimePoint> out;
  for (auto seconds : found) out.push_back(time_point(seconds));
  return out;
}

TimePoint TimeZone::resolve(const CivilTime& local) const {
  auto instants = instants_of(local);
  if (!instants.empty()) return instants.front();
  const std::int64_t as_utc = seconds_from_civil(local);
  return time_point(as_utc - type_at(*m_data, as_utc - 2 * 86400).offset);
}

}  // namespace creditwatch
