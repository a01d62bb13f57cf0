#pragma once

#include <string>

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
