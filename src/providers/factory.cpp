#include "creditwatch/providers/factory.hpp"

#include "builders.hpp"

#include "creditwatch/common/text.hpp"

#include <functional>

namespace creditwatch::providers {
namespace {

using Builder = std::function<std::unique_ptr<Provider>(const config::AccountConfig&, const Clock&, SettingsReader&)>;

struct Entry {
  ProviderInfo info;
  Builder build;
};

// The one list of providers: add a row here and a file beside this one.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {{"deepseek", "balance", "GET {base}/user/balance (base https://api.deepseek.com)", {}}, make_deepseek},
      {{"simulated", "balance", "nothing on the network: a synthetic declining balance",
        {"start", "spend_per_day", "noise", "weekly_pattern", "topup_every", "topup_amount"}},
       make_simulated},
  };
  return table;
}

}  // namespace

const std::vector<ProviderInfo>& provider_table() {
  static const std::vector<ProviderInfo> infos = [] {
    std::vector<ProviderInfo> out;
    for (const auto& e : entries()) out.push_back(e.info);
    return out;
  }();
  return infos;
}

std::unique_ptr<Provider> make_provider(const config::AccountConfig& account, const Clock& clock,
                                        std::vector<config::ConfigError>& errors) {
  for (const auto& e : entries()) {
    if (e.info.name != account.provider) continue;
    SettingsReader settings(account, errors);
    return e.build(account, clock, settings);
  }
  std::vector<std::string> names;
  for (const auto& e : entries()) names.push_back(e.info.name);
  std::string message = "unknown provider \"" + account.provider + "\"";
  if (auto hint = closest_match(account.provider, names)) message += " (did you mean \"" + *hint + "\"?)";
  errors.push_back({account.where, message});
  return nullptr;
}

}  // namespace creditwatch::providers
