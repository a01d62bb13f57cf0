#pragma once

#include <string>
#include <vector>

namespace creditwatch::app {

struct CheckOptions {
  std::string config_path;
  std::string account;  // empty: every account
  bool json = false;
};

struct RunOptions {
  std::string config_path;
  std::string log_level;  // empty: logging.level from the config
};

int run_command(const RunOptions& options);
int check_command(const CheckOptions& options);
int test_notify_command(const std::string& config_path, const std::string& notifier);

struct StatusOptions {
  std::string config_path;
  std::string account;
  bool json = false;
};
int status_command(const StatusOptions& options);

struct BacktestOptions {
  std::string config_path;
  std::string account;
  std::string csv_path;
  bool json = false;
  bool series = false;
  bool repeats = false;  // also the reminders alerting.repeat_interval re-sends
};
int backtest_command(const BacktestOptions& options);

// `migrate`: the config's SQLite database (storage.path) copied into an empty PostgreSQL one.
struct MigrateOptions {
  std::string config_path;
  std::string to_url;   // --to: a postgresql:// URL (it may hold a password)
  std::string to_file;  // --to-file: a file holding that URL, so no password is on the command line
};
int migrate_command(const MigrateOptions& options);

// Where the operator commands find the running daemon: the config's http.listen and
// http.auth_token, or --url and --token-file.
struct OperatorOptions {
  std::string config_path;
  std::string url;
  std::string token_file;
};

struct SilenceAddOptions {
  OperatorOptions target;
  std::vector<std::string> matchers;  // NAME=VALUE, VALUE exact or a glob with *
  std::string duration = "2h";
  std::string until;  // RFC 3339; wins over duration
  std::string start;  // RFC 3339; default now
  std::string comment;
  std::string author;  // default $USER
};
int silence_add_command(const SilenceAddOptions& options);

struct SilenceListOptions {
  OperatorOptions target;
  bool all = false;  // also expired silences
  bool json = false;
};
int silence_list_command(const SilenceListOptions& options);

struct SilenceExpireOptions {
  OperatorOptions target;
  std::vector<std::string> ids;
};
int silence_expire_command(const SilenceExpireOptions& options);

struct AckOptions {
  OperatorOptions target;
  std::string account;
  std::string rule;
  std::string by;  // default $USER
  std::string comment;
  bool undo = false;  // take the acknowledgement back
};
int ack_command(const AckOptions& options);

// `routes`: which notifiers a notification about ACCOUNT's RULE at SEVERITY goes to, and why.
struct RoutesOptions {
  std::string config_path;
  std::string account;
  std::string rule;
  std::string severity;
};
int routes_command(const RoutesOptions& options);

// Exit 0 with warnings (printed as FILE:LINE:COL: warning: ...) when the config is valid.
// `digest`: the report of the period that ends now (digest.every long, a week without
// `digest:`), printed (--dry-run: text, or with --json the webhook's JSON) or sent at once
// through each notifier of digest.notify.
struct DigestOptions {
  std::string config_path;
  bool dry_run = false;
  bool json = false;
};
int digest_command(const DigestOptions& options);

int validate_command(const std::string& config_path);
int providers_command();
int version_command();

}  // namespace creditwatch::app
