#pragma once

#include "creditwatch/config/config.hpp"
#include "creditwatch/providers/provider.hpp"

#include <memory>
#include <string>
#include <vector>

namespace creditwatch::providers {

// What `creditwatch providers` lists for each provider.
struct ProviderInfo {
  std::string name;
  std::string reads;         // "balance", "spend", "balance+spend", "liveness"
  std::string endpoint;
  std::vector<std::string> keys;  // provider-specific config keys
};

const std::vector<ProviderInfo>& provider_table();

// Providers users ask for that are deliberately not built in, and why (a balance endpoint no
// vendor documentation confirms is not guessed at): named by `creditwatch providers` and by the
// error for an account that uses one, which points to http_json.
struct LeftOutProvider {
  std::string name;
  std::string reason;
};
const std::vector<LeftOutProvider>& left_out_providers();

// Builds the provider for an account. Problems with provider-specific keys are appended
// to `errors` with their location, and nullptr is returned.
std::unique_ptr<Provider> make_provider(const config::AccountConfig& account, const Clock& clock,
                                        std::vector<config::ConfigError>& errors);

}  // namespace creditwatch::providers
