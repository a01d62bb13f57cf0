#pragma once

#include "creditwatch/scheduler/runtime.hpp"

namespace creditwatch::app {

// A validated config with its providers and notifiers built (see scheduler::load_runtime).
using LoadedConfig = scheduler::Runtime;

inline LoadedConfig load_validated_config(const std::string& path, const Clock& clock) {
  return std::move(*scheduler::load_runtime(path, clock));
}

}  // namespace creditwatch::app
