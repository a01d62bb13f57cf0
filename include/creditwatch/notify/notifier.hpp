#pragma once

#include "creditwatch/http/http_client.hpp"
#include "creditwatch/notify/digest.hpp"
#include "creditwatch/notify/notification.hpp"

#include <optional>
#include <string>
#include <vector>

namespace creditwatch::notify {

// What a sink said. `retry` covers transport failures, 429 and 5xx; `permanent` is a
// rejection that retrying cannot fix (a 400 invalid_payload, a revoked webhook).
struct DeliveryResult {
  enum class Outcome { delivered, retry, permanent };
  Outcome outcome = Outcome::delivered;
  std::string message;  // the sink's answer, free of credentials
  long http_status = 0;
  // With `retry`: wait at least this long before retrying. With `delivered`: the sink's
  // budget is spent, so the next message to it waits this long (Discord's rate-limit headers).
  std::optional<Duration> retry_after;
};

const char* to_string(DeliveryResult::Outcome outcome);

// One sink. deliver() is called from that notifier's own outbox thread only.
class Notifier {
public:
  virtual ~Notifier() = default;
  virtual DeliveryResult deliver(const Notification& notification, http::Client& client) = 0;
  // Sends the periodic report (`digest:`). By default its plain text (digest_text) through
  // deliver_text(); sinks with a richer format (Slack blocks, an HTML email, webhook JSON)
  // override it. Called from the notifier's outbox thread, as deliver().
  virtual DeliveryResult send_digest(const Digest& digest, http::Client& client) {
    return deliver_text(digest_title(digest), digest_text(digest), client);
  }
  // Sends a titled plain-text message through the sink's usual text path. Sinks that open
  // incidents (PagerDuty, Opsgenie, Alertmanager) keep this default: config load refuses them
  // in digest.notify, so it only answers a digest queued before a reload changed the type.
  virtual DeliveryResult deliver_text(const std::string& /*title*/, const std::string& /*text*/, http::Client&) {
    return {DeliveryResult::Outcome::permanent, "this notifier does not take digests", 0, std::nullopt};
  }
  // The smallest gap between two messages the sink accepts (Slack: 1 s per webhook).
  virtual Duration min_interval() const { return Duration(0); }
  // For sinks that hold alert state and expire what is not refreshed (Alertmanager): while
  // an alert routed here fires, the AlertEngine re-queues it this often, and a new
  // notification replaces the sink's older pending ones of the same alert (only the latest
  // state matters). nullopt: notify on lifecycle steps only.
  virtual std::optional<Duration> refresh_interval() const { return std::nullopt; }
  // For sinks that keep an always-firing alert as a dead man's switch (Alertmanager's
  // `watchdog: true`): how often the heartbeat thread posts it while creditwatch is healthy.
  // nullopt: no watchdog.
  virtual std::optional<Duration> watchdog_interval() const { return std::nullopt; }
  // Posts the watchdog alert once. Called from the heartbeat thread (notify/heartbeats.hpp),
  // concurrently with deliver(), so it must not touch what deliver() changes.
  virtual DeliveryResult post_watchdog(http::Client&) {
    return {DeliveryResult::Outcome::permanent, "this notifier has no watchdog", 0, std::nullopt};
  }
};

// The usual meaning of an HTTP answer for a JSON webhook: 2xx delivered; 408, 429 and 5xx
// retry (429 with Retry-After); other 4xx permanent; transport failures retry. Each of
// `secrets` is masked in the whole answer before it is cut to length, so no part of a secret
// that straddles the cut survives in the message.
DeliveryResult classify_http(const http::Outcome& outcome, const std::vector<std::string>& secrets = {});

}  // namespace creditwatch::notify
