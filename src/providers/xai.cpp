// Placeholder registration; the real reader replaces this file.
#include "builders.hpp"

namespace creditwatch::providers {

std::unique_ptr<Provider> make_xai(const config::AccountConfig&, const Clock&, SettingsReader& settings) {
  settings.error("provider", "provider xai is not available in this build yet");
  settings.finish();
  return nullptr;
}

}  // namespace creditwatch::providers
