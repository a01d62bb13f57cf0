#include "maintenance.hpp"

#include "creditwatch/common/text.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace creditwatch::config {
namespace {

const std::vector<std::string> k_maintenance_keys = {"name", "days", "start", "end", "timezone", "match"};
const std::vector<std::string> k_day_names = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
const std::vector<std::string> k_full_day_names = {"sunday",   "monday", "tuesday", "wednesday",
                                                   "thursday", "friday", "saturday"};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

void read_days(ConfigReader& r, const YAML::Node& node, WeeklyWindow& out) {
  std::vector<std::string> days;
  if (!r.string_list(node, "days", days)) {
    out.days.fill(true);  // no days: every day
    return;
  }
  const YAML::Node list = node["days"];
  for (std::size_t i = 0; i < days.size(); ++i) {
    const std::string day = lower(days[i]);
    auto short_name = std::find(k_day_names.begin(), k_day_names.end(), day);
    auto full_name = std::find(k_full_day_names.begin(), k_full_day_names.end(), day);
    if (short_name != k_day_names.end()) {
      out.days[static_cast<std::size_t>(short_name - k_day_names.begin())] = true;
    } else if (full_name != k_full_day_names.end()) {
      out.days[static_cast<std::size_t>(full_name - k_full_day_names.begin())] = true;
    } else {
      std::string message = "days: \"" + days[i] + "\" is not a day (mon, tue, wed, thu, fri, sat, sun)";
      if (auto hint = closest_match(day, k_full_day_names)) message += " (did you mean \"" + *hint + "\"?)";
      r.error(list.IsSequence() ? list[i] : list, message);
    }
  }
  if (days.empty()) r.error(list, "days must list at least one day (leave it out for every day)");
}

// "HH:MM", 00:00 to 23:59, as minutes after midnight.
void read_time_of_day(ConfigReader& r, const YAML::Node& node, const std::string& key, int& out) {
  std::string text;
  if (!r.string(node, key, text)) {
    r.error(node, "maintenance window needs " + key + " (\"HH:MM\")");
    return;
  }
  static const std::regex pattern("([01]?[0-9]|2[0-3]):([0-5][0-9])");
  std::smatch parts;
  if (!std::regex_match(text, parts, pattern)) {
    r.error(node[key], key + " must be a time of day \"HH:MM\" (00:00 to 23:59), got \"" + text + "\"");
    return;
  }
  out = std::stoi(parts[1]) * 60 + std::stoi(parts[2]);
}

void read_zone(ConfigReader& r, const YAML::Node& node, WeeklyWindow& out) {
  std::string name;
  if (!r.string(node, "timezone", name)) return;  // UTC
  auto zone = TimeZone::load(name);
  if (!zone) {
    r.error(node["timezone"], "timezone: " + zone.error());
    return;
  }
  out.zone = std::move(*zone);
}

// The alerts layer matches (alerts::Matchers); the config checks what it can without it:
// names as alerts::check_matcher_name does, and severities, whose names it knows.
void read_match(ConfigReader& r, const YAML::Node& node, std::map<std::string, std::string>& out) {
  if (!r.string_map(node, "match", out)) return;
  static const std::regex name_pattern("[A-Za-z_][A-Za-z0-9_.-]*");
  for (const auto& entry : node["match"]) {
    const std::string name = entry.first.Scalar();
    if (!std::regex_match(name, name_pattern)) {
      r.error(entry.first, "match: \"" + name + "\" is not a field or label name ([A-Za-z_][A-Za-z0-9_.-]*)");
    }
    const auto value = out.find(name);
    if (name == "severity" && value != out.end() && value->second.find('*') == std::string::npos &&
        value->second != "info" && value->second != "warning" && value->second != "critical") {
      r.error(entry.second, "match: no severity is called \"" + value->second + "\" (info, warning, critical)");
    }
  }
}

}  // namespace

MaintenanceWindow read_maintenance_window(ConfigReader& r, const YAML::Node& node) {
  MaintenanceWindow w;
  w.where = r.location(node);
  r.check_keys(node, k_maintenance_keys);
  r.string(node, "name", w.name);
  read_days(r, node, w.when);
  read_time_of_day(r, node, "start", w.when.start_minute);
  read_time_of_day(r, node, "end", w.when.end_minute);
  read_zone(r, node, w.when);
  read_match(r, node, w.match);
  return w;
}

}  // namespace creditwatch::config
