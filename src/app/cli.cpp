#include "creditwatch/app/app.hpp"
#include "creditwatch/app/commands.hpp"
#include "creditwatch/app/logging.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/storage/sqlite/database.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

namespace creditwatch::app {
namespace {

// Exit code for a command that could not even start: UNKNOWN for check, 1 otherwise.
int startup_failure_code(const CLI::App& check) { return check.parsed() ? 3 : 1; }

}  // namespace

int run(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App cli{"creditwatch: keeps prepaid API accounts from running dry"};
  cli.require_subcommand(0, 1);
  bool show_version = false;
  cli.add_flag("--version", show_version, "print the version and the libcurl and SQLite versions");
  std::string log_level;
  cli.add_option("--log-level", log_level, "trace, debug, info, warn or error (default: logging.level, else warn)");

  std::string config_path = config::default_config_path();
  auto add_config = [&config_path](CLI::App* sub) {
    sub->add_option("-c,--config", config_path, "config file ($CREDITWATCH_CONFIG, else /etc/creditwatch/creditwatch.yaml)");
  };

  auto* run_daemon = cli.add_subcommand("run", "the daemon: probe on schedule, alert, deliver notifications");
  add_config(run_daemon);

  CheckOptions check_options;
  auto* check = cli.add_subcommand("check", "probe every (or one) account now; Nagios exit codes");
  add_config(check);
  check->add_option("--account", check_options.account, "only this account");
  check->add_flag("--json", check_options.json, "print JSON instead of a table");

  StatusOptions status_options;
  auto* status = cli.add_subcommand("status", "show what the database knows: balances, runway, alerts (no probes)");
  add_config(status);
  status->add_option("--account", status_options.account, "only this account");
  status->add_flag("--json", status_options.json, "print JSON instead of a table");

  std::string notifier_name;
  auto* test_notify = cli.add_subcommand("test-notify", "send a clearly marked test notification through one notifier");
  add_config(test_notify);
  test_notify->add_option("NOTIFIER", notifier_name, "the notifier's name")->required();

  BacktestOptions backtest_options;
  auto* backtest = cli.add_subcommand("backtest", "replay a timestamp,balance CSV through the forecaster and rules");
  add_config(backtest);
  backtest->add_option("--account", backtest_options.account, "the account whose settings to use")->required();
  backtest->add_option("--csv", backtest_options.csv_path, "the trace: header timestamp,balance")->required();
  backtest->add_flag("--json", backtest_options.json, "one JSON object per line");
  backtest->add_flag("--series", backtest_options.series, "with --json, also one line per sample");
  backtest->add_flag("--repeats", backtest_options.repeats,
                     "also print the reminders a still-firing alert re-sends every repeat_interval");

  MigrateOptions migrate_options;
  auto* migrate = cli.add_subcommand("migrate", "copy the SQLite database (storage.path) into an empty PostgreSQL one");
  add_config(migrate);
  auto* to_url = migrate->add_option("--to", migrate_options.to_url, "the PostgreSQL database: postgresql://...");
  migrate->add_option("--to-file", migrate_options.to_file, "a file holding that URL (keeps the password off the command line)")
      ->excludes(to_url);

  // Operator controls: they talk to the running daemon's API.
  auto add_target = [&](CLI::App* sub, OperatorOptions& target) {
    add_config(sub);
    sub->add_option("--url", target.url, "the daemon's address (default: http.listen from the config, on loopback)");
    sub->add_option("--token-file", target.token_file, "a file holding the API token (default: http.auth_token)");
  };
  auto* silence = cli.add_subcommand("silence", "silences: hold the notifications of matching alerts for a while");
  silence->require_subcommand(1);
  SilenceAddOptions silence_add_options;
  auto* silence_add = silence->add_subcommand("add", "create a silence; prints its id");
  add_target(silence_add, silence_add_options.target);
  silence_add->add_option("MATCHER", silence_add_options.matchers,
                          "NAME=VALUE, NAME account, provider, rule, severity or a label; VALUE exact or a glob with *")
      ->required();
  auto* duration = silence_add->add_option("-d,--duration", silence_add_options.duration, "how long (default 2h)");
  silence_add->add_option("--until", silence_add_options.until, "the end, RFC 3339 (instead of --duration)")
      ->excludes(duration);
  silence_add->add_option("--start", silence_add_options.start, "the start, RFC 3339 (default now)");
  silence_add->add_option("--comment", silence_add_options.comment, "why (shown with the silence)")->required();
  silence_add->add_option("--author", silence_add_options.author, "who (default $USER)");
  SilenceListOptions silence_list_options;
  auto* silence_list = silence->add_subcommand("list", "list the active and pending silences");
  add_target(silence_list, silence_list_options.target);
  silence_list->add_flag("--all", silence_list_options.all, "also the expired ones");
  silence_list->add_flag("--json", silence_list_options.json, "print the API's JSON");
  SilenceExpireOptions silence_expire_options;
  auto* silence_expire = silence->add_subcommand("expire", "end silences now");
  add_target(silence_expire, silence_expire_options.target);
  silence_expire->add_option("ID", silence_expire_options.ids, "the silences' ids")->required();

  AckOptions ack_options;
  auto* ack = cli.add_subcommand("ack", "acknowledge a firing alert: no more reminders or escalation until it changes");
  add_target(ack, ack_options.target);
  ack->add_option("ACCOUNT", ack_options.account, "the account")->required();
  ack->add_option("RULE", ack_options.rule, "the rule (runway, min_balance, exhausted, ...)")->required();
  ack->add_option("--by", ack_options.by, "who (default $USER)");
  ack->add_option("--comment", ack_options.comment, "why, e.g. \"top-up ordered\"");
  ack->add_flag("--undo", ack_options.undo, "take the acknowledgement back");
  DigestOptions digest_options;
  auto* digest = cli.add_subcommand("digest", "the periodic report (digest:) of the period ending now: print or send it");
  add_config(digest);
  digest->add_flag("--dry-run", digest_options.dry_run, "print it instead of sending it");
  digest->add_flag("--json", digest_options.json, "with --dry-run, print the webhook's JSON instead of text")
      ->needs(digest->get_option("--dry-run"));

  auto* validate = cli.add_subcommand("validate", "check the config file; exit 0 valid, 1 invalid");
  add_config(validate);
  RoutesOptions routes_options;
  auto* routes = cli.add_subcommand("routes", "show which notifiers an alert would go to, and which route sends it");
  add_config(routes);
  routes->add_option("--account", routes_options.account, "the account")->required();
  routes->add_option("--rule", routes_options.rule, "runway, min_balance, exhausted, key_invalid, stale, ...")->required();
  routes->add_option("--severity", routes_options.severity, "info, warning or critical")->required();
  auto* list_providers = cli.add_subcommand("providers", "list every provider, what it reads and its config keys");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    // Bad arguments: UNKNOWN for check (a Nagios runner reads 3 as "could not check"),
    // 1 for every other command, never CLI11's own codes.
    if (code == 0) return 0;
    return argc > 1 && std::string(argv[1]) == "check" ? 3 : 1;
  }
  setup_logging(log_level.empty() ? (run_daemon->parsed() ? "info" : "warn") : log_level, "text");

  try {
    if (show_version) return version_command();
    if (run_daemon->parsed()) return run_command({config_path, log_level});
    if (check->parsed()) {
      check_options.config_path = config_path;
      return check_command(check_options);
    }
    if (validate->parsed()) return validate_command(config_path);
    if (status->parsed()) {
      status_options.config_path = config_path;
      return status_command(status_options);
    }
    if (test_notify->parsed()) return test_notify_command(config_path, notifier_name);
    if (backtest->parsed()) {
      backtest_options.config_path = config_path;
      return backtest_command(backtest_options);
    }
    if (migrate->parsed()) {
      migrate_options.config_path = config_path;
      return migrate_command(migrate_options);
    }
    if (routes->parsed()) {
      routes_options.config_path = config_path;
      return routes_command(routes_options);
    }
    if (digest->parsed()) {
      digest_options.config_path = config_path;
      return digest_command(digest_options);
    }
    if (list_providers->parsed()) return providers_command();
    for (auto* options : {&silence_add_options.target, &silence_list_options.target, &silence_expire_options.target,
                          &ack_options.target}) {
      options->config_path = config_path;
    }
    if (silence_add->parsed()) return silence_add_command(silence_add_options);
    if (silence_list->parsed()) return silence_list_command(silence_list_options);
    if (silence_expire->parsed()) return silence_expire_command(silence_expire_options);
    if (ack->parsed()) return ack_command(ack_options);
    std::cout << cli.help();
    return 0;
  } catch (const config::ConfigErrors& e) {
    for (const auto& error : e.errors()) std::cerr << error.to_string() << "\n";
    return startup_failure_code(*check);
  } catch (const std::exception& e) {
    std::cerr << "creditwatch: " << e.what() << "\n";
    return startup_failure_code(*check);
  }
}

}  // namespace creditwatch::app
