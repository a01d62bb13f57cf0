// The minimal valid account of every provider, for fuzz_providers and for the unit test that
// keeps this table whole: a provider added without its entry here fails that test in the
// normal suite instead of aborting the fuzz run at the end of CI.
#pragma once

#include "creditwatch/providers/factory.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace creditwatch::fuzz {

inline config::AccountConfig fuzz_account(const std::string& provider,
                                          const std::map<std::string, std::string>& settings) {
  config::AccountConfig a;
  a.name = "fuzz";
  a.provider = provider;
  a.api_key = Secret("sk-fuzz-key-0123456789");
  a.base_url = "http://127.0.0.1:9";
  a.where = {"fuzz.yaml", 1, 1};
  for (const auto& [k, v] : settings) {
    config::Setting s;
    s.value = v;
    s.where = {"fuzz.yaml", 2, 1};
    a.settings[k] = s;
  }
  return a;
}

// The settings a provider cannot be built without, beyond api_key and base_url.
inline const std::map<std::string, std::map<std::string, std::string>>& fuzz_extra_settings() {
  static const std::map<std::string, std::map<std::string, std::string>> extra = {
      {"xai", {{"team_id", "team-1"}}},
      {"twilio", {{"account_sid", "AC0123"}}},
      {"vonage", {{"api_secret", "secret-1"}}},
      {"plivo", {{"auth_id", "MA0123456789"}}},
      {"alibaba", {{"access_key_id", "LTAI0123456789"}}},
      {"volcengine", {{"access_key_id", "AKLT0123456789"}}},
      {"baidu", {{"access_key_id", "ALTAK0123456789"}}},
      {"http_json",
       {{"url", "http://127.0.0.1:9/balance"}, {"balance_pointer", "/data/0/balance"},
        {"currency_pointer", "/data/0/currency"}, {"spend_pointer", "/spend"}, {"ok_pointer", "/ok"}, {"ok_value", "true"}}},
      {"openai_probe", {{"model", "m"}}},
      {"openai_costs", {{"credit", "100"}, {"budget_start", "2026-05-01"}}},
      {"anthropic_costs", {{"budget", "100"}, {"budget_start", "2026-05-01"}}},
      {"openrouter", {{"key_limit", "true"}}},
      {"cloudflare_gateway", {{"account_id", "0123456789abcdef0123456789abcdef"}}},
      {"textmagic", {{"username", "fuzzuser"}}},
      {"clicksend", {{"username", "fuzzuser"}}},
  };
  return extra;
}

// One provider of every kind but the simulator; a kind whose account is not valid comes back
// as nullptr with its errors in `errors`.
inline std::vector<std::unique_ptr<providers::Provider>> build_every_provider(const Clock& clock,
                                                                             std::vector<config::ConfigError>& errors) {
  std::vector<std::unique_ptr<providers::Provider>> out;
  for (const auto& info : providers::provider_table()) {
    if (info.name == "simulated") continue;
    auto it = fuzz_extra_settings().find(info.name);
    out.push_back(providers::make_provider(
        fuzz_account(info.name, it == fuzz_extra_settings().end() ? std::map<std::string, std::string>{} : it->second),
        clock, errors));
  }
  return out;
}

}  // namespace creditwatch::fuzz
