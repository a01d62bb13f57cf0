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

}  // namespace creditwatch::providers
