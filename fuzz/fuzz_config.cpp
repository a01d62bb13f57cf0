// The config loader on arbitrary YAML: it either returns a Config or throws ConfigErrors
// whose every entry names a line and column; any other outcome is a bug. The loader reads
// files, so each input goes through one temp file.
#include "creditwatch/config/config.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

const std::string& scratch_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/creditwatch-fuzz-config-" + std::to_string(::getpid()) + ".yaml";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream out(scratch_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    (void)creditwatch::config::load_config(scratch_path());
  } catch (const creditwatch::config::ConfigErrors& e) {
    if (e.errors().empty()) std::abort();
    for (const auto& error : e.errors()) {
      if (error.where.line < 1 || error.where.column < 1 || error.message.empty()) std::abort();
    }
  }
  return 0;
}
