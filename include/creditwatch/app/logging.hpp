#pragma once

#include <string>
#include <vector>

namespace creditwatch::app {

// Sends spdlog to stderr in `format` ("text" or "json") at `level`. Under journald
// (JOURNAL_STREAM set) text lines carry no timestamp, since the journal adds its own.
void setup_logging(const std::string& level, const std::string& format);

// Every log line is scrubbed of these strings (API keys, webhook URLs, passwords) before
// it is written: a last line of defence behind code that never logs them on purpose.
void set_log_redactions(std::vector<std::string> secrets);

// Replicas: every line names the replica that wrote it ("[ID] " before a text line, a
// "replica" field in JSON), so the logs of a cluster can be read side by side. Empty: none.
void set_log_replica(std::string replica_id);

}  // namespace creditwatch::app
