#include "creditwatch/app/commands.hpp"
#include "creditwatch/app/store_location.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/notify/notification.hpp"
#include "creditwatch/scheduler/digest_builder.hpp"
#include "creditwatch/scheduler/runtime.hpp"

#include <iostream>

namespace creditwatch::app {
namespace {

int print(const notify::Digest& digest, bool json) {
  if (json) {
    std::cout << notify::to_json(digest).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << notify::digest_text(digest);
  }
  return 0;
}

// Straight to the sinks, not through the outbox: the operator is watching and wants each
// sink's answer now, as with test-notify.
int send(const notify::Digest& digest, const scheduler::Runtime& runtime) {
  http::CurlClient client;
  int failures = 0;
  for (const auto& name : runtime.config.digest->notify) {
    const auto result = runtime.notifiers.at(name)->send_digest(digest, client);
    const std::string answer = redact(result.message, runtime.config.secrets());
    std::cout << name << ": " << notify::to_string(result.outcome) << (answer.empty() ? "" : " (" + answer + ")") << "\n";
    if (result.outcome != notify::DeliveryResult::Outcome::delivered) ++failures;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int digest_command(const DigestOptions& options) {
  SystemClock clock;
  // A dry run needs only the config and the database, like `status`: it must work where a
  // notifier's secret is not readable.
  std::shared_ptr<scheduler::Runtime> runtime;
  config::Config config;
  if (options.dry_run) {
    config = config::load_config(options.config_path);
  } else {
    runtime = scheduler::load_runtime(options.config_path, clock);
    config = runtime->config;
    if (!config.digest) {
      std::cerr << "creditwatch: " << options.config_path
                << " has no digest: section, so there is nobody to send it to (see creditwatch.example.yaml)\n";
      return 1;
    }
  }
  if (!config.digest) config.digest.emplace();  // a dry run without `digest:` shows the default week
  const auto opened = storage::open_store(store_location(config.storage));
  scheduler::Assessor assessor(*opened, clock);
  const auto digest = scheduler::build_digest(*opened, assessor, config, clock.now());
  return options.dry_run ? print(digest, options.json) : send(digest, *runtime);
}

}  // namespace creditwatch::app
