#include "creditwatch/scheduler/digest_sender.hpp"

#include "creditwatch/notify/notification.hpp"
#include "creditwatch/scheduler/digest_builder.hpp"
#include "creditwatch/scheduler/digest_schedule.hpp"

#include <spdlog/spdlog.h>

namespace creditwatch::scheduler {
namespace {

constexpr Duration k_retry_after_failure = std::chrono::minutes(1);

}  // namespace

std::optional<TimePoint> DigestSender::pending_slot(const config::DigestConfig& digest, TimePoint now) const {
  const TimePoint slot = last_digest_at(digest, now);
  if (now - slot >= std::min(k_digest_catch_up, digest.every)) return std::nullopt;
  std::lock_guard lock(m_mutex);
  if (now < m_not_before || (m_done && *m_done >= slot)) return std::nullopt;
  return slot;
}

bool DigestSender::due(const std::optional<config::DigestConfig>& digest) const {
  return digest && pending_slot(*digest, m_clock.now()).has_value();
}

std::size_t DigestSender::send_due(const config::Config& config, Assessor& assessor) {
  if (!config.digest) return 0;
  const auto slot = pending_slot(*config.digest, m_clock.now());
  if (!slot) return 0;
  try {
    const auto queued = queue(build_digest(m_store, assessor, config, *slot), config.digest->notify);
    std::lock_guard lock(m_mutex);
    m_done = *slot;
    return queued;
  } catch (const std::exception& e) {
    spdlog::error("digest: {}", e.what());
    std::lock_guard lock(m_mutex);
    m_not_before = m_clock.now() + k_retry_after_failure;
    return 0;
  }
}

std::size_t DigestSender::queue(const notify::Digest& digest, const std::vector<std::string>& notifiers) {
  const TimePoint now = m_clock.now();
  const std::string payload = notify::json_text(notify::to_json(digest));
  std::size_t queued = 0;
  for (const auto& notifier : notifiers) {
    storage::OutboxRow row;
    row.created = now;
    row.notifier = notifier;
    row.dedup_key = digest.dedup_key();
    row.payload_json = payload;
    row.next_attempt = now;
    if (m_store.enqueue_once(row)) ++queued;
  }
  if (queued > 0) spdlog::info("digest {}: queued for {} notifiers", digest.dedup_key(), queued);
  return queued;
}

}  // namespace creditwatch::scheduler
