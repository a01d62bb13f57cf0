#include "creditwatch/app/commands.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/scheduler/assessment.hpp"
#include "creditwatch/scheduler/assessment_json.hpp"
#include "creditwatch/scheduler/forecast_record.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/app/store_location.hpp"
#include "creditwatch/storage/store.hpp"

#include "table.hpp"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>

namespace creditwatch::app {
namespace {

constexpr std::size_t k_max_parallel_probes = 8;

std::string detail_of(const scheduler::Assessment& a) {
  if (a.error) return std::string(providers::to_string(a.error->kind)) + ": " + a.error->message;
  std::string out;
  for (const auto& f : a.findings) {
    if (f.firing) out += (out.empty() ? "" : "; ") + std::string(alerts::to_string(f.rule)) + ": " + f.summary;
  }
  if (out.empty() && a.forecast) out = a.forecast->note;
  return out;
}

void print_table(const std::vector<scheduler::Assessment>& results) {
  Table table(
      {"ACCOUNT", "PROVIDER", "BALANCE", "CURRENCY", "BURN/DAY", "RUNWAY(d)", "P10(d)", "P10 HIT", "TOP-UP", "STATE",
       "DETAIL"});
  for (const auto& a : results) {
    const auto& f = a.forecast;
    table.add({a.account, a.provider, f ? f->balance.to_string() : "-", a.currency.empty() ? "-" : a.currency,
               f ? format_rate(f->burn_per_day) : "-", f ? format_days(f->runway_days) : "-",
               f ? format_days(f->runway_p10_days) : "-",
               scheduler::describe_p10_hits(f ? f->track_record : std::nullopt),
               f && f->recommended_topup > Decimal() ? f->recommended_topup.to_string() : "-",
               scheduler::to_string(a.state), detail_of(a)});
  }
  table.print(std::cout);
}

// Probes accounts in parallel with a few threads, each with its own HTTP client.
std::vector<scheduler::Assessment> probe_all(scheduler::Runtime& runtime,
                                             const std::vector<const config::AccountConfig*>& accounts,
                                             scheduler::Assessor& assessor) {
  std::vector<scheduler::Assessment> results(accounts.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    http::CurlClient client;
    const std::map<alerts::Rule, alerts::Severity> no_history;
    for (std::size_t i = next++; i < accounts.size(); i = next++) {
      const auto& account = *accounts[i];
      results[i] = assessor.probe(account, *runtime.providers.at(account.name), client, no_history);
    }
  };
  // The calling thread probes too: a one-account check (a cron or Nagios run) then starts
  // no thread and pays no hand-off, which on a busy host costs more than the request.
  std::vector<std::jthread> threads;
  for (std::size_t t = 1; t < std::min(k_max_parallel_probes, accounts.size()); ++t) threads.emplace_back(worker);
  worker();
  threads.clear();  // joins
  return results;
}

}  // namespace

int check_command(const CheckOptions& options) {
  SystemClock clock;
  auto runtime = scheduler::load_runtime(options.config_path, clock);
  std::vector<const config::AccountConfig*> accounts;
  for (const auto& a : runtime->config.accounts) {
    if (options.account.empty() || a.name == options.account) accounts.push_back(&a);
  }
  if (accounts.empty()) {
    std::cerr << "creditwatch: no account named \"" << options.account << "\" in " << options.config_path << "\n";
    return static_cast<int>(scheduler::CheckState::unknown);
  }
  const auto store = storage::open_store(store_location(runtime->config.storage));
  store->set_max_size(runtime->config.storage.max_size);
  scheduler::Assessor assessor(*store, clock);
  auto results = probe_all(*runtime, accounts, assessor);

  scheduler::CheckState worst = scheduler::CheckState::ok;
  for (const auto& a : results) worst = scheduler::worse(worst, a.state);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : results) out.push_back(scheduler::to_json(a));
    // Replace rather than throw: whatever bytes a provider sent, the report is printed.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    print_table(results);
  }
  return static_cast<int>(worst);
}

}  // namespace creditwatch::app
