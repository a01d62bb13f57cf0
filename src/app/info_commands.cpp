#include "creditwatch/app/commands.hpp"
#include "creditwatch/config/warnings.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/providers/factory.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/version.hpp"

#include "table.hpp"

#include <iostream>

namespace creditwatch::app {

int validate_command(const std::string& config_path) {
  SystemClock clock;
  try {
    auto runtime = scheduler::load_runtime(config_path, clock);
    for (const auto& warning : config::config_warnings(runtime->config)) std::cerr << warning.to_string() << "\n";
    std::cout << config_path << ": OK (" << runtime->config.accounts.size() << " accounts, "
              << runtime->config.notifiers.size() << " notifiers)\n";
    return 0;
  } catch (const config::ConfigErrors& e) {
    for (const auto& error : e.errors()) std::cerr << error.to_string() << "\n";
    return 1;
  }
}

int providers_command() {
  Table table({"PROVIDER", "READS", "ENDPOINT", "KEYS"});
  for (const auto& p : providers::provider_table()) {
    std::string keys;
    for (const auto& k : p.keys) keys += (keys.empty() ? "" : ", ") + k;
    table.add({p.name, p.reads, p.endpoint, keys.empty() ? "-" : keys});
  }
  table.print(std::cout);
  std::cout << "\nNot built in (use http_json):\n";
  for (const auto& p : providers::left_out_providers()) std::cout << "  " << p.name << ": " << p.reason << "\n";
  return 0;
}

int version_command() {
  std::cout << "creditwatch " << k_version << "\n"
            << "libcurl " << http::curl_version_text() << "\n"
            << "SQLite " << storage::sqlite_version_text() << "\n";
  return 0;
}

}  // namespace creditwatch::app
