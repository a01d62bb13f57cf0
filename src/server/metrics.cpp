#include "creditwatch/server/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace creditwatch::server {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  // Whole numbers (counts, whole-second timestamps) without an exponent: "1777593600".
  if (std::abs(value) < 1e15 && value == std::trunc(value)) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  // Otherwise the shortest form that reads back as the same double: "0.05", not
  // "0.050000000000000003".
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

// Label names must match [a-zA-Z_][a-zA-Z0-9_]*; user labels are sanitised to fit.
std::string label_name(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out = "_" + out;
  return out;
}

class Writer {
public:
  void family(const std::string& name, const std::string& type, const std::string& help) {
    m_out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  void sample(const std::string& name, const Labels& labels, double value) {
    m_out << name;
    if (!labels.empty()) {
      m_out << "{";
      for (std::size_t i = 0; i < labels.size(); ++i) {
        m_out << (i ? "," : "") << labels[i].first << "=\"" << escape_label(labels[i].second) << "\"";
      }
      m_out << "}";
    }
    m_out << " " << number(value) << "\n";
  }
  std::string text() const { return m_out.str(); }

private:
  std::ostringstream m_out;
};

// Accounts removed by a reload leave the exposition (their telemetry and stored alerts
// outlive them), so Prometheus sees their series go stale instead of frozen.
bool configured(const MetricsSnapshot& s, const std::string& account) { return s.labels.count(account) > 0; }

Labels account_labels(const scheduler::Assessment& a, const MetricsSnapshot& s, bool with_currency) {
  Labels labels = {{"account", a.account}, {"provider", a.provider}};
  if (with_currency) labels.emplace_back("currency", a.currency);
  if (auto it = s.labels.find(a.account); it != s.labels.end()) {
    for (const auto& [k, v] : it->second) {
      const std::string name = label_name(k);
      if (name == "account" || name == "provider" || name == "currency") continue;
      labels.emplace_back(name, v);
    }
  }
  return labels;
}

void write_gauges(Writer& w, const MetricsSnapshot& s) {
  w.family("creditwatch_balance", "gauge", "Latest balance of the account, in its currency.");
  for (const auto& [name, a] : s.latest) {
    if (!configured(s, name)) continue;
    for (const auto& b : a.balances) {
      auto labels = account_labels(a, s, false);
      labels.insert(labels.begin() + 2, {"currency", b.currency});
      w.sample("creditwatch_balance", labels, b.balance.to_double());
    }
  }
  w.family("creditwatch_burn_rate_per_day", "gauge", "Estimated spend per day, deposits excluded.");
  for (const auto& [name, a] : s.latest) {
    if (configured(s, name) && a.forecast && a.forecast->burn_per_day) {
      w.sample("creditwatch_burn_rate_per_day", account_labels(a, s, true), *a.forecast->burn_per_day);
    }
  }
  w.family("creditwatch_runway_days", "gauge", "Projected days until the balance reaches zero (median estimate).");
  for (const auto& [name, a] : s.latest) {
    if (configured(s, name) && a.forecast && a.forecast->runway_days) {
      w.sample("creditwatch_runway_days", account_labels(a, s, true), *a.forecast->runway_days);
    }
  }
}

void write_probe_metrics(Writer& w, const MetricsSnapshot& s) {
  if (!s.telemetry) return;
  w.family("creditwatch_last_success_timestamp_seconds", "gauge", "Unix time of the last successful probe.");
  for (const auto& [key, seconds] : s.telemetry->last_success()) {
    if (!configured(s, key.first)) continue;
    w.sample("creditwatch_last_success_timestamp_seconds", {{"account", key.first}, {"provider", key.second}}, seconds);
  }
  w.family("creditwatch_probe_duration_seconds", "histogram", "Time taken by each probe.");
  for (const auto& [key, h] : s.telemetry->durations()) {
    if (!configured(s, key.first)) continue;
    for (std::size_t i = 0; i < Telemetry::k_duration_buckets.size(); ++i) {
      w.sample("creditwatch_probe_duration_seconds_bucket",
               {{"account", key.first}, {"provider", key.second}, {"le", number(Telemetry::k_duration_buckets[i])}},
               static_cast<double>(h.buckets[i]));
    }
    w.sample("creditwatch_probe_duration_seconds_bucket",
             {{"account", key.first}, {"provider", key.second}, {"le", "+Inf"}}, static_cast<double>(h.count));
    w.sample("creditwatch_probe_duration_seconds_sum", {{"account", key.first}, {"provider", key.second}}, h.sum);
    w.sample("creditwatch_probe_duration_seconds_count", {{"account", key.first}, {"provider", key.second}},
             static_cast<double>(h.count));
  }
  w.family("creditwatch_probe_failures_total", "counter", "Failed probes by error kind.");
  for (const auto& [key, count] : s.telemetry->failures()) {
    if (!configured(s, std::get<0>(key))) continue;
    w.sample("creditwatch_probe_failures_total",
             {{"account", std::get<0>(key)}, {"provider", std::get<1>(key)}, {"kind", std::get<2>(key)}},
             static_cast<double>(count));
  }
}

void write_alerts_and_notifications(Writer& w, const MetricsSnapshot& s) {
  w.family("creditwatch_alerts_firing", "gauge", "1 for each alert currently firing.");
  for (const auto& a : s.alerts) {
    if (a.state != "firing" || !configured(s, a.account)) continue;
    w.sample("creditwatch_alerts_firing", {{"account", a.account}, {"rule", a.rule}, {"severity", a.severity}}, 1);
  }
  w.family("creditwatch_notifications_total", "counter", "Notification delivery attempts by notifier and result.");
  for (const auto& [notifier, c] : s.deliveries) {
    w.sample("creditwatch_notifications_total", {{"notifier", notifier}, {"result", "delivered"}},
             static_cast<double>(c.delivered));
    w.sample("creditwatch_notifications_total", {{"notifier", notifier}, {"result", "retried"}},
             static_cast<double>(c.retried));
    w.sample("creditwatch_notifications_total", {{"notifier", notifier}, {"result", "dead"}},
             static_cast<double>(c.dead));
  }
  w.family("creditwatch_outbox_reclaimed_total", "counter",
           "Notifications sent again because the replica that had claimed them stopped mid-send: possible "
           "duplicates.");
  for (const auto& [notifier, c] : s.deliveries) {
    w.sample("creditwatch_outbox_reclaimed_total", {{"notifier", notifier}}, static_cast<double>(c.reclaimed));
  }
  w.family("creditwatch_storage_write_failures_total", "counter",
           "Database writes that failed (disk full, storage.max_size reached, I/O errors).");
  w.sample("creditwatch_storage_write_failures_total", {}, static_cast<double>(s.storage_write_failures));
}

void write_heartbeats(Writer& w, const MetricsSnapshot& s) {
  w.family("creditwatch_heartbeat_failures_total", "counter",
           "Heartbeat pings and watchdog posts that failed, by heartbeat (\"watchdog:NOTIFIER\" for watchdogs).");
  for (const auto& h : s.heartbeats) {
    w.sample("creditwatch_heartbeat_failures_total", {{"heartbeat", h.name}}, static_cast<double>(h.failures));
  }
  w.family("creditwatch_heartbeat_last_success_timestamp_seconds", "gauge",
           "Unix time of the last heartbeat ping or watchdog post that went through.");
  for (const auto& h : s.heartbeats) {
    if (!h.last_success) continue;
    w.sample("creditwatch_heartbeat_last_success_timestamp_seconds", {{"heartbeat", h.name}},
             static_cast<double>(to_unix_ms(*h.last_success)) / 1000.0);
  }
}

void write_replica(Writer& w, const MetricsSnapshot& s) {
  if (!s.replica) return;
  const auto& r = *s.replica;
  w.family("creditwatch_replica_accounts", "gauge", "Accounts this replica holds the lease of (and probes).");
  w.sample("creditwatch_replica_accounts", {{"replica", r.id}}, static_cast<double>(r.accounts));
  w.family("creditwatch_replica_lease_renewals_failed_total", "counter",
           "Lease renewals that could not reach the database.");
  w.sample("creditwatch_replica_lease_renewals_failed_total", {{"replica", r.id}},
           static_cast<double>(r.renewal_failures));
  w.family("creditwatch_replica_last_renewal_timestamp_seconds", "gauge",
           "Unix time of this replica's last successful lease renewal.");
  if (r.last_renewal) {
    w.sample("creditwatch_replica_last_renewal_timestamp_seconds", {{"replica", r.id}},
             static_cast<double>(to_unix_ms(*r.last_renewal)) / 1000.0);
  }
}

}  // namespace

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string render_metrics(const MetricsSnapshot& snapshot) {
  Writer w;
  write_gauges(w, snapshot);
  write_probe_metrics(w, snapshot);
  write_alerts_and_notifications(w, snapshot);
  write_heartbeats(w, snapshot);
  write_replica(w, snapshot);
  return w.text();
}

}  // namespace creditwatch::server
