#include "creditwatch/config/config.hpp"

#include "config_reader.hpp"
#include "digest_config.hpp"
#include "high_availability.hpp"
#include "routing_config.hpp"
#include "maintenance.hpp"
#include "value_checks.hpp"

#include "creditwatch/common/database_url.hpp"
#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <string_view>

namespace creditwatch::config {
namespace {

const std::vector<std::string> k_top_keys = {"storage",  "ha",       "http",      "defaults",  "alerting",
                                             "logging",  "accounts", "notifiers", "heartbeats",
                                             "routes",   "escalate", "digest",  "maintenance"};
const std::vector<std::string> k_storage_keys = {"path", "url", "url_file", "raw_retention", "retention", "max_size"};
constexpr std::uint64_t k_min_storage_size = 64 << 10;
const std::vector<std::string> k_http_keys = {"listen", "auth_token", "auth_token_file"};
const std::vector<std::string> k_tuning_keys = {"interval", "timeout", "burn_window", "stale_after", "warn_days",
                                                "critical_days", "target_days", "topup_lead_time",
                                                "warn_percent_left", "critical_percent_left"};
const std::vector<std::string> k_alerting_keys = {"repeat_interval", "send_resolved", "retry_initial", "retry_max",
                                                  "dead_after"};
const std::vector<std::string> k_logging_keys = {"level", "format"};
const std::vector<std::string> k_account_keys = {"name", "provider", "api_key", "api_key_file", "base_url",
                                                 "currency", "min_balance", "percent_of", "labels", "notify"};
const std::vector<std::string> k_notifier_keys = {"name", "type", "min_severity"};
const std::vector<std::string> k_severities = {"info", "warning", "critical"};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void read_tuning(ConfigReader& r, const YAML::Node& node, Tuning& t) {
  r.duration(node, "interval", t.interval);
  r.duration(node, "timeout", t.timeout);
  r.duration(node, "burn_window", t.burn_window);
  r.duration(node, "stale_after", t.stale_after);
  r.duration(node, "topup_lead_time", t.topup_lead_time);
  r.number(node, "warn_days", t.warn_days);
  r.number(node, "critical_days", t.critical_days);
  r.number(node, "target_days", t.target_days);
  for (const auto* key : {"warn_percent_left", "critical_percent_left"}) {
    double percent = 0;
    if (!r.number(node, key, percent)) continue;
    if (percent <= 0 || percent >= 100) {
      r.error(node[key], std::string(key) + " must be a percentage between 0 and 100 (exclusive), got " +
                             node[key].Scalar());
      continue;
    }
    (std::string_view(key) == "warn_percent_left" ? t.warn_percent_left : t.critical_percent_left) = percent;
  }
  if ((node["warn_percent_left"] || node["critical_percent_left"]) && t.warn_percent_left &&
      t.critical_percent_left && *t.critical_percent_left > *t.warn_percent_left) {
    r.error(node[node["critical_percent_left"] ? "critical_percent_left" : "warn_percent_left"],
            "critical_percent_left must not be above warn_percent_left");
  }
  // Checked where a value is set, so an inherited default is reported once, in defaults.
  if (node["interval"] && t.interval < std::chrono::milliseconds(100)) {
    r.error(node["interval"], "interval must be at least 100ms");
  }
  if (node["timeout"] && t.timeout < std::chrono::milliseconds(100)) {
    r.error(node["timeout"], "timeout must be at least 100ms");
  }
  if (node["burn_window"] && t.burn_window <= Duration(0)) {
    r.error(node["burn_window"], "burn_window must be more than 0");
  } else if (node["burn_window"] && t.burn_window > k_max_burn_window) {
    r.error(node["burn_window"], "burn_window must be at most " + format_duration(k_max_burn_window) +
                                     ": the forecaster keeps that much spend history");
  }
  if ((node["critical_days"] || node["warn_days"]) && t.critical_days > t.warn_days) {
    r.error(r.at(node, node["critical_days"] ? "critical_days" : "warn_days"), "critical_days must not exceed warn_days");
  }
}

void read_storage(ConfigReader& r, const YAML::Node& node, StorageConfig& s) {
  if (!r.expect_map(node, "storage")) return;
  r.check_keys(node, k_storage_keys);
  r.string(node, "path", s.path);
  read_storage_url(r, node, s);
  r.duration(node, "raw_retention", s.raw_retention);
  r.duration(node, "retention", s.retention);
  if (r.size(node, "max_size", s.max_size) && s.max_size < k_min_storage_size) {
    r.error(node["max_size"], "max_size must be at least 64KiB");
  }
}

void read_http(ConfigReader& r, const YAML::Node& node, HttpConfig& h) {
  if (!r.expect_map(node, "http")) return;
  r.check_keys(node, k_http_keys);
  r.string(node, "listen", h.listen);
  Setting token;
  if (r.secret(node, "auth_token", token)) h.auth_token = token.value;
  if (h.listen != "off" && h.listen.rfind(':') == std::string::npos) {
    r.error(r.at(node, "listen"), "listen must be HOST:PORT or \"off\"");
  }
}

void read_alerting(ConfigReader& r, const YAML::Node& node, AlertingConfig& a) {
  if (!r.expect_map(node, "alerting")) return;
  r.check_keys(node, k_alerting_keys);
  r.duration(node, "repeat_interval", a.repeat_interval);
  r.boolean(node, "send_resolved", a.send_resolved);
  r.duration(node, "retry_initial", a.retry_initial);
  r.duration(node, "retry_max", a.retry_max);
  r.duration(node, "dead_after", a.dead_after);
  using namespace std::chrono_literals;
  if (node["retry_initial"] && a.retry_initial < 100ms) {
    r.error(node["retry_initial"], "retry_initial must be at least 100ms");
  } else if ((node["retry_initial"] || node["retry_max"]) && a.retry_max < a.retry_initial) {
    r.error(r.at(node, node["retry_max"] ? "retry_max" : "retry_initial"),
            "retry_max (" + format_duration(a.retry_max) + ") must not be less than retry_initial (" +
                format_duration(a.retry_initial) + ")");
  }
  // Under a minute a firing alert would re-page on nearly every evaluation.
  if (node["repeat_interval"] && a.repeat_interval < 1min) {
    r.error(node["repeat_interval"], "repeat_interval must be at least 1m");
  }
}

void read_logging(ConfigReader& r, const YAML::Node& node, LoggingConfig& l) {
  if (!r.expect_map(node, "logging")) return;
  r.check_keys(node, k_logging_keys);
  r.one_of(node, "level", {"trace", "debug", "info", "warn", "error"}, l.level);
  r.one_of(node, "format", {"text", "json"}, l.format);
}

void check_name(ConfigReader& r, const YAML::Node& node, const std::string& name, std::set<std::string>& seen,
                const char* what) {
  static const std::regex pattern("[a-z0-9][a-z0-9_.-]*");
  if (name.empty()) {
    r.error(node, std::string(what) + " needs a name");
  } else if (!std::regex_match(name, pattern)) {
    r.error(r.at(node, "name"), std::string(what) + " name \"" + name + "\" must match [a-z0-9][a-z0-9_.-]*");
  } else if (!seen.insert(name).second) {
    r.error(r.at(node, "name"), std::string("duplicate ") + what + " name \"" + name + "\"");
  }
}

}  // namespace

std::optional<Decimal> percent_reference(const AccountConfig& account) {
  if (account.percent_of) return account.percent_of;
  for (const auto* key : {"budget", "credit"}) {
    auto setting = account.settings.find(key);
    if (setting == account.settings.end()) continue;
    auto amount = Decimal::parse(setting->second.value);
    if (amount && *amount > Decimal()) return amount;
  }
  return std::nullopt;
}

namespace {

// `min_balance: 2` is the critical floor (as it always was); `min_balance: {warning: 10,
// critical: 2}` adds a warning floor above it.
void read_min_balance(ConfigReader& r, const YAML::Node& node, AccountConfig& a) {
  const YAML::Node levels = node["min_balance"];
  Decimal floor;
  if (!levels || !levels.IsMap()) {
    if (r.decimal(node, "min_balance", floor)) a.min_balance = floor;
    return;
  }
  r.check_keys(levels, {"warning", "critical"});
  if (r.decimal(levels, "critical", floor)) a.min_balance = floor;
  if (r.decimal(levels, "warning", floor)) a.min_balance_warning = floor;
  if (!a.min_balance && !a.min_balance_warning) {
    r.error(levels, "min_balance needs a warning or a critical level");
  } else if (a.min_balance && a.min_balance_warning && *a.min_balance_warning < *a.min_balance) {
    r.error(levels["warning"], "min_balance.warning (" + a.min_balance_warning->to_string() +
                                   ") must not be below min_balance.critical (" + a.min_balance->to_string() + ")");
  }
}

AccountConfig read_account(ConfigReader& r, const YAML::Node& node, const Tuning& defaults) {
  AccountConfig a;
  a.where = r.location(node);
  a.tuning = defaults;
  r.string(node, "name", a.name);
  r.string(node, "provider", a.provider);
  if (a.provider.empty()) r.error(node, "account needs a provider");
  Setting key;
  if (r.secret(node, "api_key", key)) a.api_key = Secret(key.value);
  if (r.string(node, "base_url", a.base_url) && !is_http_url(a.base_url)) {
    r.error(node["base_url"], "base_url must be an http:// or https:// URL with a host, got \"" + a.base_url + "\"");
  }
  std::string currency;
  if (r.string(node, "currency", currency)) a.currency = currency;
  read_min_balance(r, node, a);
  Decimal reference;
  if (r.decimal(node, "percent_of", reference)) {
    if (reference > Decimal()) {
      a.percent_of = reference;
    } else {
      r.error(node["percent_of"], "percent_of must be more than 0");
    }
  }
  if (r.string_map(node, "labels", a.labels)) check_labels(r, node["labels"]);
  r.string_list(node, "notify", a.notify);
  read_tuning(r, node, a.tuning);
  r.collect_settings(node, concat(k_account_keys, k_tuning_keys), a.settings);
  // Set on the account itself, a percentage needs something to be a percentage of; inherited
  // from `defaults:`, it applies to the accounts that have one.
  if ((node["warn_percent_left"] || node["critical_percent_left"]) && !percent_reference(a)) {
    r.error(node[node["warn_percent_left"] ? "warn_percent_left" : "critical_percent_left"],
            "a percentage threshold needs percent_of (or the provider's budget or credit)");
  }
  return a;
}

NotifierConfig read_notifier(ConfigReader& r, const YAML::Node& node) {
  NotifierConfig n;
  n.where = r.location(node);
  r.string(node, "name", n.name);
  r.string(node, "type", n.type);
  if (n.type.empty()) r.error(node, "notifier needs a type");
  r.one_of(node, "min_severity", k_severities, n.min_severity);
  r.collect_settings(node, k_notifier_keys, n.settings);
  return n;
}

template <typename Item, typename ReadOne>
void read_list(ConfigReader& r, const YAML::Node& node, const char* key, std::vector<Item>& out, ReadOne read_one) {
  if (!node) return;
  if (!node.IsSequence()) {
    r.error(node, std::string(key) + " must be a list");
    return;
  }
  for (const auto& item : node) {
    if (!item.IsMap()) {
      r.error(item, std::string("each entry of ") + key + " must be a mapping");
      continue;
    }
    out.push_back(read_one(item));
  }
}

void check_routing(ConfigReader& r, const Config& c, const YAML::Node& accounts) {
  std::set<std::string> notifier_names;
  for (const auto& n : c.notifiers) notifier_names.insert(n.name);
  std::vector<std::string> candidates(notifier_names.begin(), notifier_names.end());
  std::size_t index = 0;
  for (const auto& a : c.accounts) {
    for (std::size_t i = 0; i < a.notify.size(); ++i) {
      if (notifier_names.count(a.notify[i])) continue;
      std::string message = "account \"" + a.name + "\" notifies unknown notifier \"" + a.notify[i] + "\"";
      if (auto hint = closest_match(a.notify[i], candidates)) message += " (did you mean \"" + *hint + "\"?)";
      const YAML::Node notify = accounts[index]["notify"];  // a list, or one name on its own
      r.error(notify.IsSequence() ? notify[i] : notify, message);
    }
    ++index;
  }
}

// The burn rate reads samples burn_window back: retention must keep them. Reported at
// retention for the defaults, at an account's own burn_window for that account.
void check_retention(ConfigReader& r, const Config& c, const YAML::Node& root) {
  const Duration retention = c.storage.retention;
  auto message = [&](Duration burn_window) {
    return "retention (" + format_duration(retention) + ") must not be shorter than burn_window (" +
           format_duration(burn_window) + "): the burn rate is read from samples that far back";
  };
  if (retention < c.defaults.burn_window) {
    const YAML::Node storage = root["storage"];
    r.error(storage.IsMap() && storage["retention"] ? storage["retention"] : r.at(root["defaults"], "burn_window"),
            message(c.defaults.burn_window));
  }
  const YAML::Node accounts = root["accounts"];
  for (std::size_t i = 0; i < c.accounts.size() && i < accounts.size(); ++i) {
    const YAML::Node node = accounts[i];
    if (node["burn_window"] && retention < c.accounts[i].tuning.burn_window) {
      r.error(node["burn_window"], message(c.accounts[i].tuning.burn_window));
    }
  }
  // Raw readings, once set explicitly: the forecaster replays two burn windows and a day of
  // them, and the rollups they turn into outlive them. (Left at its default, raw_retention is
  // simply capped at retention, so configurations with a short retention stay valid.)
  const YAML::Node storage = root["storage"];
  if (!storage || !storage.IsMap() || !storage["raw_retention"]) return;
  const Duration raw = c.storage.raw_retention;
  if (storage["retention"] && retention < raw) {
    r.error(storage["retention"], "retention (" + format_duration(retention) + ") must not be shorter than raw_retention (" +
                                      format_duration(raw) + "): rollups are kept longer than raw readings");
  }
  Duration needed = 2 * c.defaults.burn_window + std::chrono::hours(24);
  for (const auto& account : c.accounts) needed = std::max(needed, 2 * account.tuning.burn_window + std::chrono::hours(24));
  if (raw < needed) {
    r.error(storage["raw_retention"], "raw_retention (" + format_duration(raw) + ") must not be shorter than " +
                                          format_duration(needed) +
                                          " (two burn windows and a day): the forecaster reads raw readings that far back");
  }
}

std::string default_storage_path() {
  if (const char* state = std::getenv("STATE_DIRECTORY"); state && *state) {
    std::string dir(state);
    // systemd may list several directories separated by ':'; the first is ours.
    return dir.substr(0, dir.find(':')) + "/creditwatch.db";
  }
  return "creditwatch.db";
}

}  // namespace

const AccountConfig* Config::find_account(const std::string& name) const {
  for (const auto& a : accounts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::vector<std::string> Config::secrets() const {
  std::vector<std::string> out;
  auto add_settings = [&out](const Settings& settings) {
    for (const auto& [key, s] : settings) {
      if (s.is_secret && !s.value.empty()) out.push_back(s.value);
      for (const auto& [name, value] : s.entries) {
        if (s.is_secret) out.push_back(value);
      }
    }
  };
  for (const auto& a : accounts) {
    if (!a.api_key.empty()) out.push_back(a.api_key.reveal());
    add_settings(a.settings);
  }
  for (const auto& n : notifiers) add_settings(n.settings);
  if (!http.auth_token.empty()) out.push_back(http.auth_token);
  if (storage.url) {
    for (auto& password : database_url_passwords(*storage.url)) out.push_back(std::move(password));
  }
  const std::string replica = replica_id(ha);
  for (const auto& h : heartbeats) {
    for (const auto* url : {&h.url, &h.fail_url}) {
      if (url->empty()) continue;
      out.push_back(url->reveal());
      out.push_back(with_replica(url->reveal(), replica));
    }
  }
  return out;
}

Config load_config(const std::string& path) {
  ConfigReader r(path);
  const YAML::Node root = r.load();
  Config c;
  c.source_file = path;
  c.storage.path = default_storage_path();
  if (root && !root.IsNull()) {
    if (!root.IsMap()) {
      r.error(root, "the config must be a YAML mapping");
    } else {
      r.check_keys(root, k_top_keys);
      if (root["storage"]) read_storage(r, root["storage"], c.storage);
      if (root["ha"]) read_ha(r, root["ha"], c.ha);
      if (root["http"]) read_http(r, root["http"], c.http);
      if (const auto d = root["defaults"]; d && r.expect_map(d, "defaults")) {
        r.check_keys(d, k_tuning_keys);
        read_tuning(r, d, c.defaults);
      }
      if (root["alerting"]) read_alerting(r, root["alerting"], c.alerting);
      if (root["logging"]) read_logging(r, root["logging"], c.logging);
      std::set<std::string> names;
      read_list(r, root["accounts"], "accounts", c.accounts, [&](const YAML::Node& n) {
        auto a = read_account(r, n, c.defaults);
        check_name(r, n, a.name, names, "account");
        return a;
      });
      std::set<std::string> notifier_names;
      read_list(r, root["notifiers"], "notifiers", c.notifiers, [&](const YAML::Node& n) {
        auto notifier = read_notifier(r, n);
        check_name(r, n, notifier.name, notifier_names, "notifier");
        return notifier;
      });
      std::set<std::string> heartbeat_names;
      read_list(r, root["heartbeats"], "heartbeats", c.heartbeats, [&](const YAML::Node& n) {
        auto heartbeat = read_heartbeat(r, n);
        check_name(r, n, heartbeat.name, heartbeat_names, "heartbeat");
        return heartbeat;
      });
      if (root["routes"]) read_routes(r, root["routes"], c.routes);
      if (root["escalate"]) read_escalation(r, root["escalate"], c.escalate);
      if (root["digest"]) read_digest(r, root["digest"], c.digest.emplace());
      std::set<std::string> window_names;
      read_list(r, root["maintenance"], "maintenance", c.maintenance, [&](const YAML::Node& n) {
        auto window = read_maintenance_window(r, n);
        check_name(r, n, window.name, window_names, "maintenance window");
        return window;
      });
      if (r.errors().empty()) check_routing(r, c, root["accounts"]);
      if (r.errors().empty()) check_route_notifiers(r, c, root);
      if (r.errors().empty()) check_digest(r, c, root["digest"]);
      if (r.errors().empty()) check_retention(r, c, root);
    }
  }
  if (c.accounts.empty() && r.errors().empty()) r.error(root, "no accounts configured");
  r.throw_if_errors();
  return c;
}

std::string default_config_path() {
  if (const char* env = std::getenv("CREDITWATCH_CONFIG"); env && *env) return env;
  return "/etc/creditwatch/creditwatch.yaml";
}

}  // namespace creditwatch::config
