#pragma once

#include <string>

namespace creditwatch::app {

// Sends spdlog to stderr in `format` ("text" or "json") at `level`. Under journald
// (JOURNAL_STREAM set) text lines carry no timestamp, since the journal adds its own.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace creditwatch::app
