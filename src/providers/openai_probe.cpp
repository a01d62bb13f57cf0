// Placeholder registration; the real reader replaces this file.
#include "builders.hpp"

namespace creditwatch::providers {

std::unique_ptr<Provider> make_openai_probe(const config::AccountConfig&, const Clock&, SettingsReader& settings) {
  settings.error("provider", "provider openai_probe is not available in this build yet");
  settings.finish();
  return nullptr;
}

}  // namespace creditwatch::providers
