#include "high_availability.hpp"
#include "value_checks.hpp"

#include "creditwatch/common/database_url.hpp"
#include "creditwatch/common/duration.hpp"

#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdio>
#include <regex>

namespace creditwatch::config {
namespace {

const std::vector<std::string> k_ha_keys = {"replica_id", "lease"};
const std::vector<std::string> k_heartbeat_keys = {"name", "url", "url_file", "fail_url", "fail_url_file", "interval"};

// Which of `key` and `key_file` the map holds, for pointing at it.
std::string given_key(const YAML::Node& map, const std::string& key) {
  return map[key + "_file"] ? key + "_file" : key;
}

// `key` or `key_file` as a ping URL. The URL is a secret (whoever knows it can ping in our
// place), so no message repeats it.
bool read_ping_url(ConfigReader& r, const YAML::Node& node, const std::string& key, Secret& out) {
  Setting url;
  if (!r.secret(node, key, url)) return false;
  const std::string given = given_key(node, key);
  // "{replica}" stands in for a replica id, which is letters, digits and "._-".
  if (!is_http_url(with_replica(url.value, "replica"))) {
    r.error(node[given], given == key ? key + " must be an http:// or https:// URL with a host"
                                      : "the URL in " + given + " must be an http:// or https:// URL with a host");
    return false;
  }
  out = Secret(url.value);
  return true;
}

bool unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

std::string hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  std::string out(name);
  // A hostname is letters, digits, '-' and '.'; anything else would need escaping in logs
  // and URLs, so it becomes '-'.
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '-';
  }
  return out;
}

}  // namespace

void read_storage_url(ConfigReader& r, const YAML::Node& storage, StorageConfig& out) {
  Setting url;
  if (!r.secret(storage, "url", url)) return;
  // The URL may hold a password: no message repeats it.
  const std::string given = given_key(storage, "url");
  if (!is_database_url(url.value)) {
    r.error(storage[given], given == "url" ? "url must start with postgresql:// or postgres://"
                                           : "the URL in url_file must start with postgresql:// or postgres://");
    return;
  }
  if (storage["path"] && !storage["path"].IsNull()) {
    r.error(storage[given], "give either path (SQLite) or " + given + " (PostgreSQL), not both");
    return;
  }
  out.url = url.value;
  out.path.clear();
}

void read_ha(ConfigReader& r, const YAML::Node& node, HaConfig& out) {
  if (!r.expect_map(node, "ha")) return;
  r.check_keys(node, k_ha_keys);
  // It names the replica in logs, metrics, the cluster API and heartbeat URLs.
  static const std::regex pattern("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  if (r.string(node, "replica_id", out.replica_id) && !std::regex_match(out.replica_id, pattern)) {
    r.error(node["replica_id"], "replica_id \"" + out.replica_id +
                                    "\" must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit");
    out.replica_id.clear();
  }
  if (r.duration(node, "lease", out.lease) && out.lease < k_min_lease) {
    r.error(node["lease"], "lease must be at least " + format_duration(k_min_lease));
  }
}

HeartbeatConfig read_heartbeat(ConfigReader& r, const YAML::Node& node) {
  HeartbeatConfig h;
  h.where = r.location(node);
  r.check_keys(node, k_heartbeat_keys);
  r.string(node, "name", h.name);
  if (!node["url"] && !node["url_file"]) r.error(node, "heartbeat needs a url (or url_file)");
  read_ping_url(r, node, "url", h.url);
  read_ping_url(r, node, "fail_url", h.fail_url);
  if (r.duration(node, "interval", h.interval) && h.interval < k_min_heartbeat_interval) {
    r.error(node["interval"], "interval must be at least " + format_duration(k_min_heartbeat_interval));
  }
  return h;
}

std::string default_replica_id() {
  static const std::string id = hostname() + "-" + std::to_string(::getpid());
  return id;
}

std::string replica_id(const HaConfig& ha) { return ha.replica_id.empty() ? default_replica_id() : ha.replica_id; }

std::string with_replica(const std::string& text, const std::string& replica_id) {
  static const std::string k_placeholder = "{replica}";
  std::string encoded;
  for (unsigned char c : replica_id) {
    if (unreserved(c)) {
      encoded += static_cast<char>(c);
    } else {
      char escape[4];
      std::snprintf(escape, sizeof escape, "%%%02X", c);
      encoded += escape;
    }
  }
  std::string out;
  std::size_t pos = 0;
  for (auto at = text.find(k_placeholder); at != std::string::npos; at = text.find(k_placeholder, pos)) {
    out.append(text, pos, at - pos);
    out += encoded;
    pos = at + k_placeholder.size();
  }
  return out + text.substr(pos);
}

}  // namespace creditwatch::config
