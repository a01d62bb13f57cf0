#include "digest_config.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"

#include <array>
#include <cctype>
#include <regex>
#include <set>

namespace creditwatch::config {
namespace {

const std::vector<std::string> k_digest_keys = {"every", "at", "timezone", "notify", "group_by"};
// Sinks that open incidents and page people: a weekly report there would be a false page.
const std::set<std::string> k_incident_types = {"pagerduty", "opsgenie", "alertmanager"};
constexpr Duration k_min_every = std::chrono::hours(1);
constexpr Duration k_week = std::chrono::hours(24 * 7);

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// "mon", "monday" (any case) -> 1; nullopt for anything else.
std::optional<int> parse_weekday(const std::string& text) {
  static const std::array<const char*, 7> k_names = {"sunday",   "monday", "tuesday", "wednesday",
                                                    "thursday", "friday", "saturday"};
  const std::string word = lower(text);
  for (int day = 0; day < 7; ++day) {
    const std::string name = k_names[static_cast<std::size_t>(day)];
    if (word == name || word == name.substr(0, 3)) return day;
  }
  return std::nullopt;
}

// "09:00" or "Mon 09:00" into `out`; false when it is neither.
bool parse_at(const std::string& text, DigestConfig& out) {
  static const std::regex pattern(R"(^\s*(?:([A-Za-z]+)\s+)?([0-9]{1,2}):([0-9]{2})\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, pattern)) return false;
  const int hour = std::stoi(m[2].str());
  const int minute = std::stoi(m[3].str());
  if (hour > 23 || minute > 59) return false;
  std::optional<int> weekday;
  if (m[1].matched) {
    weekday = parse_weekday(m[1].str());
    if (!weekday) return false;
  }
  out.weekday = weekday;
  out.time_of_day = std::chrono::hours(hour) + std::chrono::minutes(minute);
  return true;
}

void read_schedule(ConfigReader& r, const YAML::Node& node, DigestConfig& out) {
  if (r.duration(node, "every", out.every) && out.every < k_min_every) {
    r.error(node["every"], "every must be at least 1h");
  }
  // Without `at`: weekly reports on Monday morning, shorter periods at 09:00.
  if (out.every % k_week == Duration(0)) out.weekday = 1;
  std::string at;
  if (r.string(node, "at", at) && !parse_at(at, out)) {
    r.error(node["at"], "at: \"" + at + "\" is not a time (use \"HH:MM\" or a weekday and a time, e.g. \"Mon 09:00\")");
  } else if (out.weekday && out.every % k_week != Duration(0) && out.every >= k_min_every) {
    r.error(r.at(node, "at"), "at names a weekday, so every must be a whole number of weeks (7d, 14d...), not " +
                                  format_duration(out.every));
  }
}

}  // namespace

void read_digest(ConfigReader& r, const YAML::Node& node, DigestConfig& out) {
  out.where = r.location(node);
  if (!r.expect_map(node, "digest")) return;
  r.check_keys(node, k_digest_keys);
  read_schedule(r, node, out);
  std::string zone;
  if (r.string(node, "timezone", zone)) {
    const auto loaded = TimeZone::load(zone);
    if (loaded) {
      out.timezone = *loaded;
    } else {
      r.error(node["timezone"], "timezone: " + loaded.error());
    }
    // A wall-clock time recurs by calendar days; a period of hours is counted in real time.
    if (loaded && out.every % std::chrono::hours(24) != Duration(0) && zone != "UTC" && zone != "Etc/UTC") {
      r.error(node["timezone"], "timezone needs every to be a whole number of days (" + format_duration(out.every) +
                                    " periods are counted in UTC; leave timezone out)");
    }
  }
  if (!r.string_list(node, "notify", out.notify) || out.notify.empty()) {
    r.error(r.at(node, "notify"), "digest needs notify: the notifiers to send the report to");
  }
  r.string(node, "group_by", out.group_by);
}

void check_digest(ConfigReader& r, const Config& c, const YAML::Node& digest) {
  if (!c.digest) return;
  std::vector<std::string> candidates;
  for (const auto& n : c.notifiers) candidates.push_back(n.name);
  const YAML::Node notify = digest["notify"];  // a list, or one name on its own
  for (std::size_t i = 0; i < c.digest->notify.size(); ++i) {
    const YAML::Node where = notify.IsSequence() ? notify[i] : notify;
    const std::string& name = c.digest->notify[i];
    const NotifierConfig* notifier = nullptr;
    for (const auto& n : c.notifiers) {
      if (n.name == name) notifier = &n;
    }
    if (!notifier) {
      std::string message = "digest notifies unknown notifier \"" + name + "\"";
      if (auto hint = closest_match(name, candidates)) message += " (did you mean \"" + *hint + "\"?)";
      r.error(where, message);
    } else if (k_incident_types.count(notifier->type)) {
      r.error(where, "digest cannot go to \"" + name + "\": " + notifier->type +
                         " opens incidents, and a periodic report is not one (use a chat, email or webhook notifier)");
    }
  }
}

}  // namespace creditwatch::config
