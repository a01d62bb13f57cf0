#pragma once

#include "creditwatch/providers/provider.hpp"
#include "creditwatch/providers/settings_reader.hpp"

#include <memory>

namespace creditwatch::providers {

// One builder per provider file; the table in factory.cpp maps names to these.
// Each reads its own settings through `settings` and returns nullptr on a config error.
std::unique_ptr<Provider> make_deepseek(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_simulated(const config::AccountConfig& account, const Clock& clock,
                                         SettingsReader& settings);

std::unique_ptr<Provider> make_openrouter(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_moonshot(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_siliconflow(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_novita(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_xai(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_venice(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_deepinfra(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_twilio(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_vonage(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_http_json(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_openai_probe(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_openai_costs(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_anthropic_costs(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);
std::unique_ptr<Provider> make_oneapi(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_telnyx(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_serpapi(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_stepfun(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_plivo(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_zhipu_plan(const config::AccountConfig& account, const Clock& clock,
                                          SettingsReader& settings);
std::unique_ptr<Provider> make_minimax_plan(const config::AccountConfig& account, const Clock& clock,
                                            SettingsReader& settings);
std::unique_ptr<Provider> make_zenmux(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_litellm(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_aimlapi(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_vercel_gateway(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_fal(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_cloudflare_gateway(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_stability(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_alibaba(const config::AccountConfig& account, const Clock& clock,
                                       SettingsReader& settings);
std::unique_ptr<Provider> make_volcengine(const config::AccountConfig& account, const Clock& clock,
                                          SettingsReader& settings);
std::unique_ptr<Provider> make_baidu(const config::AccountConfig& account, const Clock& clock,
                                     SettingsReader& settings);
std::unique_ptr<Provider> make_brightdata(const config::AccountConfig& account, const Clock& clock,
                                         SettingsReader& settings);
std::unique_ptr<Provider> make_messagebird(const config::AccountConfig& account, const Clock& clock,
                                           SettingsReader& settings);
std::unique_ptr<Provider> make_textmagic(const config::AccountConfig& account, const Clock& clock,
                                         SettingsReader& settings);
std::unique_ptr<Provider> make_clicksend(const config::AccountConfig& account, const Clock& clock,
                                         SettingsReader& settings);
std::unique_ptr<Provider> make_scraperapi(const config::AccountConfig& account, const Clock& clock,
                                          SettingsReader& settings);
std::unique_ptr<Provider> make_digitalocean(const config::AccountConfig& account, const Clock& clock,
                                            SettingsReader& settings);
std::unique_ptr<Provider> make_elevenlabs(const config::AccountConfig& account, const Clock& clock,
                                          SettingsReader& settings);
std::unique_ptr<Provider> make_deepgram(const config::AccountConfig& account, const Clock& clock,
                                        SettingsReader& settings);

}  // namespace creditwatch::providers
