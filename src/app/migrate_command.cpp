// `creditwatch migrate --to URL -c FILE`: the config's SQLite database copied into an empty
// PostgreSQL database, the step from one process to replicas. The URL may hold a password:
// every message shows it through redact_database_url, and --to-file keeps it off the
// command line (and out of `ps`).
#include "creditwatch/app/commands.hpp"
#include "creditwatch/common/database_url.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/config/config.hpp"
#include "creditwatch/storage/copy.hpp"

#include "table.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace creditwatch::app {
namespace {

// Why the copy did not start or did not finish, in words for the operator (no password).
class MigrateFailure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

constexpr std::size_t k_max_url_bytes = 64 << 10;

std::string read_url_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw MigrateFailure("cannot read --to-file \"" + path + "\": " + std::strerror(errno));
  std::string text(k_max_url_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > k_max_url_bytes) throw MigrateFailure("--to-file \"" + path + "\" is larger than 64KiB");
  auto url = trim(text);
  if (url.empty()) throw MigrateFailure("--to-file \"" + path + "\" is empty");
  return url;
}

std::string target_url(const MigrateOptions& options) {
  if (options.to_url.empty() == options.to_file.empty()) {
    throw MigrateFailure("give the PostgreSQL database as --to URL or --to-file FILE (one of them)");
  }
  const bool from_file = !options.to_file.empty();
  auto url = from_file ? read_url_file(options.to_file) : options.to_url;
  // Not repeated: a URL that is not one may still hold a password.
  if (!is_database_url(url)) {
    throw MigrateFailure(std::string(from_file ? "the URL in --to-file" : "--to") +
                         " must start with postgresql:// or postgres://");
  }
  return url;
}

// The SQLite file the config names. A config on PostgreSQL already has nothing to migrate.
std::string source_path(const config::Config& config, const std::string& config_path) {
  if (config.storage.url) {
    throw MigrateFailure(config_path + " sets storage.url: it already uses PostgreSQL (migrate copies the SQLite "
                                       "database that storage.path names)");
  }
  const auto& path = config.storage.path;
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw MigrateFailure("no SQLite database at \"" + path + "\" (storage.path in " + config_path + "): nothing to copy");
  }
  return path;
}

// Progress on a terminal only: a log file would fill with one line per batch.
storage::CopyProgress progress_printer() {
  if (!isatty(STDERR_FILENO)) return {};
  return [](const storage::TableProgress& p) {
    std::cerr << "\rcopying " << p.table << ": " << p.copied << " of " << p.total << " rows" << (p.copied == p.total ? "\n" : "")
              << std::flush;
  };
}

void print_summary(const storage::CopySummary& summary, const std::string& from, const std::string& to,
                   double seconds) {
  char took[32];
  std::snprintf(took, sizeof took, "%.1f", seconds);
  std::cout << "copied " << from << " into " << to << " in " << took << " s\n";
  Table table({"TABLE", "ROWS"});
  for (const auto& t : summary.tables) {
    std::string rows = std::to_string(t.copied);
    if (t.table == "outbox") rows += " (" + std::to_string(summary.pending_notifications) + " pending)";
    table.add({t.table, rows});
  }
  table.print(std::cout);
}

void migrate(const MigrateOptions& options, const std::string& url) {
  const auto config = config::load_config(options.config_path);
  const auto path = source_path(config, options.config_path);
  const auto shown_url = redact_database_url(url);
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<storage::SqliteStore> from;
  std::unique_ptr<storage::PostgresStore> to;
  try {
    from = std::make_unique<storage::SqliteStore>(path);
  } catch (const storage::DatabaseError& e) {
    throw MigrateFailure("cannot open \"" + path + "\": " + e.what());
  }
  try {
    to = std::make_unique<storage::PostgresStore>(url, 1);
  } catch (const storage::DatabaseError& e) {
    throw MigrateFailure("cannot open " + shown_url + ": " + e.what());
  }
  storage::CopySummary summary;
  try {
    summary = storage::copy_database(*from, *to, progress_printer());
  } catch (const storage::TargetNotEmpty& e) {
    throw MigrateFailure("refused: " + shown_url + " is " + e.what() +
                         ". migrate copies into an empty database only; nothing was written");
  } catch (const storage::DatabaseError& e) {
    throw MigrateFailure("copy into " + shown_url + " failed, nothing was written: " + e.what());
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  print_summary(summary, path, shown_url, took.count());
  std::cout << "next: replace storage.path with storage.url (or url_file) in " << options.config_path
            << ", then start the replicas\n";
}

}  // namespace

int migrate_command(const MigrateOptions& options) {
  std::string url;
  try {
    url = target_url(options);
    migrate(options, url);
    return 0;
  } catch (const MigrateFailure& e) {
    // The libraries' own messages may quote what they were given.
    std::cerr << "creditwatch migrate: " << redact(e.what(), database_url_passwords(url)) << "\n";
  } catch (const storage::DatabaseError& e) {
    std::cerr << "creditwatch migrate: " << redact(e.what(), database_url_passwords(url)) << "\n";
  }
  return 1;
}

}  // namespace creditwatch::app
