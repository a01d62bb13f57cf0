#include "creditwatch/app/logging.hpp"

#include "creditwatch/common/text.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>
#include <mutex>

namespace creditwatch::app {
namespace {

std::mutex g_redactions_mutex;
std::shared_ptr<const std::vector<std::string>> g_redactions = std::make_shared<std::vector<std::string>>();

std::shared_ptr<const std::string> g_replica = std::make_shared<std::string>();

std::shared_ptr<const std::vector<std::string>> redactions() {
  std::lock_guard lock(g_redactions_mutex);
  return g_redactions;
}

std::shared_ptr<const std::string> replica() {
  std::lock_guard lock(g_redactions_mutex);
  return g_replica;
}

// Formats one line as text (through a pattern) or as a JSON object, after redaction.
class LineFormatter final : public spdlog::formatter {
public:
  LineFormatter(bool json, std::string pattern) : m_json(json), m_pattern(std::move(pattern)) {
    m_inner = std::make_unique<spdlog::pattern_formatter>(m_pattern, spdlog::pattern_time_type::utc);
  }

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string text = redact(std::string(msg.payload.data(), msg.payload.size()), *redactions());
    const auto replica_id = replica();
    if (m_json) {
      auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
      nlohmann::json line = {{"ts_ms", seconds},
                             {"level", std::string(spdlog::level::to_string_view(msg.level).data())},
                             {"msg", text}};
      if (!replica_id->empty()) line["replica"] = *replica_id;
      std::string out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      dest.append(out.data(), out.data() + out.size());
      return;
    }
    if (!replica_id->empty()) text = "[" + *replica_id + "] " + text;
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(text.data(), text.size());
    m_inner->format(copy, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(m_json, m_pattern);
  }

private:
  bool m_json;
  std::string m_pattern;
  std::unique_ptr<spdlog::pattern_formatter> m_inner;
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::get("creditwatch");
  if (!logger) {
    logger = spdlog::stderr_logger_mt("creditwatch");
    spdlog::set_default_logger(logger);
  }
  const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  const std::string pattern = journald ? "%l: %v" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v";
  logger->set_formatter(std::make_unique<LineFormatter>(format == "json", pattern));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
}

void set_log_redactions(std::vector<std::string> secrets) {
  auto next = std::make_shared<const std::vector<std::string>>(std::move(secrets));
  std::lock_guard lock(g_redactions_mutex);
  g_redactions = std::move(next);
}

void set_log_replica(std::string replica_id) {
  auto next = std::make_shared<const std::string>(std::move(replica_id));
  std::lock_guard lock(g_redactions_mutex);
  g_replica = std::move(next);
}

}  // namespace creditwatch::app
