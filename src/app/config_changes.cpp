#include "creditwatch/app/config_changes.hpp"

#include <algorithm>

namespace creditwatch::app {
namespace {

class ChangeList {
public:
  void note(bool differs, std::string what, bool live) {
    if (differs) m_changes.push_back({std::move(what), live});
  }
  std::vector<ConfigChange> take() { return std::move(m_changes); }

private:
  std::vector<ConfigChange> m_changes;
};

// The database stays open at its path; its size cap and retention are read on every use.
void storage_changes(const config::StorageConfig& a, const config::StorageConfig& b, ChangeList& changes) {
  changes.note(a.path != b.path, "storage.path", false);
  changes.note(a.max_size != b.max_size, "storage.max_size", true);
  changes.note(a.retention != b.retention, "storage.retention", true);
  auto rest = b;
  rest.path = a.path;
  rest.max_size = a.max_size;
  rest.retention = a.retention;
  changes.note(rest != a, "storage", false);
}

// The daemon rebinds the listener and swaps the token.
void http_changes(const config::HttpConfig& a, const config::HttpConfig& b, ChangeList& changes) {
  changes.note(a.listen != b.listen, "http.listen", true);
  changes.note(a.auth_token != b.auth_token, "http.auth_token", true);
  auto rest = b;
  rest.listen = a.listen;
  rest.auth_token = a.auth_token;
  changes.note(rest != a, "http", false);
}

// Where a setting was written does not change what the notifier does: lines move whenever
// an account is added above the notifiers.
bool same_settings(const config::Settings& a, const config::Settings& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.first == y.first && x.second.value == y.second.value && x.second.items == y.second.items &&
           x.second.entries == y.second.entries && x.second.is_secret == y.second.is_secret;
  });
}

}  // namespace

std::vector<ConfigChange> config_changes(const config::Config& a, const config::Config& b) {
  ChangeList changes;
  storage_changes(a.storage, b.storage, changes);
  http_changes(a.http, b.http, changes);
  // These travel in the runtime snapshot the scheduler, the alert engine and the outbox
  // take whole on reload, or are set again by it (logging).
  changes.note(a.defaults != b.defaults, "defaults", true);
  changes.note(a.alerting != b.alerting, "alerting", true);
  changes.note(a.logging != b.logging, "logging", true);
  changes.note(a.accounts != b.accounts, "accounts", true);
  changes.note(a.notifiers != b.notifiers, "notifiers", true);
  changes.note(a.heartbeats != b.heartbeats, "heartbeats", true);  // the pinger takes the new list
  changes.note(a.routes != b.routes, "routes", true);
  changes.note(a.escalate != b.escalate, "escalate", true);
  changes.note(a.digest != b.digest, "digest", true);  // the scheduler reads it from the runtime
  changes.note(a.maintenance != b.maintenance, "maintenance", true);
  auto rest = b;
  rest.source_file = a.source_file;
  rest.storage = a.storage;
  rest.http = a.http;
  rest.defaults = a.defaults;
  rest.alerting = a.alerting;
  rest.logging = a.logging;
  rest.accounts = a.accounts;
  rest.notifiers = a.notifiers;
  rest.heartbeats = a.heartbeats;
  rest.routes = a.routes;
  rest.escalate = a.escalate;
  rest.digest = a.digest;
  rest.maintenance = a.maintenance;
  changes.note(rest != a, "configuration (a section this version does not apply live)", false);
  return changes.take();
}

std::set<std::string> unchanged_notifiers(const config::Config& running, const config::Config& next) {
  std::set<std::string> out;
  for (const auto& n : next.notifiers) {
    auto same = std::find_if(running.notifiers.begin(), running.notifiers.end(),
                             [&](const config::NotifierConfig& r) { return r.name == n.name; });
    if (same == running.notifiers.end()) continue;
    if (same->type == n.type && same->min_severity == n.min_severity && same_settings(same->settings, n.settings)) {
      out.insert(n.name);
    }
  }
  return out;
}

}  // namespace creditwatch::app
