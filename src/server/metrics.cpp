#include "creditwatch/server/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace creditwatch::server {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Appends `value` as Prometheus reads it back: whole numbers (counts, whole-second
// timestamps) without an exponent ("1777593600"), others in their shortest round-trip form
// ("0.05", not "0.050000000000000003").
void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[64];
  const auto end = std::abs(value) < 1e15 && value == std::trunc(value)
                       ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value)).ptr
                       : std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out.append(buffer, end);
}

std::string number(double value) {
  std::string out;
  append_number(out, value);
  return out;
}

void append_escaped(std::string& out, const std::string& value) {
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
}

// Label names must match [a-zA-Z_][a-zA-Z0-9_]*; user labels are sanitised to fit.
std::string label_name(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out = "_" + out;
  return out;
}

// The exposition is appended to one string: a scrape of 5,000 accounts writes ~15,000
// lines, so no line may cost a stream or a vector of its own.
class Writer {
public:
  Writer() { m_out.reserve(1 << 16); }
  void family(const std::string& name, const std::string& type, const std::string& help) {
    m_out += "# HELP ";
    m_out += name;
    m_out += ' ';
    m_out += help;
    m_out += "\n# TYPE ";
    m_out += name;
    m_out += ' ';
    m_out += type;
    m_out += '\n';
  }
  void sample(const std::string& name, const Labels& labels, double value) {
    m_out += name;
    if (!labels.empty()) {
      m_out += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) m_out += ',';
        label(labels[i].first, labels[i].second);
      }
      m_out += '}';
    }
    value_and_end(value);
  }
  // A sample whose label text (without braces) is already written and escaped.
  void sample_with(const std::string& name, const std::string& label_text, double value) {
    m_out += name;
    m_out += '{';
    m_out += label_text;
    m_out += '}';
    value_and_end(value);
  }
  std::string take() { return std::move(m_out); }

private:
  void label(const std::string& name, const std::string& value) {
    m_out += name;
    m_out += "=\"";
    append_escaped(m_out, value);
    m_out += '"';
  }
  void value_and_end(double value) {
    m_out += ' ';
    append_number(m_out, value);
    m_out += '\n';
  }
  std::string m_out;
};

// Accounts removed by a reload leave the exposition (their telemetry and stored alerts
// outlive them), so Prometheus sees their series go stale instead of frozen.
bool configured(const MetricsSnapshot& s, const std::string& account) { return s.labels.count(account) > 0; }

// `account="A",provider="P"[,currency="C"]` and the account's configured labels, escaped.
void account_label_text(std::string& out, const scheduler::AssessmentSummary& a, const MetricsSnapshot& s,
                        const std::string* currency) {
  out.clear();
  out += "account=\"";
  append_escaped(out, a.account);
  out += "\",provider=\"";
  append_escaped(out, a.provider);
  out += '"';
  if (currency) {
    out += ",currency=\"";
    append_escaped(out, *currency);
    out += '"';
  }
  if (auto it = s.labels.find(a.account); it != s.labels.end()) {
    for (const auto& [k, v] : it->second) {
      const std::string name = label_name(k);
      if (name == "account" || name == "provider" || name == "currency") continue;
      out += ',';
      out += name;
      out += "=\"";
      append_escaped(out, v);
      out += '"';
    }
  }
}

void write_gauges(Writer& w, const MetricsSnapshot& s) {
  std::string labels;
  w.family("creditwatch_balance", "gauge", "Latest balance of the account, in its currency.");
  for (const auto& [name, a] : s.latest) {
    if (!configured(s, name)) continue;
    for (const auto& b : a.balances) {
      account_label_text(labels, a, s, &b.currency);
      w.sample_with("creditwatch_balance", labels, b.balance.to_double());
    }
  }
  w.family("creditwatch_burn_rate_per_day", "gauge", "Estimated spend per day, deposits excluded.");
  for (const auto& [name, a] : s.latest) {
    if (configured(s, name) && a.forecast && a.forecast->burn_per_day) {
      account_label_text(labels, a, s, &a.currency);
      w.sample_with("creditwatch_burn_rate_per_day", labels, *a.forecast->burn_per_day);
    }
  }
  w.family("creditwatch_runway_days", "gauge", "Projected days until the balance reaches zero (median estimate).");
  for (const auto& [name, a] : s.latest) {
    if (configured(s, name) && a.forecast && a.forecast->runway_days) {
      account_label_text(labels, a, s, &a.currency);
      w.sample_with("creditwatch_runway_days", labels, *a.forecast->runway_days);
    }
  }
  // Only once the account has enough history to judge its own forecasts.
  w.family("creditwatch_forecast_p10_coverage", "gauge",
           "Share of the account's earlier forecasts where spend outran the P10 runway (calibrated: 0.1).");
  for (const auto& [name, a] : s.latest) {
    if (configured(s, name) && a.forecast && a.forecast->track_record) {
      account_label_text(labels, a, s, nullptr);
      w.sample_with("creditwatch_forecast_p10_coverage", labels,
                    scheduler::expand(*a.forecast->track_record).p10_coverage);
    }
  }
}

void write_probe_metrics(Writer& w, const MetricsSnapshot& s) {
  if (!s.telemetry) return;
  std::string labels;
  const auto probe_labels = [&](const std::string& account, const std::string& provider) {
    labels.clear();
    labels += "account=\"";
    append_escaped(labels, account);
    labels += "\",provider=\"";
    append_escaped(labels, provider);
    labels += '"';
  };
  w.family("creditwatch_last_success_timestamp_seconds", "gauge", "Unix time of the last successful probe.");
  s.telemetry->visit_accounts([&](const std::string& account, const Telemetry::AccountProbes& probes) {
    if (!probes.last_success || !configured(s, account)) return;
    probe_labels(account, probes.provider);
    w.sample_with("creditwatch_last_success_timestamp_seconds", labels, *probes.last_success);
  });
  w.family("creditwatch_probe_duration_seconds", "histogram", "Time taken by each probe, by provider.");
  for (const auto& [provider, h] : s.telemetry->durations()) {
    for (std::size_t i = 0; i < Telemetry::k_duration_buckets.size(); ++i) {
      w.sample("creditwatch_probe_duration_seconds_bucket",
               {{"provider", provider}, {"le", number(Telemetry::k_duration_buckets[i])}},
               static_cast<double>(h.buckets[i]));
    }
    w.sample("creditwatch_probe_duration_seconds_bucket", {{"provider", provider}, {"le", "+Inf"}},
             static_cast<double>(h.count));
    w.sample("creditwatch_probe_duration_seconds_sum", {{"provider", provider}}, h.sum);
    w.sample("creditwatch_probe_duration_seconds_count", {{"provider", provider}}, static_cast<double>(h.count));
  }
  w.family("creditwatch_probe_failures_total", "counter", "Failed probes by error kind.");
  s.telemetry->visit_accounts([&](const std::string& account, const Telemetry::AccountProbes& probes) {
    if (probes.failures.empty() || !configured(s, account)) return;
    for (const auto& [kind, count] : probes.failures) {
      probe_labels(account, probes.provider);
      labels += ",kind=\"";
      append_escaped(labels, kind);
      labels += '"';
      w.sample_with("creditwatch_probe_failures_total", labels, static_cast<double>(count));
    }
  });
}

void write_alerts_and_notifications(Writer& w, const MetricsSnapshot& s) {
  w.family("creditwatch_alerts_firing", "gauge",
           "1 for each alert currently firing; silenced=\"true\" while a silence holds its notifications.");
  for (const auto& a : s.alerts) {
    if (a.state != "firing" || !configured(s, a.account)) continue;
    const bool silenced = s.silenced.count({a.account, a.rule}) > 0;
    w.sample("creditwatch_alerts_firing",
             {{"account", a.account}, {"rule", a.rule}, {"severity", a.severity}, {"silenced", silenced ? "true" : "false"}},
             1);
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
  append_escaped(out, value);
  return out;
}

std::string render_metrics(const MetricsSnapshot& snapshot) {
  Writer w;
  write_gauges(w, snapshot);
  write_probe_metrics(w, snapshot);
  write_alerts_and_notifications(w, snapshot);
  write_heartbeats(w, snapshot);
  write_replica(w, snapshot);
  return w.take();
}

}  // namespace creditwatch::server
