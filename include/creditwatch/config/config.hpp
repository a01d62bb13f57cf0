#pragma once

#include "creditwatch/alerts/matcher.hpp"
#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"
#include "creditwatch/common/secret.hpp"
#include "creditwatch/common/time_zone.hpp"
#include "creditwatch/common/weekly_window.hpp"
#include "creditwatch/config/source_location.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace creditwatch::config {

// A provider- or notifier-specific key, kept as text with its location. The provider or
// notifier that owns the key validates and converts it (see providers/factory.cpp), so the
// config layer need not know every provider.
struct Setting {
  std::string value;          // scalar text after ${VAR} substitution; "" for maps/lists
  std::vector<std::string> items;               // for lists
  std::map<std::string, std::string> entries;   // for maps (e.g. headers)
  bool is_secret = false;     // came from a *_file key or names a credential
  SourceLocation where;

  bool operator==(const Setting&) const = default;
};
using Settings = std::map<std::string, Setting>;

// The longest burn_window that can work: the forecaster keeps five weeks of hourly spend
// (forecast::SpendLedger::k_max_buckets; test_config_config checks the two agree).
inline constexpr Duration k_max_burn_window = std::chrono::hours(24 * 35);

// Forecast and schedule knobs; `defaults:` sets them, each account may override them.
struct Tuning {
  Duration interval = std::chrono::minutes(5);
  Duration timeout = std::chrono::seconds(15);
  Duration burn_window = std::chrono::hours(24 * 7);
  Duration stale_after = std::chrono::minutes(0);  // 0: three intervals
  double warn_days = 14;
  double critical_days = 3;
  double target_days = 30;
  Duration topup_lead_time = std::chrono::hours(48);
  // Percent of the account's budget, credit or `percent_of` amount left under which
  // min_balance warns / pages; unset: no percentage threshold.
  std::optional<double> warn_percent_left;
  std::optional<double> critical_percent_left;

  bool operator==(const Tuning&) const = default;
};

struct AccountConfig {
  std::string name;
  std::string provider;
  Secret api_key;
  std::string base_url;                       // empty: the provider's default
  std::optional<std::string> currency;        // which currency the rules use
  std::optional<Decimal> min_balance;          // critical floor (`min_balance: 2` or `{critical: 2}`)
  std::optional<Decimal> min_balance_warning;  // warning floor (`min_balance: {warning: 10}`)
  // What the percentage thresholds are a percentage of: `percent_of`, else the spend-only
  // providers' `budget` or `credit`.
  std::optional<Decimal> percent_of;
  std::map<std::string, std::string> labels;
  std::vector<std::string> notify;            // empty: every notifier
  Tuning tuning;
  Settings settings;                          // provider-specific keys
  SourceLocation where;

  bool operator==(const AccountConfig&) const = default;
};

// The amount the percentage thresholds of `account` are a percentage of, if it has one.
std::optional<Decimal> percent_reference(const AccountConfig& account);

struct NotifierConfig {
  std::string name;
  std::string type;
  std::string min_severity = "info";
  Settings settings;
  SourceLocation where;

  bool operator==(const NotifierConfig&) const = default;
};

// One entry of `routes:`: a notification whose alert matches `match` goes to `notify`. Routes
// are tried in order and the first that matches wins, unless it says `continue: true`; an
// empty `match` matches every alert (a catch-all). An account's own `notify` list wins over
// every route (config/routing.hpp decides).
struct RouteConfig {
  alerts::Matchers match;
  std::map<std::string, SourceLocation> match_where;  // each condition's key, for validate's warnings
  std::vector<std::string> notify;                     // may be empty: what matches goes nowhere
  bool continue_matching = false;                      // `continue:`
  SourceLocation where;

  bool operator==(const RouteConfig& other) const {
    return match.conditions() == other.match.conditions() && match_where == other.match_where &&
           notify == other.notify && continue_matching == other.continue_matching && where == other.where;
  }
};

// One step of `escalate:`: a firing alert nobody acknowledged or silenced that has been at or
// above `min_severity` for `after` is sent to `notify` too, once per firing episode.
struct EscalationStep {
  Duration after{};
  std::vector<std::string> notify;
  alerts::Severity min_severity = alerts::Severity::warning;
  SourceLocation where;

  bool operator==(const EscalationStep&) const = default;
};

struct StorageConfig {
  std::string path;  // SQLite file; empty when `url` is set (the two are exclusive)
  // PostgreSQL connection URI (postgresql:// or postgres://), from url or url_file. It may
  // hold a password: log it only through redact_database_url (common/database_url.hpp).
  std::optional<std::string> url;
  // Raw readings are kept this long, then rolled up into hourly rows kept for `retention`.
  Duration raw_retention = std::chrono::hours(24 * 35);
  Duration retention = std::chrono::hours(24 * 400);
  std::uint64_t max_size = 0;  // bytes the database may grow to; 0: no cap

  bool operator==(const StorageConfig&) const = default;
};

// Replicas sharing one PostgreSQL database (`ha:`).
inline constexpr Duration k_min_lease = std::chrono::seconds(3);
struct HaConfig {
  std::string replica_id;  // empty: default_replica_id(), decided when the process starts
  Duration lease = std::chrono::seconds(15);  // an owner silent this long loses its accounts

  bool operator==(const HaConfig&) const = default;
};

// One dead man's switch URL (`heartbeats:`): GET `url` every `interval` while /healthz is
// ok, `fail_url` (if any) while it is not. Both are secrets; "{replica}" in them stands for
// the replica id (with_replica()).
inline constexpr Duration k_min_heartbeat_interval = std::chrono::seconds(10);
struct HeartbeatConfig {
  std::string name;
  Secret url;
  Secret fail_url;  // empty: nothing is sent while unhealthy (the silence is the signal)
  Duration interval = std::chrono::minutes(1);
  SourceLocation where;

  bool operator==(const HeartbeatConfig&) const = default;
};

// A maintenance window (`maintenance:`): a recurring silence. While `when` holds, the
// alerts `match` selects (`name: value-or-glob`, read with alerts::Matchers; empty: every
// alert) still fire and show, but their notifications wait (scheduler/maintenance.hpp).
struct MaintenanceWindow {
  std::string name;
  WeeklyWindow when;  // no `days`: every day; no `timezone`: UTC
  std::map<std::string, std::string> match;
  SourceLocation where;

  bool operator==(const MaintenanceWindow&) const = default;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:9477";  // "off" disables
  std::string auth_token;                 // from auth_token_file; empty: no auth

  bool operator==(const HttpConfig&) const = default;
};

struct AlertingConfig {
  Duration repeat_interval = std::chrono::hours(24);
  bool send_resolved = true;
  Duration retry_initial = std::chrono::seconds(1);
  Duration retry_max = std::chrono::minutes(5);
  Duration dead_after = std::chrono::hours(24);

  bool operator==(const AlertingConfig&) const = default;
};

// `digest:` one report per period (spend, deposits, runway, alerts, top-ups) to `notify`.
// Its times are `at` on the wall clock of `timezone`, every `every` from the first `at` after
// the Unix epoch (scheduler/digest_schedule.hpp computes them).
struct DigestConfig {
  Duration every = std::chrono::hours(24 * 7);
  std::optional<int> weekday;  // 0 Sunday .. 6 Saturday; nullopt: `at` names a time of day only
  Duration time_of_day = std::chrono::hours(9);
  TimeZone timezone;                // from the tz database; UTC by default
  std::vector<std::string> notify;  // notifier names; incident tools (PagerDuty...) refused at load
  std::string group_by;             // a label key to group accounts by; empty: one list
  SourceLocation where;

  bool operator==(const DigestConfig&) const = default;
};

struct LoggingConfig {
  std::string level = "info";
  std::string format = "text";  // text | json

  bool operator==(const LoggingConfig&) const = default;
};

struct Config {
  std::string source_file;
  StorageConfig storage;
  HaConfig ha;
  HttpConfig http;
  Tuning defaults;
  AlertingConfig alerting;
  LoggingConfig logging;
  std::vector<AccountConfig> accounts;
  std::vector<NotifierConfig> notifiers;
  std::vector<HeartbeatConfig> heartbeats;
  std::vector<RouteConfig> routes;
  std::vector<EscalationStep> escalate;
  std::optional<DigestConfig> digest;
  std::vector<MaintenanceWindow> maintenance;

  // Member by member, so a reload can tell what changed (app/config_changes.cpp).
  bool operator==(const Config&) const = default;
  const AccountConfig* find_account(const std::string& name) const;
  // Every credential in the config, for redaction of text that came from outside.
  std::vector<std::string> secrets() const;
};

// Reads and validates FILE. Throws ConfigErrors listing every problem with its location.
// `environment` resolves ${VAR}; by default the process environment.
Config load_config(const std::string& path);

// "HOSTNAME-PID": the replica id when ha.replica_id is not set. The same all process long.
std::string default_replica_id();

// This process's replica id: ha.replica_id, else default_replica_id().
std::string replica_id(const HaConfig& ha);

// `text` (a heartbeat URL) with each "{replica}" replaced by `replica_id`, percent-encoded.
std::string with_replica(const std::string& text, const std::string& replica_id);

// The config path when none is given: $CREDITWATCH_CONFIG, else /etc/creditwatch/creditwatch.yaml.
std::string default_config_path();

}  // namespace creditwatch::config
