#pragma once

// Captures what spdlog logs while alive, for tests of what is (and is never) logged: the
// default logger is swapped for one writing to a string, at every level, and put back on
// destruction. Tests that use it link spdlog (the unit_tests target does).
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

namespace creditwatch::testing {

class LogCapture {
public:
  LogCapture() : m_previous(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(m_stream));
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("[%l] %v");
    spdlog::set_default_logger(std::move(logger));
  }
  ~LogCapture() { spdlog::set_default_logger(m_previous); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Everything logged so far; call once the threads that log are done.
  std::string text() const { return m_stream.str(); }

private:
  std::ostringstream m_stream;
  std::shared_ptr<spdlog::logger> m_previous;
};

}  // namespace creditwatch::testing
