#include "creditwatch/app/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace creditwatch::app {

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("creditwatch");
  spdlog::set_default_logger(logger);
  const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  if (format == "json") {
    // Messages are built by our code and never contain raw quotes from outside unescaped
    // beyond what %v carries; consumers treat `msg` as text.
    spdlog::set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})", spdlog::pattern_time_type::utc);
  } else if (journald) {
    spdlog::set_pattern("%l: %v");
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace creditwatch::app
